// ntpmon-query's text: ntpq's layouts (NTPsec 1.2.2's ntpq, read to learn), so that an
// operator reads what they know; values as the server sent them, never re-rounded.

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <string>

#include "ntpkit/report/control.hpp"
#include "ntpkit/report/format.hpp"

namespace ntpkit::report {
namespace {

std::string_view leap_words(proto::leap_indicator l) noexcept {
  switch (l) {
    case proto::leap_indicator::none: return "leap_none";
    case proto::leap_indicator::add_second: return "leap_add_sec";
    case proto::leap_indicator::del_second: return "leap_del_sec";
    case proto::leap_indicator::unsynchronised: return "leap_alarm";
  }
  return "leap_alarm";
}

std::string events(unsigned n) {
  return std::to_string(n) + (n == 1 ? " event" : " events");
}

std::string hex4(std::uint16_t w) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04x", w);
  return buf;
}

// ntpq's f8dot4/f8dot3: a number in 8 columns, fewer decimals as it grows.
std::string eight_columns(std::optional<double> v, int decimals) {
  char buf[64];
  if (!v) return "       .";
  const double f = *v;
  if (std::isnan(f)) return "     nan";
  int d = -1;  // -1: as an integer
  if (decimals == 4) {
    if (f >= 0) {
      d = f < 1000.0 ? 4 : f < 10000.0 ? 3 : f < 100000.0 ? 2 : f < 1000000.0 ? 1 : -1;
    } else {
      d = f > -100.0 ? 4 : f > -1000.0 ? 3 : f > -10000.0 ? 2 : f > -100000.0 ? 1 : -1;
    }
  } else {
    if (f >= 0) {
      d = f < 10000.0 ? 3 : f < 100000.0 ? 2 : f < 1000000.0 ? 1 : -1;
    } else {
      d = f > -1000.0 ? 3 : f > -10000.0 ? 2 : f > -100000.0 ? 1 : -1;
    }
  }
  if (d < 0) {
    std::snprintf(buf, sizeof buf, "%8" PRId64, static_cast<std::int64_t>(f));
  } else {
    std::snprintf(buf, sizeof buf, "%8.*f", d, f);
  }
  return buf;
}

// ntpq's prettyinterval: seconds up to 2048, then minutes, hours, days.
std::string interval(std::optional<std::int64_t> s) {
  if (!s || *s <= 0) return "-";
  const std::int64_t v = *s;
  if (v <= 2048) return std::to_string(v);
  // ntpq divides as floats and prints with %d (truncation).
  double m = (static_cast<double>(v) + 29) / 60;
  if (m <= 300) return std::to_string(static_cast<std::int64_t>(m)) + "m";
  double h = (m + 29) / 60;
  if (h <= 96) return std::to_string(static_cast<std::int64_t>(h)) + "h";
  double d = (h + 11) / 24;
  return std::to_string(static_cast<std::int64_t>(d)) + "d";
}

std::string at_most(std::string s, std::size_t n) {
  if (s.size() > n) s.resize(n);
  return s;
}

std::string_view as_event(proto::peer_event e) noexcept {
  using enum proto::peer_event;
  switch (e) {
    case mobilize: return "mobilize";
    case demobilize: return "demobilize";
    case unreachable: return "unreachable";
    case reachable: return "reachable";
    case restart: return "restart";
    case no_reply: return "no_reply";
    case rate_exceeded: return "rate_exceeded";
    case access_denied: return "access_denied";
    case leap_armed: return "leap_armed";
    case sys_peer: return "sys_peer";
    case clock_event: return "clock_alarm";
    default: return "";
  }
}

}  // namespace

std::string system_status_text(std::uint16_t word) {
  const auto s = proto::decode_system_status(word);
  return std::string(leap_words(s.leap)) + ", " + proto::to_string(s.source) + ", " +
         events(s.event_count) + ", " + std::string(proto::to_string(s.last_event));
}

std::string peer_status_text(std::uint16_t word) {
  const auto s = proto::decode_peer_status(word);
  std::string out;
  auto add = [&](std::string_view w) {
    if (!out.empty()) out += ", ";
    out += w;
  };
  if (s.configured) add("conf");
  if (s.auth_enabled) add("authenb");
  if (s.authentic) add("auth");
  if (s.reachable) add("reach");
  if (s.broadcast) add("bcast");
  add("sel_" + std::string(proto::to_string(s.selection)));
  add(events(s.event_count));
  add(proto::to_string(s.last_event));
  return out;
}

std::string clock_status_text(std::uint16_t word) {
  // The high nibble counts the clock's non-nominal reports, saturating at 15 (NTPsec 1.2.2:
  // an unfed SHM clock shows 5 at noreply=5, 11 at noreply=11, 15 from noreply=15 on); it
  // is not an event code, whatever proto::clock_status calls it.
  const unsigned count = (word >> 4) & 0xf;
  return proto::to_string(proto::decode_clock_status(word).state) + ", " + events(count) +
         (count == 15 ? " or more" : "");
}

