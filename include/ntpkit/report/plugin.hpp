#pragma once

// The monitoring-plugin writer (Nagios, Icinga, Naemon), as an engine over rows any program
// gives it: threshold ranges in the monitoring-plugins syntax, metric rows judged against them,
// items (one per address, say) with a state and problems, their states combined, and one
// status line with performance data.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ntpkit/export.hpp"
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

/// Plugin states; their values are the exit codes.
enum class plugin_state { ok = 0, warning = 1, critical = 2, unknown = 3 };

/// "OK", "WARNING", "CRITICAL", "UNKNOWN".
NTPKIT_API std::string_view plugin_state_name(plugin_state s) noexcept;

/// The worse of two states: CRITICAL > WARNING > UNKNOWN > OK, as the monitoring-plugins
/// combine them.
NTPKIT_API plugin_state worse(plugin_state a, plugin_state b) noexcept;

/// The ranges for one metric.
struct thresholds {
  std::optional<nagios_range> warning;
  std::optional<nagios_range> critical;
};

/// One metric of an item: its perfdata and the value its thresholds judge.
struct metric_row {
  std::string label;      ///< perfdata label ("offset")
  double value = 0;       ///< as reported (the signed offset)
  double judged = 0;      ///< what the thresholds see (|offset|)
  std::string judged_name;  ///< how problems name `judged` ("|offset|"); empty: the label
  thresholds limits;
  std::string unit;       ///< "s", "" ...
  std::string min, max;   ///< perfdata min and max, empty when open
  int decimals = 9;       ///< digits after the point in text and perfdata
};

/// Something judged as a whole (one server address): where it is, its state, what it
/// measured in a few words, what was wrong, and its metrics.
struct plugin_item {
  std::string where;                  ///< "ntp1 [2001:db8::1]:123"
  std::string label_prefix;           ///< prepended to its perfdata labels ("" for one item)
  plugin_state state = plugin_state::ok;
  std::string summary;                ///< "offset +0.000012 s, delay ..." or an error
  std::vector<std::string> problems;  ///< "stratum 3 outside critical range 1:2"
  std::vector<metric_row> metrics;
  /// Ranks items of the same state (larger is worse): when every item is OK, the status line
  /// shows the figures of the one with the largest (ntpprobe: |offset|).
  double severity = 0;
  /// Adds `row`, raising the state to CRITICAL or WARNING when its thresholds alert; the
  /// problem names the value judged and the range ("|offset| 0.5 outside warning range 0.4",
  /// "stratum 3 inside critical range @1:4").
  NTPKIT_API void judge(metric_row row);
  /// Raises the state to at least `s` because of `problem`.
  NTPKIT_API void raise(plugin_state s, std::string problem);
  /// "where summary; problem; problem".
  NTPKIT_API std::string describe() const;
};

/// How performance data is written.
enum class perfdata_style {
  full,          ///< 'label'=value[unit];warn;crit;min;max with the ranges as written
  range_end,     ///< label=value[unit];warn;crit; with only each range's end in %f, 0 when
                 ///< open: the monitoring-plugins' fperfdata() (check_ntp_time)
};

/// One perfdata entry for `row`.
NTPKIT_API std::string perfdata(const metric_row& row, std::string_view prefix,
                                perfdata_style style = perfdata_style::full);

/// The plugin's verdict: its state and the full output line (status, then `|` perfdata).
struct plugin_output {
  plugin_state state = plugin_state::unknown;
  std::string line;
};

/// How items combine into one verdict.
struct combine_options {
  std::string service = "NTP";  ///< the status line's first word
  std::string noun = "servers"; ///< "2 of 3 servers OK"
  /// 0: the worst state wins. N: OK when N items are OK, WARNING when N are OK or WARNING,
  /// else CRITICAL.
  std::size_t min_ok = 0;
  perfdata_style style = perfdata_style::full;
};

/// Combines `items` into the status line: the state (no item: UNKNOWN), one item's
/// description, or a count with every item that is not OK (when all are OK, the one of
/// largest severity, as "worst ..."), then the perfdata of all.
NTPKIT_API plugin_output combine(const std::vector<plugin_item>& items,
                                 const combine_options& options);

/// `v` with `decimals` digits after the point ("%.*f").
NTPKIT_API std::string plugin_number(double v, int decimals = 9);

}  // namespace ntpkit::report
