#pragma once

// The words for the model's typed outcomes: every error message any writer prints is composed
// here, from the error's cause and facts and from what the address saw (DESIGN.md: what
// failed is always named).

#include <string>
#include <string_view>

#include "ntpkit/export.hpp"
#include "ntpkit/model/ntp.hpp"
#include "ntpkit/model/run.hpp"

namespace ntpkit::report {

/// One line for `e` alone ("no reply within 2 s", "server refuses us: kiss-o'-death DENY
/// (access denied); no further requests sent", ...). `where` is the address label the error
/// happened at (for "nothing listens on ..."); empty when unknown.
NTPKIT_API std::string error_text(const model::error_info& e, std::string_view where = {});

/// "2 origin, 1 mac": ignored datagrams as the messages list them.
NTPKIT_API std::string ignored_text(const proto::ignore_counts& ignored);

/// The message of a failed NTP address: error_text plus what helps to act on it (the key a
/// silent server may not know, the datagrams ignored); empty when it did not fail.
NTPKIT_API std::string address_error_text(const model::ntp_address& a);

/// The message of a failed target (resolve error, nothing heard), with ignored datagrams.
NTPKIT_API std::string target_error_text(const model::ntp_target& t);

}  // namespace ntpkit::report
