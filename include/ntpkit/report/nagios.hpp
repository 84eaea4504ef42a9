#pragma once

// Monitoring-plugin output (Nagios, Icinga, Naemon): threshold ranges in the monitoring-plugins
// syntax, a state per server and overall, and one status line with performance data.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/report/sample.hpp"
#include "ntpkit/result.hpp"

namespace ntpkit::report {

/// A threshold range as the monitoring-plugins guidelines define it: `[@][START:][END]`.
/// `10` = 0..10, `10:` = 10..inf, `~:10` = -inf..10, `10:20`, and `@10:20` alerts *inside*.
struct nagios_range {
  double start = 0;
  bool start_infinite = false;  ///< `~` as start
  double end = 0;
  bool end_infinite = false;    ///< nothing after the colon
  bool inside = false;          ///< `@`: alert when the value is inside the range
  std::string text;             ///< as written, for perfdata
  /// True when `value` raises the alert this range stands for.
  NTPKIT_API bool alerts(double value) const noexcept;
};

/// Parses a range. Errors: std::errc::invalid_argument (syntax, start > end).
NTPKIT_API result<nagios_range> parse_nagios_range(std::string_view text);

/// Plugin states and their exit codes.
enum class plugin_state { ok = 0, warning = 1, critical = 2, unknown = 3 };

/// "OK", "WARNING", "CRITICAL", "UNKNOWN".
NTPKIT_API std::string_view plugin_state_name(plugin_state s) noexcept;

/// The ranges for one metric.
struct thresholds {
  std::optional<nagios_range> warning;
  std::optional<nagios_range> critical;
};

/// What makes a server OK, WARNING or CRITICAL.
struct plugin_policy {
  thresholds offset;         ///< on |offset| in seconds, as check_ntp_time does
  thresholds delay;          ///< round-trip delay, seconds
  thresholds jitter;         ///< offset jitter over the samples, seconds
  thresholds stratum;
  thresholds root_distance;  ///< seconds
  thresholds processing;     ///< server processing time T3 - T2, seconds
  std::vector<std::string> expect_refid;  ///< CRITICAL unless the refid is one of these
  bool leap_ok = false;            ///< a pending leap second is not a WARNING
  bool no_reply_critical = false;  ///< no reply is CRITICAL instead of UNKNOWN
  std::size_t min_ok = 0;          ///< at least this many addresses must be OK (0: all)
  /// Seconds added to each measured offset before it is judged and reported, the expected
  /// offset of the server (check_ntp_time -o).
  double time_offset_s = 0;
};

/// The plugin's verdict: its state and the full output line (status, then `|` perfdata).
struct plugin_output {
  plugin_state state = plugin_state::unknown;
  std::string line;
};

/// Judges every address of every target and combines them: the worst state wins, or with
/// `min_ok` the number of OK addresses decides.
NTPKIT_API plugin_output evaluate_plugin(const probe_report& r, const plugin_policy& policy);

/// True when `refid` of a reply at `stratum` is what `expected` names: its text (GPS,
/// 192.0.2.1, case-insensitive), its raw hex (0x7f7f0101), or an IPv6 address whose hash it is.
NTPKIT_API bool refid_matches(const std::array<std::uint8_t, 4>& refid, std::uint8_t stratum,
                              std::string_view expected);

}  // namespace ntpkit::report
