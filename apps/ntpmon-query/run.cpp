#include "run.hpp"

#include <string>

#include "../common/exit_code.hpp"
#include "../common/output.hpp"
#include "gps.hpp"
#include "ntpkit/report/control.hpp"
#include "ntpkit/report/format.hpp"
#include "ntpkit/version.hpp"

namespace ntpkit::apps {
namespace {

void write_text(const model::control_run& run) {
  if (!run.resolve_error.empty()) {
    out().write(run.host + ": " + run.resolve_error + "\n");
    return;
  }
  bool first = true;
  for (const auto& r : run.reads) {
    if (!r.ok()) {
      out().write(report::read_error_text(run, r) + "\n");
      continue;
    }
    if (run.command == "peers") continue;
    if (r.opcode == proto::control_opcode::read_status) {
      if (run.command == "associations") out().write(report::associations_text(r));
      continue;
    }
    if (!stats_variables(run.command).empty()) {
      out().write(report::statistics_text(r));
      continue;
    }
    if (!first) out().write("\n");
    first = false;
    out().write(report::variables_text(r));
  }
  if (run.command == "peers" && !run.reads.empty() && run.reads.front().ok()) {
    out().write(report::peers_text(run.peers));
  }
}


// --nagios: the server's health as check_ntp_peer judges it (peer_health.hpp).
int run_nagios(const monitor_run_plan& v, const monitor_plan& p) {
  auto fail = [](const std::string& line) {
    out().write("NTP UNKNOWN: " + report::terminal_safe(line) + "\n");
    return finish_output("ntpmon-query", exit_code::plugin_unknown, true);
  };
  net::target t;
  t.spec = t.host = p.host;
  t.port = p.port;
  const auto server = resolve_first(t, p.address_family);
  if (!server) return fail(p.host + " does not resolve");
  const auto h = read_peer_health(*server, p.client.timeout, p.client.key,
                                        v.thresholds.refclocks);
  if (h.unreachable || h.timed_out) {
    out().write(std::string("NTP CRITICAL: ") +
                      (h.unreachable ? "No response from NTP server (unreachable)"
                                     : "No response from NTP server (timeout)") +
                      "\n");
    return finish_output("ntpmon-query", exit_code::plugin_critical, true);
  }
  auto verdict = judge_peer_health(h, v.thresholds);
  if (!verdict) return fail("a threshold is no Nagios range");
  out().write(verdict->line + "\n");
  return finish_output("ntpmon-query", exit_code::of_plugin(verdict->state), true);
}


}  // namespace

int run_monitor_command(const monitor_run_plan& v) {
  const auto& p = v.plan;
  if (v.nagios) return run_nagios(v, p);
  if (p.command == "gps") {
    std::string host = p.host;
    std::uint16_t port = 2947;
    if (!p.args.empty()) {
      auto t = net::parse_target(p.args[0], 2947);
      if (!t) {
        std::fprintf(stderr, "ntpmon-query: %s\n", report::terminal_safe("bad gpsd address '" + p.args[0] + "'").c_str());
        return exit_code::usage;
      }
      host = t->host;
      port = t->port;
    }
    const auto g = read_gps(host, port, p.client.timeout);
    out().write(p.json ? gps_json(g, version_string) : gps_text(g));
    return finish_output("ntpmon-query", exit_code::of_run(g.error.empty()), false);
  }
  const auto run = run_monitor(p);
  if (v.prometheus) {
    out().write(report::control_prometheus(run, version_string));
  } else if (p.json) {
    out().write(report::control_json(run, version_string));
  } else {
    write_text(run);
  }
  return finish_output("ntpmon-query", exit_code::of_run(run.ok()), false);
}

}  // namespace ntpkit::apps
