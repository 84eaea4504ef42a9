#pragma once

// Human-readable output: one line per address, or a detailed block per address (verbose).

#include <string>

#include "ntpkit/export.hpp"
#include "ntpkit/model/ntp.hpp"

namespace ntpkit::report {

/// Lines for one target: one per address (or one for a resolve error); with `verbose`, a
/// block per address with every header field, the timestamps, the checks and every sample.
NTPKIT_API std::string target_text(const model::ntp_target& t, bool verbose);

/// Every target, in order.
NTPKIT_API std::string probe_text(const model::ntp_run& r, bool verbose);

}  // namespace ntpkit::report
