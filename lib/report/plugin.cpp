#include "ntpkit/report/plugin.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace ntpkit::report {
namespace {

std::optional<double> parse_number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

int rank(plugin_state s) {
  switch (s) {
    case plugin_state::ok: return 0;
    case plugin_state::unknown: return 1;
    case plugin_state::warning: return 2;
    case plugin_state::critical: return 3;
  }
  return 3;
}

}  // namespace

bool nagios_range::alerts(double v) const noexcept {
  const bool in = (start_infinite || v >= start) && (end_infinite || v <= end);
  return inside ? in : !in;
}

result<nagios_range> parse_nagios_range(std::string_view text) {
  nagios_range r;
  r.text = std::string(text);
  std::string_view s = text;
  if (!s.empty() && s.front() == '@') {
    r.inside = true;
    s.remove_prefix(1);
  }
  const auto bad = std::make_error_code(std::errc::invalid_argument);
  const auto colon = s.find(':');
  if (colon == std::string_view::npos) {
    auto end = parse_number(s);
    if (!end) return bad;
    r.end = *end;
  } else {
    const auto lo = s.substr(0, colon);
    const auto hi = s.substr(colon + 1);
    if (lo == "~") {
      r.start_infinite = true;
    } else if (!lo.empty()) {
      auto start = parse_number(lo);
      if (!start) return bad;
      r.start = *start;
    }
    if (hi.empty()) {
      r.end_infinite = true;
    } else {
      auto end = parse_number(hi);
      if (!end) return bad;
      r.end = *end;
    }
  }
  if (!r.start_infinite && !r.end_infinite && r.start > r.end) return bad;
  return r;
}

std::string_view plugin_state_name(plugin_state s) noexcept {
  switch (s) {
    case plugin_state::ok: return "OK";
    case plugin_state::warning: return "WARNING";
    case plugin_state::critical: return "CRITICAL";
    case plugin_state::unknown: return "UNKNOWN";
  }
  return "UNKNOWN";
}

plugin_state worse(plugin_state a, plugin_state b) noexcept { return rank(a) >= rank(b) ? a : b; }

std::string plugin_number(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

void plugin_item::judge(metric_row row) {
  const auto& t = row.limits;
  auto problem = [&](const nagios_range& r, const char* which) {
    return (row.judged_name.empty() ? row.label : row.judged_name) + " " +
           plugin_number(row.judged, row.decimals) + (r.inside ? " inside " : " outside ") +
           which + " range " + r.text;
  };
  if (t.critical && t.critical->alerts(row.judged)) {
    raise(plugin_state::critical, problem(*t.critical, "critical"));
  } else if (t.warning && t.warning->alerts(row.judged)) {
    raise(plugin_state::warning, problem(*t.warning, "warning"));
  }
  metrics.push_back(std::move(row));
}

void plugin_item::raise(plugin_state s, std::string problem) {
  state = worse(state, s);
  problems.push_back(std::move(problem));
}

std::string plugin_item::describe() const {
  std::string s = where.empty() ? summary : where + " " + summary;
  for (const auto& p : problems) s += "; " + p;
  return s;
}

std::string perfdata(const metric_row& row, std::string_view prefix, perfdata_style style) {
  const auto& t = row.limits;
  if (style == perfdata_style::range_end) {
    auto end = [](const std::optional<nagios_range>& r) {
      return r && !r->end_infinite ? r->end : 0.0;
    };
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s%s=%f%s;%f;%f;", std::string(prefix).c_str(),
                  row.label.c_str(), row.value, row.unit.c_str(), end(t.warning),
                  end(t.critical));
    return buf;
  }
  return "'" + std::string(prefix) + row.label + "'=" + plugin_number(row.value, row.decimals) +
         row.unit + ";" + (t.warning ? t.warning->text : "") + ";" +
         (t.critical ? t.critical->text : "") + ";" + row.min + ";" + row.max;
}

plugin_output combine(const std::vector<plugin_item>& items, const combine_options& o) {
  plugin_output out;
  const auto ok_count = static_cast<std::size_t>(std::count_if(
      items.begin(), items.end(), [](const plugin_item& i) { return i.state == plugin_state::ok; }));
  if (o.min_ok > 0) {
    const auto usable = static_cast<std::size_t>(std::count_if(items.begin(), items.end(), [](auto& i) {
      return i.state == plugin_state::ok || i.state == plugin_state::warning;
    }));
    out.state = ok_count >= o.min_ok  ? plugin_state::ok
                : usable >= o.min_ok ? plugin_state::warning
                                     : plugin_state::critical;
  } else {
    out.state = items.empty() ? plugin_state::unknown : plugin_state::ok;
    for (const auto& i : items) out.state = worse(out.state, i.state);
  }
  std::string text;
  if (items.size() == 1) {
    text = items.front().describe();
  } else {
    text = std::to_string(ok_count) + " of " + std::to_string(items.size()) + " " + o.noun +
           " OK";
    if (o.min_ok > 0) text += " (at least " + std::to_string(o.min_ok) + " required)";
    for (const auto& i : items) {
      if (i.state != plugin_state::ok) text += "; " + i.describe();
    }
    if (!items.empty() && ok_count == items.size()) {
      // All OK: the figures of the one nearest trouble, so the line still says something.
      const auto worst = std::max_element(items.begin(), items.end(),
                                          [](const plugin_item& a, const plugin_item& b) {
                                            return a.severity < b.severity;
                                          });
      text += "; worst " + worst->describe();
    }
  }
  std::string data;
  for (const auto& i : items) {
    for (const auto& m : i.metrics) {
      data += (data.empty() ? "" : " ") + perfdata(m, i.label_prefix, o.style);
    }
  }
  out.line = o.service + " " + std::string(plugin_state_name(out.state)) + ": " + text;
  if (!data.empty()) out.line += "|" + data;
  out.line += "\n";
  return out;
}

}  // namespace ntpkit::report
