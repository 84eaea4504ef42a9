#pragma once

// Every exit status the binaries use, named once (DESIGN.md "Conventions").

namespace ntpkit::apps::exit_code {

// Outside plugin mode.
inline constexpr int ok = 0;      ///< every target answered and passed
inline constexpr int failed = 1;  ///< at least one target failed
inline constexpr int usage = 2;   ///< bad flag, host syntax, unreadable key file, ...

// Plugin mode (Nagios/Icinga).
inline constexpr int plugin_ok = 0;
inline constexpr int plugin_warning = 1;
inline constexpr int plugin_critical = 2;
inline constexpr int plugin_unknown = 3;

}  // namespace ntpkit::apps::exit_code
