#include "ntpkit/report/nagios.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "ntpkit/proto/refid.hpp"
#include "ntpkit/report/format.hpp"

namespace ntpkit::report {
namespace {

std::optional<double> parse_number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

plugin_state worse(plugin_state a, plugin_state b) {
  // CRITICAL > WARNING > UNKNOWN > OK, as the monitoring-plugins combine states.
  auto rank = [](plugin_state s) {
    switch (s) {
      case plugin_state::ok: return 0;
      case plugin_state::unknown: return 1;
      case plugin_state::warning: return 2;
      case plugin_state::critical: return 3;
    }
    return 3;
  };
  return rank(a) >= rank(b) ? a : b;
}

std::string number(double v, int decimals = 9) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// One address's state, what was wrong, and its perfdata.
struct judged {
  plugin_state state = plugin_state::ok;
  std::string where;
  std::string summary;
  std::vector<std::string> problems;
  std::string perfdata;
};

struct metric {
  const char* label;
  double value;         // as reported (signed offset)
  double judged_value;  // what the thresholds see (|offset|)
  const thresholds* limits;
  const char* unit;
  const char* min;
  const char* max;
  int decimals;
};

void judge_metric(judged& j, const metric& m, const std::string& prefix) {
  const auto& t = *m.limits;
  if (t.critical && t.critical->alerts(m.judged_value)) {
    j.state = worse(j.state, plugin_state::critical);
    j.problems.push_back(std::string(m.label) + " " + number(m.value, m.decimals) +
                         " outside critical range " + t.critical->text);
  } else if (t.warning && t.warning->alerts(m.judged_value)) {
    j.state = worse(j.state, plugin_state::warning);
    j.problems.push_back(std::string(m.label) + " " + number(m.value, m.decimals) +
                         " outside warning range " + t.warning->text);
  }
  j.perfdata += (j.perfdata.empty() ? "'" : " '") + prefix + m.label + "'=" +
                number(m.value, m.decimals) + m.unit + ";" +
                (t.warning ? t.warning->text : "") + ";" + (t.critical ? t.critical->text : "") +
                ";" + m.min + ";" + m.max;
}

std::string where_of(const target_report& t, const address_report& a) {
  std::string s = a.ipv6 ? "[" + a.address + "]" : a.address;
  s += ":" + std::to_string(a.port);
  return t.host == a.address ? s : t.host + " " + s;
}

judged judge_address(const target_report& t, const address_report& a, const plugin_policy& p,
                     const std::string& prefix) {
  judged j;
  j.where = where_of(t, a);
  if (!a.selected) {
    const auto kind = a.error.kind;
    const bool silent = kind == error_kind::timeout || kind == error_kind::unreachable ||
                        kind == error_kind::network || kind == error_kind::none;
    j.state = silent && !p.no_reply_critical ? plugin_state::unknown : plugin_state::critical;
    j.summary = a.error ? a.error.message : "no reply";
    return j;
  }
  const auto& b = a.best();
  const auto distance = proto::root_distance(b.reply, b.measured, a.jitter).to_seconds();
  const double offset = b.measured.offset.to_seconds() + p.time_offset_s;
  const metric metrics[] = {
      {"offset", offset, std::fabs(offset), &p.offset, "s", "", "", 9},
      {"delay", b.measured.delay.to_seconds(), b.measured.delay.to_seconds(), &p.delay, "s",
       "0", "", 9},
      {"jitter", a.jitter.to_seconds(), a.jitter.to_seconds(), &p.jitter, "s", "0", "", 9},
      {"stratum", double(b.reply.stratum), double(b.reply.stratum), &p.stratum, "", "0", "16",
       0},
      {"root_distance", distance, distance, &p.root_distance, "s", "0", "", 9},
      {"processing", b.measured.processing.to_seconds(), b.measured.processing.to_seconds(),
       &p.processing, "s", "0", "", 9},
  };
  for (const auto& m : metrics) judge_metric(j, m, prefix);
  const auto refid = describe_refid(b);
  j.summary = "offset " + signed_seconds(offset) + " s, delay " +
              number(b.measured.delay.to_seconds()) + " s, stratum " +
              std::to_string(b.reply.stratum) + ", refid " + refid.text;
  if (!p.expect_refid.empty() &&
      std::none_of(p.expect_refid.begin(), p.expect_refid.end(), [&](const std::string& e) {
        return refid_matches(b.reply.refid, b.reply.stratum, e);
      })) {
    j.state = plugin_state::critical;
    j.problems.push_back("refid " + refid.text + " is not the expected one");
  }
  const auto leap = b.reply.leap;
  if ((leap == proto::leap_indicator::add_second || leap == proto::leap_indicator::del_second) &&
      !p.leap_ok) {
    j.state = worse(j.state, plugin_state::warning);
    j.problems.push_back(std::string("leap second pending (") + std::string(leap_name(leap)) + ")");
  }
  // A kiss that came after good answers: the server still told us to go away or slow down.
  if (a.error.kind == error_kind::kiss) {
    j.state = plugin_state::critical;
    j.problems.push_back(a.error.message);
  }
  return j;
}

std::string describe(const judged& j) {
  std::string s = j.where + " " + j.summary;
  for (const auto& p : j.problems) s += "; " + p;
  return s;
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

bool refid_matches(const std::array<std::uint8_t, 4>& refid, std::uint8_t stratum,
                   std::string_view expected) {
  const auto info = proto::decode_refid(refid, stratum);
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  if (lower(info.text) == lower(expected)) return true;
  if (lower(refid_hex(refid)) == lower(expected)) return true;
  std::array<std::uint8_t, 16> v6{};
  const std::string e(expected);
  if (::inet_pton(AF_INET6, e.c_str(), v6.data()) == 1) {
    return proto::refid_of_ipv6(std::span<const std::uint8_t, 16>(v6)) == refid;
  }
  return false;
}

plugin_output evaluate_plugin(const probe_report& r, const plugin_policy& p) {
  std::vector<judged> all;
  std::size_t addresses = 0;
  for (const auto& t : r.targets) addresses += t.addresses.size();
  const bool many = r.targets.size() > 1 || addresses > 1;
  for (const auto& t : r.targets) {
    if (t.error) {
      judged j;
      j.where = t.spec;
      j.state = plugin_state::unknown;
      j.summary = t.error.message;
      all.push_back(std::move(j));
      continue;
    }
    for (const auto& a : t.addresses) {
      all.push_back(judge_address(t, a, p, many ? a.address + " " : ""));
    }
  }
  plugin_output out;
  const auto ok_count = static_cast<std::size_t>(std::count_if(
      all.begin(), all.end(), [](const judged& j) { return j.state == plugin_state::ok; }));
  if (p.min_ok > 0) {
    const auto usable = static_cast<std::size_t>(std::count_if(all.begin(), all.end(), [](auto& j) {
      return j.state == plugin_state::ok || j.state == plugin_state::warning;
    }));
    out.state = ok_count >= p.min_ok  ? plugin_state::ok
                : usable >= p.min_ok ? plugin_state::warning
                                     : plugin_state::critical;
  } else {
    out.state = all.empty() ? plugin_state::unknown : plugin_state::ok;
    for (const auto& j : all) out.state = worse(out.state, j.state);
  }
  std::string text;
  if (all.size() == 1) {
    text = describe(all.front());
  } else {
    text = std::to_string(ok_count) + " of " + std::to_string(all.size()) + " servers OK";
    if (p.min_ok > 0) text += " (at least " + std::to_string(p.min_ok) + " required)";
    for (const auto& j : all) {
      if (j.state != plugin_state::ok) text += "; " + describe(j);
    }
  }
  std::string perfdata;
  for (const auto& j : all) {
    if (j.perfdata.empty()) continue;
    perfdata += (perfdata.empty() ? "" : " ") + j.perfdata;
  }
  out.line = "NTP " + std::string(plugin_state_name(out.state)) + ": " + text;
  if (!perfdata.empty()) out.line += "|" + perfdata;
  out.line += "\n";
  return out;
}

}  // namespace ntpkit::report
