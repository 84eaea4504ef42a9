// ntpmon-query: read an ntpd's state over NTP mode 6 (RFC 9327), as ntpq does: system, peer
// and clock variables, the association list and the peers table, as text or JSON.

#include <charconv>
#include <cstdio>

#include "../common/cli.hpp"
#include "../common/clock_guard.hpp"
#include "../common/option_groups.hpp"
#include "../common/output.hpp"
#include "ntpkit/report/control.hpp"
#include "ntpkit/version.hpp"
#include "gps.hpp"
#include "peer_health.hpp"
#include "query.hpp"

using namespace ntpkit;

namespace {

constexpr const char* help_footer =
    "Commands:\n"
    "  sysvars (rv) [NAME...]           system variables, all or the names given\n"
    "  peers (pe)                       the table ntpq -p shows\n"
    "  associations (as)                the association list\n"
    "  peervars ASSOCID|all [NAME...]   peer variables of one or every association\n"
    "  clockvars (cv) [ASSOCID] [NAME...]  reference clock variables (every clock without\n"
    "                                   ASSOCID)\n"
    "  gps [HOST[:PORT]]                the GPS receiver, from gpsd (default HOST, port 2947)\n"
    "  sysstats, iostats, monstats, authinfo, kerninfo\n"
    "                                   ntpd's counters, as ntpq's commands of these names\n";

bool whole_association(const std::string& s) {
  unsigned v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && ec == std::errc{} && end == s.data() + s.size() && v >= 1 && v <= 65535;
}

struct cli_values {
  std::vector<std::string> words;
  bool ipv4 = false, ipv6 = false, numeric = false, json = false;
  int port = 123;
  double timeout_s = 2.0;
  int retries = 1;
  apps::key_options keys;
  bool nagios = false;
  bool prometheus = false;
  apps::peer_thresholds thresholds;
};

// The host, command and arguments from the positionals; the one-line message on error.
std::string take_words(const cli_values& v, apps::monitor_plan& p) {
  if (v.words.empty()) return "a COMMAND is needed (see --help)";
  std::size_t i = 0;
  if (apps::canonical_command(v.words[0]).empty()) {
    if (v.words.size() < 2) return "'" + v.words[0] + "' is no command (see --help)";
    auto t = net::parse_target(v.words[0], static_cast<std::uint16_t>(v.port));
    if (!t) return "bad host '" + v.words[0] + "': " + t.error().message();
    p.host = t->host;
    p.port = t->port;
    i = 1;
  } else {
    p.port = static_cast<std::uint16_t>(v.port);
  }
  p.command = apps::canonical_command(v.words[i]);
  if (p.command.empty()) return "'" + v.words[i] + "' is no command (see --help)";
  p.args.assign(v.words.begin() + static_cast<std::ptrdiff_t>(i + 1), v.words.end());
  if (p.command == "peervars") {
    if (p.args.empty()) return "peervars needs ASSOCID or 'all'";
    if (p.args[0] != "all" && !whole_association(p.args[0])) {
      return "'" + p.args[0] + "' is no association id (1 to 65535) nor 'all'";
    }
  } else if (p.command == "gps") {
    if (p.args.size() > 1) return "gps takes at most one HOST[:PORT] of gpsd";
  } else if (p.command == "clockvars") {
    if (!p.args.empty() && !whole_association(p.args[0])) p.args.insert(p.args.begin(), "all");
  } else if ((p.command == "peers" || p.command == "associations" ||
              !apps::stats_variables(p.command).empty()) &&
             !p.args.empty()) {
    return p.command + " takes no arguments";
  }
  return {};
}

void write_text(const model::control_run& run) {
  if (!run.resolve_error.empty()) {
    apps::out().write(run.host + ": " + run.resolve_error + "\n");
    return;
  }
  bool first = true;
  for (const auto& r : run.reads) {
    if (!r.ok()) {
      apps::out().write(report::read_error_text(run, r) + "\n");
      continue;
    }
    if (run.command == "peers") continue;
    if (r.opcode == proto::control_opcode::read_status) {
      if (run.command == "associations") apps::out().write(report::associations_text(r));
      continue;
    }
    if (!apps::stats_variables(run.command).empty()) {
      apps::out().write(report::statistics_text(r));
      continue;
    }
    if (!first) apps::out().write("\n");
    first = false;
    apps::out().write(report::variables_text(r));
  }
  if (run.command == "peers" && !run.reads.empty() && run.reads.front().ok()) {
    apps::out().write(report::peers_text(run.peers));
  }
}

}  // namespace

