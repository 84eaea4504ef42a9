#pragma once

// Every exit status the binaries use, named once (DESIGN.md "Conventions"), and the two rules
// that derive one: a run's outcome outside plugin mode, a plugin state inside it.

#include "ntpkit/report/plugin.hpp"

namespace ntpkit::apps::exit_code {

// Outside plugin mode.
inline constexpr int ok = 0;           ///< every target answered and passed
inline constexpr int failed = 1;       ///< at least one target failed
inline constexpr int usage = 2;        ///< bad flag, host syntax, unreadable key file, ...
inline constexpr int write_error = 2;  ///< the results could not be written (stdout)
inline constexpr int interrupted = 130;  ///< stopped by SIGINT or SIGTERM (128 + SIGINT)

// Plugin mode (Nagios/Icinga).
inline constexpr int plugin_ok = 0;
inline constexpr int plugin_warning = 1;
inline constexpr int plugin_critical = 2;
inline constexpr int plugin_unknown = 3;

/// The exit status of a run outside plugin mode.
constexpr int of_run(bool all_ok) noexcept { return all_ok ? ok : failed; }

/// The exit status of a plugin state.
constexpr int of_plugin(report::plugin_state s) noexcept {
  switch (s) {
    case report::plugin_state::ok: return plugin_ok;
    case report::plugin_state::warning: return plugin_warning;
    case report::plugin_state::critical: return plugin_critical;
    case report::plugin_state::unknown: return plugin_unknown;
  }
  return plugin_unknown;
}

/// A usage problem or a failed write: 2, or UNKNOWN (3) in plugin mode.
constexpr int of_problem(bool plugin) noexcept { return plugin ? plugin_unknown : usage; }

}  // namespace ntpkit::apps::exit_code
