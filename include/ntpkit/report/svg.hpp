#pragma once

// SVG pictures, written as text with no plotting dependency: a small chart engine (panels
// with axes, ticks at round values, lines, bars and labels) and ntpclients' plot on it.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/model/clients.hpp"

namespace ntpkit::report {

/// One data series of a chart.
struct chart_series {
  std::string name;                           ///< for the legend
  std::vector<std::pair<double, double>> xy;  ///< points in data units, x ascending
  std::string color;                          ///< an SVG colour ("#1f77b4")
  bool bars = false;                          ///< bars from 0 instead of a line
  double bar_width = 0;  ///< in x units; 0: 80% of the closest spacing of the points
};

/// A chart panel: title, axis names and series. x is either numbers or Unix seconds.
struct chart {
  std::string title;
  std::string x_label, y_label;
  bool x_is_time = false;  ///< x in Unix seconds, ticks as UTC clock times
  std::vector<chart_series> series;
  /// Category labels instead of numeric x ticks: bar i at x = i (the delta histogram).
  std::vector<std::string> categories;
};

/// Panels stacked in one SVG document of `width` pixels, each `panel_height` high.
NTPKIT_API std::string svg_document(const std::vector<chart>& charts, int width = 900,
                                    int panel_height = 260, const std::string& caption = {});

/// `v` rounded to a round number for axis ticks: 1, 2 or 5 times a power of ten.
NTPKIT_API double nice_step(double range, int ticks) noexcept;

/// ntpclients' picture: clients per interval (all, IPv4, IPv6), packets and peak packets per
/// second per interval, and the delta-time distribution (answers per bucket). Panels without
/// data are left out; an input without NTP gives a single panel saying so.
NTPKIT_API std::string census_svg(const model::clients_run& r);

}  // namespace ntpkit::report
