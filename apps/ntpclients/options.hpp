#pragma once

// ntpclients' command line: the sources as subcommands (pcap, live), each with the census
// options, the output options and the plugin thresholds.

#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ntpkit/capture/flows.hpp"
#include "ntpkit/capture/pcap_source.hpp"
#include "ntpkit/proto/mru.hpp"
#include "ntpkit/report/census.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace ntpkit::apps {

/// The end of --help: exit statuses and examples.
inline constexpr const char* clients_help_footer =
    "Exit status: 0 the report was written, every input was read whole and held NTP;\n"
    "1 an input could not be read (whole) or held no NTP datagram; 2 a usage error or a\n"
    "failed write; 130 (SIGINT) or 143 (SIGTERM) reading files was interrupted, after\n"
    "the report of what was read (a live capture ends normally on them). With --nagios:\n"
    "0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n"
    "\n"
    "Examples:\n"
    "  ntpclients pcap ntp.pcap                      clients, rates, delta time\n"
    "  ntpclients pcap --interval 60 -j *.pcapng.gz | jq .clients.distinct\n"
    "  ntpclients pcap --plot day.svg --csv day.pcap > day.csv\n"
    "  ntpclients live -i eth0 --duration 300 --every 60\n"
    "  ntpclients live -i eth0 --duration 60 --nagios --crit-response 0.01\n"
    "\n"
    "See ntpclients(1).";

/// Census options as written.
struct census_cli {
  int port = 123;
  std::vector<std::string> servers;
  double interval_s = 300;
  double response_timeout_s = 5;
  int top = 10;
  int slowest = 10;
  double rate_limit_s = 8;
  int vxlan_port = 4789;
};

/// Output options as written.
struct clients_output_cli {
  bool json = false;
  bool csv = false;
  bool prometheus = false;
  bool nagios = false;
  bool verbose = false;
  std::string plot;         ///< --plot FILE.svg
  std::string output_file;  ///< -o/--output FILE, replaced whole at each report
  std::string progress = "auto";
};

/// Plugin thresholds as written.
struct clients_plugin_cli {
  std::string warn_clients, crit_clients;
  std::string warn_rate, crit_rate;
  std::string warn_response, crit_response;
  std::string warn_unanswered, crit_unanswered;
  std::string figure = "p99";
  bool no_traffic_critical = false;
};

/// `live` options as written.
struct live_cli {
  std::string interface;
  double duration_s = 0;
  double every_s = 0;
  int snapshot_length = 1024;
  int buffer_mib = 4;
  bool promiscuous = false;
  std::string user = "nobody";
  bool keep_privileges = false;
};

/// `mru` options as written.
struct mru_cli {
  std::string server;  ///< HOST[:PORT]
  bool ipv4 = false, ipv6 = false;
  double timeout_s = 5;
  int retries = 1;
  long long mincount = 0;
  std::string laddr;
  long long limit = 0;   ///< entries wanted (0: all)
  long long recent = 0;  ///< NTPsec: only the newest N
  int max_restarts = 100;
  double max_duration_s = 300;
  bool list = false;
};

/// Everything ntpclients' command line says.
struct clients_cli {
  census_cli census;
  clients_output_cli output;
  clients_plugin_cli plugin;
  std::vector<std::string> files;  ///< pcap
  live_cli live;
  mru_cli mru;
  CLI::App* pcap = nullptr;
  CLI::App* live_command = nullptr;
  CLI::App* mru_command = nullptr;
};

/// Declares the subcommands and their options on `app`.
void add_clients_options(CLI::App& app, clients_cli& o);

/// How the report is written.
enum class clients_output { text, json, csv, prometheus, plugin };

/// What to do.
struct clients_plan {
  enum class source { pcap, live, mru } from = source::pcap;
  capture::census_options census;
  std::vector<std::string> files;
  capture::live_options live;
  std::chrono::nanoseconds duration{};  ///< live: 0 until SIGINT/SIGTERM
  std::chrono::nanoseconds every{};     ///< live: 0 for one report at the end
  std::optional<std::string> user;      ///< live: drop to this user after opening
  std::string mru_server;               ///< mru: HOST[:PORT] as given
  bool ipv4 = false, ipv6 = false;      ///< mru: the family asked for
  proto::mru_walk_options mru;          ///< mru: the walk
  bool list_entries = false;            ///< mru: every entry in the report
  clients_output output = clients_output::text;
  bool verbose = false;
  std::string plot;
  std::string output_file;
  bool progress = false;
  report::census_policy policy;
};

/// Checks what CLI11 cannot and builds the plan; on error, the one-line message.
std::variant<clients_plan, std::string> make_clients_plan(const clients_cli& o);

}  // namespace ntpkit::apps
