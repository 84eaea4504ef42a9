// ntpmon-query's Prometheus metrics: gauges over the model's reads and peer rows.

#include <bit>
#include <cmath>
#include <string>

#include "ntpkit/report/control.hpp"
#include "ntpkit/report/prometheus.hpp"

namespace ntpkit::report {
namespace {

// A system variable's gauge: name, help, the factor from ntpd's unit to the metric's.
struct system_gauge {
  const char* variable;
  const char* metric;
  const char* help;
  double factor;
};

constexpr system_gauge system_gauges[] = {
    {"stratum", "ntpkit_ntpd_stratum", "ntpd's stratum", 1},
    {"leap", "ntpkit_ntpd_leap", "ntpd's leap indicator (3: not synchronised)", 1},
    {"precision", "ntpkit_ntpd_precision_log2", "ntpd's clock precision, log2 seconds", 1},
    {"offset", "ntpkit_ntpd_offset_seconds", "ntpd's offset from its sources", 1e-3},
    {"sys_jitter", "ntpkit_ntpd_sys_jitter_seconds", "ntpd's combined source jitter", 1e-3},
    {"clk_jitter", "ntpkit_ntpd_clk_jitter_seconds", "ntpd's clock jitter", 1e-3},
    {"rootdelay", "ntpkit_ntpd_root_delay_seconds", "ntpd's root delay", 1e-3},
    {"rootdisp", "ntpkit_ntpd_root_dispersion_seconds", "ntpd's root dispersion", 1e-3},
    {"frequency", "ntpkit_ntpd_frequency_ppm", "ntpd's frequency correction", 1},
    {"clk_wander", "ntpkit_ntpd_clk_wander_ppm", "ntpd's frequency wander", 1},
};

std::optional<double> as_number(const model::typed_value& t) {
  if (t.type == model::value_type::integer) return static_cast<double>(t.integer);
  if (t.type == model::value_type::number) return t.number;
  return std::nullopt;
}

}  // namespace

std::string control_prometheus(const model::control_run& run, const std::string& version) {
  exposition e;
  const auto build = e.family("ntpkit_build_info", "ntpkit version", metric_type::gauge);
  e.add(build, {{"tool", "ntpmon-query"}, {"version", version}}, 1);
  const auto up = e.family("ntpkit_mode6_up", "1 when every mode 6 read of the server succeeded",
                           metric_type::gauge);
  e.add(up, {{"server", run.host}}, run.ok() ? 1 : 0);
  const label_set server{{"server", run.host}};
  if (run.command == "sysvars") {
    std::vector<std::size_t> ids;
    for (const auto& g : system_gauges) ids.push_back(e.family(g.metric, g.help, metric_type::gauge));
    for (const auto& r : run.reads) {
      if (!r.ok()) continue;
      for (std::size_t i = 0; i < std::size(system_gauges); ++i) {
        const auto* v = proto::find_variable(r.variables, system_gauges[i].variable);
        if (!v) continue;
        if (auto n = as_number(model::read_value(system_gauges[i].variable, *v))) {
          e.add(ids[i], server, *n * system_gauges[i].factor);
        }
      }
    }
  }
  if (run.command == "peers") {
    const auto offset = e.family("ntpkit_peer_offset_seconds", "offset of the source (ntpq -p)",
                                 metric_type::gauge);
    const auto delay = e.family("ntpkit_peer_delay_seconds", "round-trip delay to the source",
                                metric_type::gauge);
    const auto jitter = e.family("ntpkit_peer_jitter_seconds",
                                 "jitter of the source (dispersion when no jitter is sent)",
                                 metric_type::gauge);
    const auto reach = e.family("ntpkit_peer_reach", "the reach register (8 bits)",
                                metric_type::gauge);
    const auto ratio = e.family("ntpkit_peer_reach_ratio", "answered polls of the last 8",
                                metric_type::gauge);
    const auto stratum = e.family("ntpkit_peer_stratum", "stratum of the source",
                                  metric_type::gauge);
    const auto poll = e.family("ntpkit_peer_poll_seconds", "poll interval", metric_type::gauge);
    const auto when = e.family("ntpkit_peer_last_packet_age_seconds",
                               "seconds since the last packet from the source",
                               metric_type::gauge);
    for (const auto& p : run.peers) {
      const label_set l{{"server", run.host},
                        {"association", std::to_string(p.association_id)},
                        {"remote", p.remote},
                        {"refid", p.refid},
                        {"tally", std::string(1, p.tally)}};
      if (p.offset_ms) e.add(offset, l, *p.offset_ms * 1e-3);
      if (p.delay_ms) e.add(delay, l, *p.delay_ms * 1e-3);
      if (p.jitter_ms) e.add(jitter, l, *p.jitter_ms * 1e-3);
      e.add(reach, l, static_cast<double>(p.reach));
      e.add(ratio, l, std::popcount(static_cast<unsigned>(p.reach & 0xff)) / 8.0);
      e.add(stratum, l, static_cast<double>(p.stratum));
      e.add(poll, l, static_cast<double>(p.poll_s));
      if (p.when_s) e.add(when, l, static_cast<double>(*p.when_s));
    }
  }
  const bool stats = run.command == "sysstats" || run.command == "iostats" ||
                     run.command == "monstats" || run.command == "authinfo" ||
                     run.command == "kerninfo";
  if (stats) {
    const auto stat = e.family("ntpkit_ntpd_statistic",
                               "a counter or figure of ntpd's statistics commands, as ntpd "
                               "sends it (counters restart at ntpd's reset)",
                               metric_type::gauge);
    for (const auto& r : run.reads) {
      if (!r.ok()) continue;
      for (const auto& [name, v] : r.variables) {
        if (auto n = as_number(model::read_value(name, v))) {
          e.add(stat, {{"server", run.host}, {"command", run.command}, {"name", name}}, *n);
        }
      }
    }
  }
  if (run.command == "peervars" || run.command == "clockvars") {
    const auto var = e.family("ntpkit_mode6_variable",
                              "a mode 6 variable that reads as a number, in ntpd's unit",
                              metric_type::gauge);
    for (const auto& r : run.reads) {
      if (!r.ok() || r.opcode == proto::control_opcode::read_status) continue;
      for (const auto& [name, v] : r.variables) {
        if (auto n = as_number(model::read_value(name, v))) {
          e.add(var, {{"server", run.host}, {"association", std::to_string(r.association_id)},
                      {"name", name}}, *n);
        }
      }
    }
  }
  return e.str();
}

}  // namespace ntpkit::report