// --nagios: the server's health as check_ntp_peer judges it (peer_health.hpp).
int run_nagios(const cli_values& v, const apps::monitor_plan& p) {
  auto fail = [](const std::string& line) {
    apps::out().write("NTP UNKNOWN: " + report::terminal_safe(line) + "\n");
    return apps::finish_output("ntpmon-query", apps::exit_code::plugin_unknown, true);
  };
  net::target t;
  t.spec = t.host = p.host;
  t.port = p.port;
  const auto server = apps::resolve_first(t, p.address_family);
  if (!server) return fail(p.host + " does not resolve");
  const auto h = apps::read_peer_health(*server, p.client.timeout, p.client.key,
                                        v.thresholds.refclocks);
  if (h.unreachable || h.timed_out) {
    apps::out().write(std::string("NTP CRITICAL: ") +
                      (h.unreachable ? "No response from NTP server (unreachable)"
                                     : "No response from NTP server (timeout)") +
                      "\n");
    return apps::finish_output("ntpmon-query", apps::exit_code::plugin_critical, true);
  }
  auto verdict = apps::judge_peer_health(h, v.thresholds);
  if (!verdict) return fail("a threshold is no Nagios range");
  apps::out().write(verdict->line + "\n");
  return apps::finish_output("ntpmon-query", apps::exit_code::of_plugin(verdict->state), true);
}

