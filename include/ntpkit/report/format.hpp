#pragma once

// Text forms of NTP values shared by every formatter.

#include <string>
#include <string_view>

#include "ntpkit/export.hpp"
#include "ntpkit/proto/packet.hpp"
#include "ntpkit/proto/refid.hpp"
#include "ntpkit/proto/timestamp.hpp"

namespace ntpkit::report {

/// `s` safe to print: every byte that is not printable ASCII (and the backslash) as \xNN, so
/// that a name or a line from outside cannot drive the terminal it is printed on.
NTPKIT_API std::string printable(std::string_view s);

/// printable() for a message that may already hold printable() text: the backslash is left as
/// it is, every other byte that is not printable ASCII becomes \xNN.
NTPKIT_API std::string terminal_safe(std::string_view s);

/// ntpq's raw form of a timestamp: "0xe5f663a8.761dde48".
NTPKIT_API std::string ntp_hex(proto::timestamp ts);

/// ISO 8601 UTC with `decimals` fractional digits (0..9, truncated): "2026-11-26T04:00:00.123Z".
NTPKIT_API std::string iso8601(proto::sys_nanoseconds t, int decimals = 9);

/// A signed number of seconds with `decimals` digits and an explicit sign: "+0.000012345".
NTPKIT_API std::string signed_seconds(double s, int decimals = 9);

/// An unsigned-style number of seconds with `decimals` digits ("0.000031250"); negatives keep
/// their sign.
NTPKIT_API std::string seconds(double s, int decimals = 9);

/// "none", "add_second", "del_second" or "unsynchronised".
NTPKIT_API std::string_view leap_name(proto::leap_indicator l) noexcept;

/// "client", "server", "symmetric_active", ...
NTPKIT_API std::string_view mode_name(proto::association_mode m) noexcept;

/// "none", "kiss_code", "reference_source", "ipv4" or "ipv6_hash".
NTPKIT_API std::string_view refid_kind_name(proto::refid_kind kind) noexcept;

/// The reference id's raw form: "0x7f7f0101".
NTPKIT_API std::string refid_hex(const std::array<std::uint8_t, 4>& refid);

}  // namespace ntpkit::report
