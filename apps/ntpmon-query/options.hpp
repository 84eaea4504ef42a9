#pragma once

// ntpmon-query's command line: [HOST[:PORT]] COMMAND [ARGS], the shared target, timing and
// key options, and the plugin thresholds; checked into the plan a run takes.

#include <string>
#include <variant>
#include <vector>

#include "../common/keyfile.hpp"
#include "../common/options.hpp"
#include "peer_health.hpp"
#include "query.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace ntpkit::apps {

/// The end of --help: the commands.
extern const char* const monitor_help_footer;

/// What the command line says.
struct monitor_cli {
  std::vector<std::string> words;
  bool ipv4 = false, ipv6 = false, numeric = false, json = false;
  int port = 123;
  double timeout_s = 2.0;
  int retries = 1;
  key_options keys;
  bool nagios = false;
  bool prometheus = false;
  peer_thresholds thresholds;
};

/// What to do.
struct monitor_run_plan {
  monitor_plan plan;
  bool nagios = false;
  bool prometheus = false;
  peer_thresholds thresholds;
};

/// Declares the positionals and options on `app`.
void add_monitor_options(CLI::App& app, monitor_cli& v);

/// Checks what CLI11 cannot and builds the plan; on error, the one-line message.
std::variant<monitor_run_plan, std::string> make_monitor_plan(const monitor_cli& v);

}  // namespace ntpkit::apps
