#include "options.hpp"

#include <charconv>

#include "../common/option_groups.hpp"

namespace ntpkit::apps {

const char* const monitor_help_footer =
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


namespace {

bool whole_association(const std::string& s) {
  unsigned v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && ec == std::errc{} && end == s.data() + s.size() && v >= 1 && v <= 65535;
}

// The host, command and arguments from the positionals; the one-line message on error.
std::string take_words(const monitor_cli& v, apps::monitor_plan& p) {
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

}  // namespace

void add_monitor_options(CLI::App& app, monitor_cli& v) {
  app.add_option("words", v.words, "[HOST[:PORT]] COMMAND [ARGS]; HOST defaults to localhost")
      ->type_name("[HOST] COMMAND [ARGS]");
  auto* v4 = app.add_flag("-4,--ipv4", v.ipv4, "use an IPv4 address of HOST");
  app.add_flag("-6,--ipv6", v.ipv6, "use an IPv6 address of HOST")->excludes(v4);
  app.add_option("-p,--port", v.port, "port when HOST has none")
      ->check(whole_number(1, 65535))
      ->type_name("PORT")
      ->capture_default_str();
  app.add_option("-t,--timeout", v.timeout_s,
                 "seconds to wait for the first fragment of an answer, and after each later one")
      ->check(seconds_value())
      ->type_name("SECONDS")
      ->capture_default_str();
  app.add_option("-r,--retries", v.retries,
                 "requests to repeat after a timeout or an incomplete answer (ntpq: 1)")
      ->check(whole_number(0, 10))
      ->type_name("N")
      ->capture_default_str();
  app.add_flag("-n,--numeric", v.numeric, "peers: show addresses, no reverse lookups");
  auto* json = app.add_flag("-j,--json", v.json, "one JSON document on stdout (docs/json.md)");
  app.add_flag("--prometheus", v.prometheus, "Prometheus text (node_exporter textfile format)")
      ->excludes(json);
  auto& keys = option_group(app, "Keys");
  add_key_options(keys, v.keys);
  auto& plugin = option_group(app, "Plugin mode");
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
}

std::variant<monitor_run_plan, std::string> make_monitor_plan(const monitor_cli& v) {
  monitor_run_plan out;
  out.nagios = v.nagios;
  out.prometheus = v.prometheus;
  out.thresholds = v.thresholds;
  auto& p = out.plan;
  if (v.nagios && (v.json || v.prometheus)) {
    return std::string("--nagios excludes --json and --prometheus");
  }
  if (v.nagios && v.words.size() <= 1) {
    if (!v.words.empty()) {
      auto t = net::parse_target(v.words[0], static_cast<std::uint16_t>(v.port));
      if (!t) return std::string("bad host '" + v.words[0] + "'");
      p.host = t->host;
      p.port = t->port;
    } else {
      p.port = static_cast<std::uint16_t>(v.port);
    }
  } else if (v.nagios) {
    return std::string("--nagios takes HOST only, no COMMAND");

  } else if (auto e = take_words(v, p); !e.empty()) {
    return std::string(e);
  }
  if (!(v.timeout_s > 0 && v.timeout_s <= 3600)) {
    return std::string("--timeout must be above 0 and at most 3600 seconds");
  }
  p.address_family = v.ipv4 ? net::family::ipv4 : v.ipv6 ? net::family::ipv6 : net::family::any;
  p.numeric = v.numeric;
  p.json = v.json;
  p.client.timeout = to_ms(v.timeout_s);
  p.client.fragment_timeout = to_ms(v.timeout_s);
  p.client.retries = static_cast<unsigned>(v.retries);
  auto key = load_key_options("ntpmon-query", v.keys);
  if (auto* e = std::get_if<std::string>(&key)) return std::string(*e);
  if (auto& k = std::get<std::optional<chosen_key>>(key)) {
    p.client.key = k->key;
    p.client.digest = v.keys.mac_length == "full" ? proto::digest_length::full
                                                  : proto::digest_length::truncate_20;
  }
  return out;
}

}  // namespace ntpkit::apps