int main(int argc, char** argv) {
  apps::guard_standard_descriptors();
  if (apps::invoked_as(argv[0], "check_ntp_peer")) {
    return apps::finish_output("check_ntp_peer", apps::check_ntp_peer_main(argc, argv), true);
  }
  CLI::App app{"Read an ntpd's state over NTP mode 6 (RFC 9327), as ntpq does: system, peer and "
               "clock variables, associations and the peers table, as text or JSON.",
               "ntpmon-query"};
  apps::configure(app);
  app.footer(help_footer);
  cli_values v;
  app.add_option("words", v.words, "[HOST[:PORT]] COMMAND [ARGS]; HOST defaults to localhost")
      ->type_name("[HOST] COMMAND [ARGS]");
  auto* v4 = app.add_flag("-4,--ipv4", v.ipv4, "use an IPv4 address of HOST");
  app.add_flag("-6,--ipv6", v.ipv6, "use an IPv6 address of HOST")->excludes(v4);
  app.add_option("-p,--port", v.port, "port when HOST has none")
      ->check(apps::whole_number(1, 65535))
      ->type_name("PORT")
      ->capture_default_str();
  app.add_option("-t,--timeout", v.timeout_s,
                 "seconds to wait for the first fragment of an answer, and after each later one")
      ->check(apps::seconds_value())
      ->type_name("SECONDS")
      ->capture_default_str();
  app.add_option("-r,--retries", v.retries,
                 "requests to repeat after a timeout or an incomplete answer (ntpq: 1)")
      ->check(apps::whole_number(0, 10))
      ->type_name("N")
      ->capture_default_str();
  app.add_flag("-n,--numeric", v.numeric, "peers: show addresses, no reverse lookups");
  auto* json = app.add_flag("-j,--json", v.json, "one JSON document on stdout (docs/json.md)");
  app.add_flag("--prometheus", v.prometheus, "Prometheus text (node_exporter textfile format)")
      ->excludes(json);
  auto& keys = apps::option_group(app, "Keys");
  apps::add_key_options(keys, v.keys);
  auto& plugin = apps::option_group(app, "Plugin mode");
  plugin.add_flag("--nagios", v.nagios,
                  "check the server's health as check_ntp_peer does: status line, perfdata, "
                  "exit 0-3 (HOST only, no COMMAND)");
  auto range = [&](const char* name, std::string& to, bool* enable, const char* help) {
    auto* opt = plugin.add_option(name, to, help)->type_name("RANGE");
    if (enable) opt->each([enable](const std::string&) { *enable = true; });
  };
  auto& t = v.thresholds;
  range("--warning", t.offset_warn, nullptr, "|offset| of the sys.peer in seconds (default 60)");
  range("--critical", t.offset_crit, nullptr, "|offset| of the sys.peer in seconds (default 120)");
  range("--stratum-warning", t.stratum_warn, &t.do_stratum, "stratum of the sys.peer");
  range("--stratum-critical", t.stratum_crit, &t.do_stratum, "stratum of the sys.peer");
  range("--jitter-warning", t.jitter_warn, &t.do_jitter, "jitter of the sys.peer in ms");
  range("--jitter-critical", t.jitter_crit, &t.do_jitter, "jitter of the sys.peer in ms");
  range("--truechimers-warning", t.truechimers_warn, &t.do_truechimers,
        "number of usable sources (selection excess or better)");
  range("--truechimers-critical", t.truechimers_crit, &t.do_truechimers,
        "number of usable sources (selection excess or better)");
  plugin.add_flag("--refclocks", t.refclocks,
                  "also WARNING for each reference clock whose state is not nominal");
  plugin.add_flag("--quiet", t.quiet, "UNKNOWN instead of CRITICAL or WARNING when the server is "
                                      "not synchronised");
  if (auto rc = apps::parse(app, argc, argv)) return *rc;

  apps::monitor_plan p;
  if (v.nagios && (v.json || v.prometheus)) {
    return apps::usage_error(app, "--nagios excludes --json and --prometheus");
  }
  if (v.nagios && v.words.size() <= 1) {
    if (!v.words.empty()) {
      auto t = net::parse_target(v.words[0], static_cast<std::uint16_t>(v.port));
      if (!t) return apps::usage_error(app, "bad host '" + v.words[0] + "'");
      p.host = t->host;
      p.port = t->port;
    } else {
      p.port = static_cast<std::uint16_t>(v.port);
    }
  } else if (v.nagios) {
    return apps::usage_error(app, "--nagios takes HOST only, no COMMAND");

  } else if (auto e = take_words(v, p); !e.empty()) {
    return apps::usage_error(app, e);
  }
  if (!(v.timeout_s > 0 && v.timeout_s <= 3600)) {
    return apps::usage_error(app, "--timeout must be above 0 and at most 3600 seconds");
  }
  p.address_family = v.ipv4 ? net::family::ipv4 : v.ipv6 ? net::family::ipv6 : net::family::any;
  p.numeric = v.numeric;
  p.json = v.json;
  p.client.timeout = apps::to_ms(v.timeout_s);
  p.client.fragment_timeout = apps::to_ms(v.timeout_s);
  p.client.retries = static_cast<unsigned>(v.retries);
  auto key = apps::load_key_options("ntpmon-query", v.keys);
  if (auto* e = std::get_if<std::string>(&key)) return apps::usage_error(app, *e);
  if (auto& k = std::get<std::optional<apps::chosen_key>>(key)) {
    p.client.key = k->key;
    p.client.digest = v.keys.mac_length == "full" ? proto::digest_length::full
                                                  : proto::digest_length::truncate_20;
  }
  if (auto ec = apps::forbid_clock_changes()) {
    std::fprintf(stderr, "ntpmon-query: warning: cannot forbid clock changes: %s\n",
                 ec.message().c_str());
  }
  if (v.nagios) return run_nagios(v, p);
  if (p.command == "gps") {
    std::string host = p.host;
    std::uint16_t port = 2947;
    if (!p.args.empty()) {
      auto t = net::parse_target(p.args[0], 2947);
      if (!t) return apps::usage_error(app, "bad gpsd address '" + p.args[0] + "'");
      host = t->host;
      port = t->port;
    }
    const auto g = apps::read_gps(host, port, p.client.timeout);
    apps::out().write(p.json ? apps::gps_json(g, version_string) : apps::gps_text(g));
    return apps::finish_output("ntpmon-query", apps::exit_code::of_run(g.error.empty()), false);
  }
  const auto run = apps::run_monitor(p);
  if (v.prometheus) {
    apps::out().write(report::control_prometheus(run, version_string));
  } else if (p.json) {
    apps::out().write(report::control_json(run, version_string));
  } else {
    write_text(run);
  }
  return apps::finish_output("ntpmon-query", apps::exit_code::of_run(run.ok()), false);
}
