#pragma once

// The binaries never touch the clock: before any network I/O they install a seccomp filter
// that makes every clock-setting system call fail with EPERM.

#include <system_error>

namespace ntpkit::apps {

/// Installs the filter for this process and its future threads and children: settimeofday,
/// clock_settime, adjtimex and clock_adjtime (and so adjtime and ntp_adjtime) fail with EPERM,
/// and so does every x32-ABI call on x86_64, whose numbers would otherwise slip past the list.
/// Returns the error when the kernel refuses the filter.
std::error_code forbid_clock_changes() noexcept;

}  // namespace ntpkit::apps
