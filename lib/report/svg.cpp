#include "ntpkit/report/svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>

#include "ntpkit/report/census.hpp"
#include "ntpkit/report/format.hpp"

namespace ntpkit::report {
namespace {

constexpr int margin_left = 72, margin_right = 24, margin_top = 34, margin_bottom = 46;

std::string esc(const std::string& s) {
  std::string out;
  for (const char c : printable(s)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// A tick label for a value on a numeric axis: no trailing zeros, k/M for large counts.
std::string tick_text(double v, double step) {
  char buf[32];
  const double a = std::fabs(v);
  if (a >= 1e6 && step >= 1e5) {
    std::snprintf(buf, sizeof buf, "%gM", v / 1e6);
  } else if (a >= 1e4 && step >= 1e3) {
    std::snprintf(buf, sizeof buf, "%gk", v / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%g", v);
  }
  return buf;
}

// A tick's clock time: with seconds when the ticks are less than a minute apart, with the
// date when the axis spans days.
std::string clock_text(double unix_s, bool with_date, bool with_seconds = false) {
  const auto t = static_cast<std::time_t>(std::floor(unix_s));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf,
                with_date ? (with_seconds ? "%m-%d %H:%M:%S" : "%m-%d %H:%M")
                          : (with_seconds ? "%H:%M:%S" : "%H:%M"),
                &tm);
  return buf;
}

// A step for clock-time ticks: at most `ticks` of them over `range` seconds.
double time_step(double range, int ticks) {
  static const double steps[] = {1,     2,     5,     10,    15,     30,     60,     120,
                                 300,   600,   900,   1800,  3600,   7200,   10800,  21600,
                                 43200, 86400, 172800, 604800, 1209600, 2592000};
  for (const double s : steps) {
    if (range / s <= ticks) return s;
  }
  return nice_step(range, ticks);
}

struct bounds {
  double x0 = 0, x1 = 1, y1 = 1;
};

bounds data_bounds(const chart& c) {
  bounds b;
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y1 = 0;
  double half_bar = 0;
  for (const auto& s : c.series) {
    for (const auto& [x, y] : s.xy) {
      x0 = std::min(x0, x);
      x1 = std::max(x1, x);
      y1 = std::max(y1, y);
    }
    if (s.bars) half_bar = std::max(half_bar, s.bar_width / 2);
  }
  if (!c.categories.empty()) {
    x0 = -0.5;
    x1 = static_cast<double>(c.categories.size()) - 0.5;
    half_bar = 0;
  }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1;
  x0 -= half_bar;
  x1 += half_bar;
  if (x1 <= x0) x0 -= 0.5, x1 += 0.5;
  b.x0 = x0;
  b.x1 = x1;
  const double step = nice_step(y1 > 0 ? y1 : 1, 5);
  b.y1 = std::max(step, std::ceil(y1 / step) * step);
  return b;
}

// The smallest distance between consecutive x values (bar width when none is given).
double min_spacing(const chart_series& s) {
  double d = std::numeric_limits<double>::infinity();
  for (std::size_t i = 1; i < s.xy.size(); ++i) d = std::min(d, s.xy[i].first - s.xy[i - 1].first);
  return std::isfinite(d) && d > 0 ? d : 1;
}

void panel(std::string& out, const chart& c, int top, int width, int height) {
  const int left = margin_left, right = width - margin_right;
  const int y_top = top + margin_top, y_bottom = top + height - margin_bottom;
  const double pw = right - left, ph = y_bottom - y_top;
  auto b = data_bounds(c);
  auto px = [&](double x) { return left + (x - b.x0) / (b.x1 - b.x0) * pw; };
  auto py = [&](double y) { return y_bottom - y / b.y1 * ph; };

  out += "<g>\n<text x=\"" + std::to_string(left) + "\" y=\"" + std::to_string(top + 20) +
         "\" class=\"title\">" + esc(c.title) + "</text>\n";
  // y grid and ticks
  const double ystep = nice_step(b.y1, 5);
  for (double y = 0; y <= b.y1 + ystep / 2; y += ystep) {
    out += "<line x1=\"" + std::to_string(left) + "\" x2=\"" + std::to_string(right) +
           "\" y1=\"" + fmt(py(y)) + "\" y2=\"" + fmt(py(y)) + "\" class=\"grid\"/>\n";
    out += "<text x=\"" + std::to_string(left - 6) + "\" y=\"" + fmt(py(y) + 4) +
           "\" class=\"ytick\">" + esc(tick_text(y, ystep)) + "</text>\n";
  }
  // x ticks
  if (!c.categories.empty()) {
    const std::size_t n = c.categories.size();
    const std::size_t every = std::max<std::size_t>(1, (n + 9) / 10);
    for (std::size_t i = 0; i < n; i += every) {
      out += "<text x=\"" + fmt(px(static_cast<double>(i))) + "\" y=\"" +
             std::to_string(y_bottom + 16) + "\" class=\"xtick\">" + esc(c.categories[i]) +
             "</text>\n";
    }
  } else {
    const double range = b.x1 - b.x0;
    const double step = c.x_is_time ? time_step(range, 8) : nice_step(range, 8);
    const bool with_date = c.x_is_time && (range > 86400 || clock_text(b.x0, true).substr(0, 5) !=
                                                                clock_text(b.x1, true).substr(0, 5));
    for (double x = std::ceil(b.x0 / step) * step; x <= b.x1; x += step) {
      out += "<line x1=\"" + fmt(px(x)) + "\" x2=\"" + fmt(px(x)) + "\" y1=\"" +
             std::to_string(y_bottom) + "\" y2=\"" + std::to_string(y_bottom + 4) +
             "\" class=\"axis\"/>\n";
      out += "<text x=\"" + fmt(px(x)) + "\" y=\"" + std::to_string(y_bottom + 16) +
             "\" class=\"xtick\">" +
             esc(c.x_is_time ? clock_text(x, with_date, step < 60) : tick_text(x, step)) +
             "</text>\n";
    }
  }
  out += "<line x1=\"" + std::to_string(left) + "\" x2=\"" + std::to_string(right) + "\" y1=\"" +
         std::to_string(y_bottom) + "\" y2=\"" + std::to_string(y_bottom) +
         "\" class=\"axis\"/>\n";
  out += "<text x=\"" + fmt(left + pw / 2) + "\" y=\"" + std::to_string(y_bottom + 34) +
         "\" class=\"xlabel\">" + esc(c.x_label) + "</text>\n";
  out += "<text transform=\"translate(16," + fmt(y_top + ph / 2) +
         ") rotate(-90)\" class=\"ylabel\">" + esc(c.y_label) + "</text>\n";
  // series
  for (const auto& s : c.series) {
    if (s.bars) {
      const double w = !c.categories.empty() ? 0.8
                       : s.bar_width > 0     ? s.bar_width * 0.9
                                             : min_spacing(s) * 0.8;
      for (const auto& [x, y] : s.xy) {
        const double x0 = px(x - w / 2), x1 = px(x + w / 2);
        out += "<rect x=\"" + fmt(x0) + "\" y=\"" + fmt(py(y)) + "\" width=\"" +
               fmt(std::max(1.0, x1 - x0)) + "\" height=\"" + fmt(y_bottom - py(y)) +
               "\" fill=\"" + esc(s.color) + "\"><title>" + esc(s.name) + ": " +
               esc(tick_text(y, 1)) + "</title></rect>\n";
      }
    } else if (!s.xy.empty()) {
      std::string points;
      for (const auto& [x, y] : s.xy) points += fmt(px(x)) + "," + fmt(py(y)) + " ";
      out += "<polyline fill=\"none\" stroke=\"" + esc(s.color) +
             "\" stroke-width=\"1.8\" points=\"" + points + "\"/>\n";
      if (s.xy.size() <= 60) {
        for (const auto& [x, y] : s.xy) {
          out += "<circle cx=\"" + fmt(px(x)) + "\" cy=\"" + fmt(py(y)) + "\" r=\"2.5\" fill=\"" +
                 esc(s.color) + "\"/>\n";
        }
      }
    }
  }
  // legend
  double lx = right - 10;
  for (auto it = c.series.rbegin(); it != c.series.rend(); ++it) {
    const double w = 7.0 * static_cast<double>(it->name.size()) + 22;
    lx -= w;
    out += "<rect x=\"" + fmt(lx) + "\" y=\"" + std::to_string(top + 11) +
           "\" width=\"12\" height=\"10\" fill=\"" + esc(it->color) + "\"/>\n";
    out += "<text x=\"" + fmt(lx + 16) + "\" y=\"" + std::to_string(top + 20) +
           "\" class=\"legend\">" + esc(it->name) + "</text>\n";
  }
  out += "</g>\n";
}

double unix_seconds(proto::sys_nanoseconds t) {
  return static_cast<double>(t.time_since_epoch().count()) / 1e9;
}

}  // namespace

double nice_step(double range, int ticks) noexcept {
  if (!(range > 0) || ticks <= 0) return 1;
  const double raw = range / ticks;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * p >= raw) return m * p;
  }
  return 10 * p;
}

std::string svg_document(const std::vector<chart>& charts, int width, int panel_height,
                         const std::string& caption) {
  const int caption_height = caption.empty() ? 0 : 28;
  const int height =
      std::max<int>(1, static_cast<int>(charts.size())) * panel_height + caption_height;
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) +
      "\" height=\"" + std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) +
      " " + std::to_string(height) + "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<style>.title{font-size:14px;font-weight:bold}.grid{stroke:#e0e0e0}"
      ".axis{stroke:#444}.ytick{text-anchor:end;fill:#333}.xtick{text-anchor:middle;fill:#333}"
      ".xlabel{text-anchor:middle;fill:#333}.ylabel{text-anchor:middle;fill:#333}"
      ".legend{fill:#333}.caption{fill:#555}</style>\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  if (!caption.empty()) {
    out += "<text x=\"" + std::to_string(margin_left) + "\" y=\"19\" class=\"caption\">" +
           esc(caption) + "</text>\n";
  }
  for (std::size_t i = 0; i < charts.size(); ++i) {
    panel(out, charts[i], caption_height + static_cast<int>(i) * panel_height, width,
          panel_height);
  }
  return out + "</svg>\n";
}

