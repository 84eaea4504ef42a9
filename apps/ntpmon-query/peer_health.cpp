#include "peer_health.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "ntpkit/proto/control_vars.hpp"
#include "ntpkit/report/format.hpp"

namespace ntpkit::apps {
namespace {

namespace asio = boost::asio;
using proto::control_opcode;
using report::plugin_state;

constexpr unsigned selection_of(std::uint16_t status) { return (status >> 8) & 0x7; }

// The value of `name` in a READVAR answer, read as strtod/strtol read it (a leading number).
std::optional<double> leading_number(const proto::variable_list& vars, std::string_view name) {
  const auto* v = proto::find_variable(vars, name);
  if (!v || !v->present()) return std::nullopt;
  const std::string raw(v->raw());
  char* end = nullptr;
  const double d = std::strtod(raw.c_str(), &end);
  if (end == raw.c_str()) return std::nullopt;
  return d;
}

asio::awaitable<peer_health> read_health(net::control_client& c, bool refclocks) {
  peer_health h;
  auto list = co_await c.request(control_opcode::read_status, 0);
  if (list.outcome == proto::control_outcome::transport_error) {
    h.unreachable = true;
    co_return h;
  }
  if (list.outcome != proto::control_outcome::response) {
    h.timed_out = true;
    co_return h;
  }
  auto entries = proto::parse_association_list(list.response.data);
  if (!entries) co_return h;
  h.answered = true;
  h.li_alarm = list.response.header.leap == proto::leap_indicator::unsynchronised;
  unsigned min_selection = 4;
  for (const auto& e : *entries) {
    const auto sel = selection_of(e.status);
    if (sel >= 2) ++h.truechimers;
    if (sel >= 4) ++h.candidates;
    if (sel >= 6) {
      h.sync_source = true;
      min_selection = 6;
    }
  }
  // The names asked, as the plugin asks them: jitter, else dispersion, else everything.
  const char* asks[] = {"stratum,offset,jitter", "stratum,offset,dispersion", ""};
  std::size_t ask = 0;
  for (const auto& e : *entries) {
    if (selection_of(e.status) < min_selection) continue;
    proto::control_query_result r;
    for (;;) {
      const std::string names = asks[ask];
      r = co_await c.request(control_opcode::read_variables, e.association_id,
                             std::vector<std::uint8_t>(names.begin(), names.end()));
      if (r.outcome != proto::control_outcome::server_error || ask == 2) break;
      ++ask;
    }
    if (r.outcome == proto::control_outcome::timeout ||
        r.outcome == proto::control_outcome::incomplete) {
      h.timed_out = true;
      co_return h;
    }
    if (r.outcome != proto::control_outcome::response) continue;
    const auto vars = proto::parse_variables(std::span<const std::uint8_t>(r.response.data));
    const auto offset_ms = leading_number(vars, "offset");
    if (offset_ms) {
      const double offset = *offset_ms / 1000;
      // The candidate of least |offset| is kept, with its jitter and stratum.
      if (h.offset_s && std::fabs(offset) >= std::fabs(*h.offset_s)) continue;
      h.offset_s = offset;
    }
    h.jitter_name = ask == 1 ? "dispersion" : "jitter";
    h.jitter = leading_number(vars, h.jitter_name).value_or(-1);
    const auto stratum = leading_number(vars, "stratum");
    h.stratum = stratum ? static_cast<int>(*stratum) : -1;
  }
  if (!refclocks) co_return h;
  for (const auto& e : *entries) {
    auto r = co_await c.request(control_opcode::read_clock, e.association_id);
    if (r.outcome == proto::control_outcome::timeout) {
      h.timed_out = true;
      co_return h;
    }
    if (r.outcome != proto::control_outcome::response) continue;  // BADASSOC: no clock
    const auto vars = proto::parse_variables(std::span<const std::uint8_t>(r.response.data));
    std::string name = "clock";
    if (const auto* v = proto::find_variable(vars, "name")) {
      if (auto t = v->text()) name = *t;
    }
    h.clocks.emplace_back(name + " (" + std::to_string(e.association_id) + ")",
                          r.response.header.status);
  }
  co_return h;
}

plugin_state status_of(double value, const report::nagios_range& warn,
                       const report::nagios_range& crit) {
  if (crit.alerts(value)) return plugin_state::critical;
  if (warn.alerts(value)) return plugin_state::warning;
  return plugin_state::ok;
}

// A range read as the monitoring-plugins read one (parse_range_string): numbers by strtod,
// so text that is no number reads as 0 ("-w bad" is the range 0:0, as the plugin takes it);
// only a start above the end is refused.
std::optional<report::nagios_range> plugin_range(const std::string& text) {
  report::nagios_range r;
  r.text = text;
  const char* p = text.c_str();
  if (*p == '@') {
    r.inside = true;
    ++p;
  }
  if (*p == '~') {
    r.start_infinite = true;
    ++p;
  }
  const char* end_text = std::strchr(p, ':');
  if (end_text) {
    if (*p != ':' && !r.start_infinite) r.start = std::strtod(p, nullptr);
    ++end_text;
  } else {
    end_text = p;
  }
  r.end_infinite = *end_text == '\0';
  if (!r.end_infinite) r.end = std::strtod(end_text, nullptr);
  if (!r.start_infinite && !r.end_infinite && r.start > r.end) return std::nullopt;
  return r;
}

double end_of(const report::nagios_range& r) { return r.end_infinite ? 0.0 : r.end; }

std::string annotate(plugin_state s) {
  if (s == plugin_state::critical) return " (CRITICAL)";
  if (s == plugin_state::warning) return " (WARNING)";
  return "";
}

}  // namespace

peer_health read_peer_health(const net::udp::endpoint& server, std::chrono::milliseconds timeout,
                             const std::optional<proto::symmetric_key>& key, bool refclocks) {
  asio::io_context io;
  net::control_client_options o;
  o.timeout = timeout;
  o.fragment_timeout = timeout;
  o.retries = 0;
  o.key = key;
  peer_health out;
  auto client = net::control_client::open(io.get_executor(), server, o);
  if (!client) {
    out.unreachable = true;
    return out;
  }
  std::exception_ptr failure;
  asio::co_spawn(io, read_health(*client, refclocks), [&](std::exception_ptr e, peer_health h) {
    failure = e;
    out = h;
  });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return out;
}

std::optional<report::plugin_output> judge_peer_health(const peer_health& h,
                                                       const peer_thresholds& t) {
  auto range = [&t](const std::string& s) -> std::optional<report::nagios_range> {
    if (t.lenient_ranges) return plugin_range(s);
    auto r = report::parse_nagios_range(s);
    return r ? std::optional<report::nagios_range>(*r) : std::nullopt;
  };
  auto ow = range(t.offset_warn), oc = range(t.offset_crit);
  auto sw = range(t.stratum_warn), sc = range(t.stratum_crit);
  auto jw = range(t.jitter_warn), jc = range(t.jitter_crit);
  auto tw = range(t.truechimers_warn), tc = range(t.truechimers_crit);
  if (!ow || !oc || !sw || !sc || !jw || !jc || !tw || !tc) return std::nullopt;
  // ntp_request(): WARNING without a sync source or with LI 3, else OK.
  plugin_state s = (!h.sync_source || h.li_alarm) ? plugin_state::warning : plugin_state::ok;
  plugin_state offset_state = plugin_state::ok;
  if (!h.offset_s) {
    s = t.quiet ? plugin_state::unknown : plugin_state::critical;
  } else {
    if (t.quiet && s == plugin_state::warning) s = plugin_state::unknown;
    offset_state = status_of(std::fabs(*h.offset_s), *ow, *oc);
    s = report::worse(s, offset_state);
  }
  const auto true_state = status_of(h.truechimers, *tw, *tc);
  const auto stratum_state = status_of(h.stratum, *sw, *sc);
  const auto jitter_state = status_of(h.jitter, *jw, *jc);
  if (t.do_truechimers) s = report::worse(s, true_state);
  if (t.do_stratum) s = report::worse(s, stratum_state);
  if (t.do_jitter) s = report::worse(s, jitter_state);

  std::string clocks_text;
  if (t.refclocks) {
    for (const auto& [name, status] : h.clocks) {
      const auto state = proto::decode_clock_status(status).state;
      if (state == proto::clock_state::nominal) continue;
      s = report::worse(s, plugin_state::warning);
      clocks_text += ", refclock " + report::terminal_safe(name) + " " +
                     proto::to_string(state) + " (WARNING)";
    }
  }
  char buf[256];
  std::string line = "NTP " + std::string(report::plugin_state_name(s)) + ":";
  if (!h.sync_source) line += " Server not synchronized,";
  if (!h.offset_s) {
    line += " Offset unknown";
  } else {
    std::snprintf(buf, sizeof buf, " Offset %.10g secs", *h.offset_s);
    line += buf + annotate(offset_state);
  }
  std::snprintf(buf, sizeof buf, "offset=%fs;%f;%f;", h.offset_s.value_or(0.0), end_of(*ow),
                end_of(*oc));
  std::string perf = buf;
  if (t.do_jitter) {
    std::snprintf(buf, sizeof buf, ", jitter=%f", h.jitter);
    line += buf + annotate(jitter_state);
    std::snprintf(buf, sizeof buf, " jitter=%f;%f;%f;%f", h.jitter, end_of(*jw), end_of(*jc),
                  0.0);
    perf += buf;
  }
  if (t.do_stratum) {
    line += ", stratum=" + std::to_string(h.stratum) + annotate(stratum_state);
    std::snprintf(buf, sizeof buf, " stratum=%d;%d;%d;%d;%d", h.stratum,
                  static_cast<int>(end_of(*sw)), static_cast<int>(end_of(*sc)), 0, 16);
    perf += buf;
  }
  if (t.do_truechimers) {
    line += ", truechimers=" + std::to_string(h.truechimers) + annotate(true_state);
    std::snprintf(buf, sizeof buf, " truechimers=%d;%d;%d;%d;", h.truechimers,
                  static_cast<int>(end_of(*tw)), static_cast<int>(end_of(*tc)), 0);
    perf += buf;
  }
  line += clocks_text;
  return report::plugin_output{s, line + "|" + perf};
}

}  // namespace ntpkit::apps
