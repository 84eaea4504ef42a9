#include "options.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "../common/option_groups.hpp"
#include "../common/plugin_options.hpp"
#include "../common/round.hpp"
#include "ntpkit/report/format.hpp"

namespace ntpkit::apps {
namespace {

void add_census_options(CLI::App& parent, census_cli& c) {
  CLI::App& app = option_group(parent, "Census");
  app.add_option("-p,--port", c.port, "the server's NTP port")
      ->check(whole_number(1, 65535))
      ->type_name("PORT")
      ->capture_default_str();
  app.add_option("--server", c.servers,
                 "the server's address: only datagrams to or from it count (default: any "
                 "address on the port); repeatable")
      ->allow_extra_args(false)
      ->type_name("ADDRESS");
  app.add_option("--interval", c.interval_s, "seconds per interval of the per-interval counts")
      ->check(seconds_value())
      ->type_name("SECONDS")
      ->capture_default_str();
  app.add_option("--response-timeout", c.response_timeout_s,
                 "seconds after which an answer is late; a request unanswered for twice it is "
                 "unanswered")
      ->check(seconds_value())
      ->type_name("SECONDS")
      ->capture_default_str();
  app.add_option("--top", c.top, "top talkers listed")
      ->check(whole_number(0, 100000))
      ->type_name("N")
      ->capture_default_str();
  app.add_option("--slowest", c.slowest, "slowest answers listed, with their frame numbers")
      ->check(whole_number(0, 100000))
      ->type_name("N")
      ->capture_default_str();
  app.add_option("--rate-limit", c.rate_limit_s,
                 "a client whose median request interval is shorter is fast (ntpd's discard "
                 "average 3: 8 s)")
      ->check(seconds_value())
      ->type_name("SECONDS")
      ->capture_default_str();
  app.add_option("--vxlan-port", c.vxlan_port, "UDP port decoded as VXLAN (0: none)")
      ->check(whole_number(0, 65535))
      ->type_name("PORT")
      ->capture_default_str();
}

void add_output(CLI::App& parent, clients_output_cli& o) {
  CLI::App& app = option_group(parent, "Output");
  auto* json = app.add_flag("-j,--json", o.json,
                            "JSON (docs/json.md); with live --every one line per period");
  auto* csv = app.add_flag("--csv", o.csv, "CSV, one row per interval");
  auto* prom = app.add_flag("--prometheus", o.prometheus,
                            "Prometheus text format (counters, gauges, histograms)");
  json->excludes(csv)->excludes(prom);
  csv->excludes(prom);
  app.add_flag("-v,--verbose", o.verbose,
               "text: the delta and processing histograms and every frame count");
  app.add_option("--plot", o.plot, "also draw clients, packets and delta times as SVG to FILE")
      ->type_name("FILE.svg");
  app.add_option("-o,--output", o.output_file,
                 "write the report to FILE instead of stdout, replaced whole (atomically) at "
                 "each report")
      ->type_name("FILE");
  app.add_option("--progress", o.progress,
                 "progress on stderr while reading: auto (when stderr is a terminal), always, "
                 "never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->type_name("WHEN")
      ->capture_default_str();
}

void add_plugin(CLI::App& parent, clients_plugin_cli& p, bool& enabled) {
  CLI::App& app = option_group(parent, "Plugin mode (--nagios)");
  app.add_flag("--nagios", enabled,
               "plugin mode: one status line with perfdata, exit 0/1/2/3 = OK/WARNING/CRITICAL/"
               "UNKNOWN");
  add_range(app, "--warn-clients", p.warn_clients, "WARNING when the distinct clients are outside");
  add_range(app, "--crit-clients", p.crit_clients, "CRITICAL when the distinct clients are outside");
  add_range(app, "--warn-rate", p.warn_rate, "WARNING when the peak packets/s is outside");
  add_range(app, "--crit-rate", p.crit_rate, "CRITICAL when the peak packets/s is outside");
  add_range(app, "--warn-response", p.warn_response,
            "WARNING when the response time in seconds (--response-figure) is outside");
  add_range(app, "--crit-response", p.crit_response,
            "CRITICAL when the response time in seconds (--response-figure) is outside");
  add_range(app, "--warn-unanswered", p.warn_unanswered,
            "WARNING when the unanswered requests in percent are outside");
  add_range(app, "--crit-unanswered", p.crit_unanswered,
            "CRITICAL when the unanswered requests in percent are outside");
  app.add_option("--response-figure", p.figure,
                 "which delta time the response thresholds judge: median, p90, p99, max")
      ->check(CLI::IsMember({"median", "p90", "p99", "max"}))
      ->type_name("FIGURE")
      ->capture_default_str();
  app.add_flag("--no-traffic-critical", p.no_traffic_critical,
               "no NTP traffic is CRITICAL instead of UNKNOWN (--nagios)");
}

void add_shared(CLI::App& sub, clients_cli& o) {
  add_census_options(sub, o.census);
  add_output(sub, o.output);
  add_plugin(sub, o.plugin, o.output.nagios);
}

std::string make_policy(const clients_plugin_cli& c, bool enabled, report::census_policy& p) {
  const std::pair<const char*, std::pair<const std::string*, std::optional<report::nagios_range>*>>
      ranges[] = {
          {"--warn-clients", {&c.warn_clients, &p.clients.warning}},
          {"--crit-clients", {&c.crit_clients, &p.clients.critical}},
          {"--warn-rate", {&c.warn_rate, &p.rate.warning}},
          {"--crit-rate", {&c.crit_rate, &p.rate.critical}},
          {"--warn-response", {&c.warn_response, &p.response.warning}},
          {"--crit-response", {&c.crit_response, &p.response.critical}},
          {"--warn-unanswered", {&c.warn_unanswered, &p.unanswered.warning}},
          {"--crit-unanswered", {&c.crit_unanswered, &p.unanswered.critical}},
      };
  bool any = c.no_traffic_critical || c.figure != "p99";
  for (const auto& [flag, target] : ranges) {
    if (auto e = set_range(flag, *target.first, *target.second); !e.empty()) return e;
    any = any || !target.first->empty();
  }
  if (any && !enabled) return "thresholds and plugin options need --nagios";
  p.no_traffic_critical = c.no_traffic_critical;
  p.figure = c.figure == "median" ? report::response_figure::median
             : c.figure == "p90"  ? report::response_figure::p90
             : c.figure == "max"  ? report::response_figure::max
                                  : report::response_figure::p99;
  return {};
}

// Seconds in (0, max] as nanoseconds, or the message.
std::string positive_seconds(const char* flag, double s, double max, std::chrono::nanoseconds& into) {
  if (!std::isfinite(s) || !(s > 0) || s > max) {
    return std::string(flag) + " must be more than 0 and at most " +
           std::to_string(static_cast<long long>(max)) + " seconds";
  }
  into = std::chrono::nanoseconds(round_ll(s * 1e9));
  if (into.count() == 0) return std::string(flag) + " must be at least 1 ns";
  return {};
}

}  // namespace

void add_clients_options(CLI::App& app, clients_cli& o) {
  app.require_subcommand(1, 1);
  o.pcap = app.add_subcommand("pcap", "read capture files (pcap, pcapng, gzip-compressed or "
                                      "not), merged in time order");
  o.pcap->add_option("file", o.files, "capture file; repeatable")
      ->required()
      ->type_name("FILE");
  add_shared(*o.pcap, o);

  o.live_command = app.add_subcommand(
      "live", "capture on an interface (needs CAP_NET_RAW; privileges are dropped after it "
              "is open); ends after --duration or on SIGINT/SIGTERM with the report");
  CLI::App& live = *o.live_command;
  live.add_option("-i,--interface", o.live.interface, "the interface (eth0, lo, any)")
      ->required()
      ->type_name("IFACE");
  live.add_option("--duration", o.live.duration_s,
                  "seconds to capture (default: until SIGINT/SIGTERM)")
      ->check(seconds_value())
      ->type_name("SECONDS");
  live.add_option("--every", o.live.every_s,
                  "also report every SECONDS, periods aligned to the wall clock (text and "
                  "JSON to stdout; --csv and --prometheus need -o)")
      ->check(seconds_value())
      ->type_name("SECONDS");
  live.add_option("--snaplen", o.live.snapshot_length, "bytes kept of each frame")
      ->check(whole_number(96, 262144))
      ->type_name("BYTES")
      ->capture_default_str();
  live.add_option("--buffer-size", o.live.buffer_mib, "kernel capture buffer in MiB")
      ->check(whole_number(1, 4096))
      ->type_name("MIB")
      ->capture_default_str();
  live.add_flag("--promiscuous", o.live.promiscuous, "put the interface in promiscuous mode");
  auto* user = live.add_option("--user", o.live.user,
                               "run as this user once the capture is open (when started as root)")
                   ->type_name("USER")
                   ->capture_default_str();
  live.add_flag("--keep-privileges", o.live.keep_privileges,
                "do not drop privileges after opening the capture")
      ->excludes(user);
  add_shared(live, o);

  o.mru_command = app.add_subcommand(
      "mru", "read ntpd's MRU list over mode 6 (ntp.org 4.2.8, NTPsec), as ntpq -c mrulist "
             "does but to its end: clients by ntpd's own counts (no answer times)");
  CLI::App& mru = *o.mru_command;
  mru.add_option("server", o.mru.server, "the ntpd: HOST, HOST:PORT, [IPV6]:PORT")
      ->required()
      ->type_name("HOST[:PORT]");
  auto* v4 = mru.add_flag("-4,--ipv4", o.mru.ipv4, "use an IPv4 address of HOST");
  mru.add_flag("-6,--ipv6", o.mru.ipv6, "use an IPv6 address of HOST")->excludes(v4);
  mru.add_option("-t,--timeout", o.mru.timeout_s, "seconds to wait for each answer")
      ->check(seconds_value())
      ->type_name("SECONDS")
      ->capture_default_str();
  mru.add_option("-r,--retries", o.mru.retries, "requests repeated after a timeout")
      ->check(whole_number(0, 10))
      ->type_name("N")
      ->capture_default_str();
  mru.add_option("--mincount", o.mru.mincount, "only entries with at least N packets (ntpq's "
                                               "mincount=)")
      ->check(whole_number(0, 1'000'000'000))
      ->type_name("N");
  mru.add_option("--laddr", o.mru.laddr, "only entries that came to this local address of "
                                         "the server (ntpq's laddr=)")
      ->type_name("ADDRESS");
  mru.add_option("--limit", o.mru.limit, "read at most N entries, the oldest first (0: all)")
      ->check(whole_number(0, 10'000'000))
      ->type_name("N");
  mru.add_option("--recent", o.mru.recent, "NTPsec: only the N most recent entries (ntpq's "
                                           "recent=)")
      ->check(whole_number(1, 10'000'000))
      ->type_name("N");
  mru.add_option("--max-restarts", o.mru.max_restarts,
                 "times the walk may start again when the list changed under it (ntpq gives "
                 "up after 8)")
      ->check(whole_number(0, 10000))
      ->type_name("N")
      ->capture_default_str();
  mru.add_option("--max-duration", o.mru.max_duration_s, "seconds the whole walk may take")
      ->check(seconds_value())
      ->type_name("SECONDS")
      ->capture_default_str();
  mru.add_flag("--list", o.mru.list, "also list every entry (text: a table like ntpq's "
                                     "mrulist; JSON: mru.list)");
  // Of the census options only these mean something for an MRU list.
  CLI::App& census = option_group(mru, "Census");
  census.add_option("-p,--port", o.census.port, "port for a HOST given without one")
      ->check(whole_number(1, 65535))
      ->type_name("PORT")
      ->capture_default_str();
  census.add_option("--top", o.census.top, "top talkers listed")
      ->check(whole_number(0, 100000))
      ->type_name("N")
      ->capture_default_str();
  census.add_option("--rate-limit", o.census.rate_limit_s,
                    "a client whose mean request interval is shorter is fast")
      ->check(seconds_value())
      ->type_name("SECONDS")
      ->capture_default_str();
  add_output(mru, o.output);
  add_plugin(mru, o.plugin, o.output.nagios);
}

std::variant<clients_plan, std::string> make_clients_plan(const clients_cli& o) {
  clients_plan p;
  const bool live = o.live_command != nullptr && o.live_command->parsed();
  const bool mru = o.mru_command != nullptr && o.mru_command->parsed();
  p.from = live  ? clients_plan::source::live
           : mru ? clients_plan::source::mru
                 : clients_plan::source::pcap;

  auto& c = p.census;
  c.server_port = static_cast<std::uint16_t>(o.census.port);
  for (const auto& s : o.census.servers) {
    model::ip_address a;
    if (!model::parse_ip_address(s, a)) {
      return "--server: '" + report::printable(s) + "' is not an IP address";
    }
    c.server_addresses.push_back(a);
  }
  if (auto e = positive_seconds("--interval", o.census.interval_s, 7 * 86400.0, c.interval);
      !e.empty()) {
    return e;
  }
  if (auto e = positive_seconds("--response-timeout", o.census.response_timeout_s, 3600,
                                c.response_timeout);
      !e.empty()) {
    return e;
  }
  if (auto e = positive_seconds("--rate-limit", o.census.rate_limit_s, 86400, c.rate_limit);
      !e.empty()) {
    return e;
  }
  c.top = static_cast<std::size_t>(o.census.top);
  c.slowest = static_cast<std::size_t>(o.census.slowest);
  c.decode.vxlan_port = static_cast<std::uint16_t>(o.census.vxlan_port);

  const auto& out = o.output;
  p.output = out.nagios       ? clients_output::plugin
             : out.json       ? clients_output::json
             : out.csv        ? clients_output::csv
             : out.prometheus ? clients_output::prometheus
                              : clients_output::text;
  if (out.nagios && (out.json || out.csv || out.prometheus)) {
    return std::string("--nagios cannot be combined with -j, --csv or --prometheus");
  }
  if (out.verbose && p.output != clients_output::text) {
    return std::string("-v/--verbose only changes the text report");
  }
  p.verbose = out.verbose;
  p.plot = out.plot;
  p.output_file = out.output_file;
  if (!p.plot.empty() && p.plot == p.output_file) {
    return std::string("--plot and --output name the same file");
  }
  if (auto e = make_policy(o.plugin, out.nagios, p.policy); !e.empty()) return e;

  if (mru) {
    const auto& m = o.mru;
    p.mru_server = m.server;
    p.ipv4 = m.ipv4;
    p.ipv6 = m.ipv6;
    p.list_entries = m.list;
    std::chrono::nanoseconds t{};
    if (auto e = positive_seconds("--timeout", m.timeout_s, 60, t); !e.empty()) return e;
    p.mru.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(t);
    if (p.mru.timeout.count() == 0) p.mru.timeout = std::chrono::milliseconds(1);
    p.mru.fragment_timeout = std::min(p.mru.timeout, std::chrono::milliseconds(3000));
    p.mru.retries = static_cast<unsigned>(m.retries);
    p.mru.max_restarts = static_cast<unsigned>(m.max_restarts);
    std::chrono::nanoseconds d{};
    if (auto e = positive_seconds("--max-duration", m.max_duration_s, 86400, d); !e.empty()) {
      return e;
    }
    p.mru.max_duration = std::max(std::chrono::seconds(1),
                                  std::chrono::duration_cast<std::chrono::seconds>(d));
    if (m.recent > 0) p.mru.parameters.emplace_back("recent", std::to_string(m.recent));
    if (m.mincount > 0) p.mru.parameters.emplace_back("mincount", std::to_string(m.mincount));
    if (!m.laddr.empty()) {
      model::ip_address a;
      if (!model::parse_ip_address(m.laddr, a)) {
        return "--laddr: '" + report::printable(m.laddr) + "' is not an IP address";
      }
      p.mru.parameters.emplace_back("laddr", m.laddr);
    }
    if (m.limit > 0) p.mru.max_rows = static_cast<std::size_t>(m.limit);
    if (p.output == clients_output::csv) {
      return std::string("--csv has no rows for an MRU list (it has no intervals)");
    }
    return p;
  }
  if (!live) {
    p.files = o.files;
    p.progress = out.progress == "always" || (out.progress == "auto" && ::isatty(2));
    return p;
  }

  p.progress = false;
  p.live.interface = o.live.interface;
  if (p.live.interface.empty()) return std::string("-i/--interface: an interface is needed");
  p.live.port = c.server_port;
  p.live.snapshot_length = o.live.snapshot_length;
  p.live.buffer_bytes = o.live.buffer_mib << 20;
  p.live.promiscuous = o.live.promiscuous;
  if (o.live.duration_s != 0) {
    if (auto e = positive_seconds("--duration", o.live.duration_s, 366 * 86400.0, p.duration);
        !e.empty()) {
      return e;
    }
  }
  if (o.live.every_s != 0) {
    if (auto e = positive_seconds("--every", o.live.every_s, 86400, p.every); !e.empty()) return e;
    if (p.every < std::chrono::seconds(1)) return std::string("--every must be at least 1 second");
    if (out.nagios) return std::string("--every cannot be combined with --nagios");
    if ((p.output == clients_output::csv || p.output == clients_output::prometheus) &&
        p.output_file.empty()) {
      return std::string("--every with --csv or --prometheus needs -o/--output FILE");
    }
  }
  if (!o.live.keep_privileges && !o.live.user.empty()) p.user = o.live.user;
  return p;
}

}  // namespace ntpkit::apps