std::string variables_text(const model::control_read& r) {
  std::string out = "associd=" + std::to_string(r.association_id) + " status=" + hex4(r.status) + " ";
  if (r.opcode == proto::control_opcode::read_clock) {
    out += clock_status_text(r.status);
  } else if (r.association_id == 0) {
    out += system_status_text(r.status);
  } else {
    out += peer_status_text(r.status);
  }
  out += ",\n";
  std::string line;
  for (std::size_t i = 0; i < r.variables.size(); ++i) {
    const auto& [name, v] = r.variables[i];
    std::string item = terminal_safe(name);
    if (v.present()) item += "=" + terminal_safe(v.raw());
    if (i + 1 < r.variables.size()) item += ",";
    if (!line.empty() && line.size() + 1 + item.size() > 79) {
      out += line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + item;
  }
  if (!line.empty()) out += line + "\n";
  if (!r.refused.empty()) {
    out += "not known to the server:";
    for (const auto& [name, code] : r.refused) out += " " + terminal_safe(name);
    out += "\n";
  }
  return out;
}

std::string statistics_text(const model::control_read& r) {
  std::string out;
  for (const auto& [name, v] : r.variables) {
    auto label = terminal_safe(name) + ":";
    if (label.size() < 24) label.resize(24, ' ');
    out += label + " " + terminal_safe(v.raw()) + "\n";
  }
  for (const auto& [name, code] : r.refused) {
    auto label = terminal_safe(name) + ":";
    if (label.size() < 24) label.resize(24, ' ');
    out += label + " (not known to the server)\n";
  }
  return out;
}

std::string peers_text(const std::vector<model::peer_summary>& peers) {
  std::string out =
      "     remote           refid      st t when poll reach   delay   offset   jitter\n";
  out += std::string(79, '=') + "\n";
  char buf[160];
  for (const auto& p : peers) {
    std::snprintf(buf, sizeof buf, "%c%-15.15s ", p.tally, terminal_safe(p.remote).c_str());
    out += buf;
    auto refid = terminal_safe(p.refid);
    if (refid.size() > 15) refid = "-" + refid.substr(refid.size() - 14);
    out += refid + std::string(15 - refid.size(), ' ');
    std::snprintf(buf, sizeof buf, " %2" PRId64 " %c %4.4s %4.4s  %3" PRIo64 " ", p.stratum,
                  p.type, at_most(interval(p.when_s), 4).c_str(),
                  at_most(interval(p.poll_s), 4).c_str(), p.reach);
    out += buf;
    out += eight_columns(p.delay_ms, p.decimals) + " " + eight_columns(p.offset_ms, p.decimals) +
           " " + eight_columns(p.jitter_ms, p.decimals) + "\n";
  }
  return out;
}

std::string associations_text(const model::control_read& r) {
  std::string out = "ind assid status  conf reach auth condition  last_event cnt\n";
  out += std::string(59, '=') + "\n";
  char buf[160];
  std::size_t i = 0;
  for (const auto& a : r.associations) {
    const auto s = proto::decode_peer_status(a.status);
    const char* reach = s.broadcast ? "none" : s.reachable ? "yes" : "no";
    const char* auth = !s.auth_enabled ? "none" : s.authentic ? "ok " : "bad";
    std::snprintf(buf, sizeof buf, "%3zu %5u  %04x   %3.3s  %4s  %4.4s %9.9s %11s %2u\n", ++i,
                  a.association_id, a.status, s.configured ? "yes" : "no", reach, auth,
                  std::string(proto::to_string(s.selection)).c_str(),
                  std::string(as_event(s.last_event)).c_str(), s.event_count);
    out += buf;
  }
  return out;
}

std::string read_error_text(const model::control_run& run, const model::control_read& r) {
  std::string where = run.address.find(':') != std::string::npos
                          ? "[" + run.address + "]:" + std::to_string(run.port)
                          : run.address + ":" + std::to_string(run.port);
  std::string what;
  switch (r.outcome) {
    case proto::control_outcome::response:
      if (!r.auth_failed) return {};
      what = "authentication failed: the answer is not signed with our key (the server does not "
             "know key or secret)";
      break;
    case proto::control_outcome::server_error:
      what = "server error: " +
             std::string(proto::to_string(r.server_error.value_or(proto::control_error::unspecified))) +
             " (" + std::string(proto::ntpq_name(r.server_error.value_or(proto::control_error::unspecified))) + ")";
      break;
    case proto::control_outcome::timeout:
      what = "no answer (timeout)";
      if (model::failure_kind(r) == "auth") what += "; replies came whose MAC did not verify";
      break;
    default:
      what = std::string(proto::to_string(r.outcome)) + ": " + r.error.message();
      break;
  }
  std::string assoc = r.association_id ? " for association " + std::to_string(r.association_id) : "";
  return where + ": " + std::string(proto::to_string(r.opcode)) + assoc + ": " + what;
}

}  // namespace ntpkit::report