std::string census_svg(const model::clients_run& r) {
  const auto& c = r.census;
  std::vector<chart> charts;
  const double interval_s = static_cast<double>(c.interval.count()) / 1e9;
  const std::string per = "per " + human_duration(c.interval) + " interval (UTC, capture clock)";
  if (!c.intervals.empty()) {
    chart clients{"Distinct clients", per, "clients", true, {}, {}};
    chart_series all{"all", {}, "#1f77b4", true, interval_s};
    chart_series v4{"IPv4", {}, "#2ca02c", false, 0};
    chart_series v6{"IPv6", {}, "#d62728", false, 0};
    chart packets{"NTP packets", per, "packets", true, {}, {}};
    chart_series pk{"packets", {}, "#9467bd", true, interval_s};
    chart rate{"Peak packets per second", per, "packets/s", true, {}, {}};
    chart_series peak{"peak in one second", {}, "#ff7f0e", false, 0};
    for (const auto& i : c.intervals) {
      const double x = unix_seconds(i.start) + interval_s / 2;
      all.xy.emplace_back(x, static_cast<double>(i.clients));
      v4.xy.emplace_back(x, static_cast<double>(i.client_split.by_family[0]));
      v6.xy.emplace_back(x, static_cast<double>(i.client_split.by_family[1]));
      pk.xy.emplace_back(x, static_cast<double>(i.packets));
      peak.xy.emplace_back(x, static_cast<double>(i.peak_pps));
    }
    clients.series = {all, v4};
    if (c.client_split.by_family[1] > 0) clients.series.push_back(v6);
    packets.series = {pk};
    rate.series = {peak};
    charts.push_back(std::move(clients));
    charts.push_back(std::move(packets));
    charts.push_back(std::move(rate));
  }
  const auto& h = c.delta_histogram;
  std::uint64_t answers = 0;
  for (auto n : h.counts) answers += n;
  if (answers > 0) {
    std::size_t first = 0, last = h.counts.size();
    while (first < h.counts.size() && h.counts[first] == 0) ++first;
    while (last > first && h.counts[last - 1] == 0) --last;
    chart delta{"Delta time: request to answer on the wire (" + std::to_string(answers) +
                    " answers; median " + human_duration(c.delta.median) + ", p99 " +
                    human_duration(c.delta.p99) + ")",
                "answered within", "answers", false, {}, {}};
    chart_series bars{"answers", {}, "#17becf", true, 0};
    for (std::size_t b = first; b < last; ++b) {
      delta.categories.push_back(b < h.upper_bounds.size()
                                     ? "<=" + human_duration(h.upper_bounds[b])
                                     : ">" + human_duration(h.upper_bounds.back()));
      bars.xy.emplace_back(static_cast<double>(b - first), static_cast<double>(h.counts[b]));
    }
    delta.series = {bars};
    charts.push_back(std::move(delta));
  }
  std::string caption = "ntpclients: " + std::to_string(c.clients) + " clients, " +
                        std::to_string(c.datagrams.ntp) + " NTP packets";
  if (c.first_time && c.last_time) {
    caption += ", " + iso8601(*c.first_time, 0) + " to " + iso8601(*c.last_time, 0);
  }
  if (charts.empty()) {
    chart none{"No NTP datagrams on port " + std::to_string(c.server_port), "", "", false, {}, {}};
    charts.push_back(std::move(none));
  }
  return svg_document(charts, 900, 260, caption);
}

}  // namespace ntpkit::report
