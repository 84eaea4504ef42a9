#pragma once

// ntpprobe's command line: the shared groups (targets, timing, keys, output) and its own
// (interleaved mode, NTP version, refid candidates, broadcast listening, plugin thresholds).

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "../common/options.hpp"
#include "../common/output.hpp"
#include "ntpkit/net/broadcast.hpp"
#include "ntpkit/net/ntp_client.hpp"
#include "ntpkit/report/ntp_plugin.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace ntpkit::apps {

/// Plugin-mode options as written on the command line (ranges still text).
struct plugin_cli {
  std::string warn_offset, crit_offset;
  std::string warn_stratum, crit_stratum;
  std::string warn_delay, crit_delay;
  std::string warn_jitter, crit_jitter;
  std::string warn_root_distance, crit_root_distance;
  std::string warn_processing, crit_processing;
  std::vector<std::string> expect_refid;
  bool leap_ok = false;
  bool no_reply_critical = false;
  int min_ok = 0;
  double time_offset_s = 0;
};

/// The end of --help: exit statuses and examples.
inline constexpr const char* probe_help_footer =
    "Exit status: 0 every address answered and passed every check; 1 at least one\n"
    "target failed (no reply, unreachable, Kiss-o'-Death, bad MAC, unsynchronised,\n"
    "did not resolve); 2 a usage error or a failed write of the results; 130 (SIGINT)\n"
    "or 143 (SIGTERM) interrupted, after writing what had finished. With --nagios:\n"
    "0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (usage errors and interruptions too).\n"
    "\n"
    "Examples:\n"
    "  ntpprobe pool.ntp.org                    every address of the name\n"
    "  ntpprobe -v -n 4 ntp1.example.net        every field of 4 samples\n"
    "  ntpprobe -j -f servers.txt | jq .ok      JSON for scripts\n"
    "  ntpprobe --nagios -w 0.1 -c 0.5 --crit-stratum 1:3 ntp1.example.net\n"
    "\n"
    "See ntpprobe(1) and ntpkit-keys(5).";

/// Everything ntpprobe's command line says.
struct probe_cli {
  target_options targets;
  timing_options timing;
  key_options keys;
  output_options output;
  bool interleaved = false;
  int ntp_version = 4;
  int concurrency = 0;
  std::vector<std::string> upstreams;
  bool listen_broadcast = false;
  std::string listen_address;
  double listen_duration_s = 70;
  double broadcast_delay_s = 0.004;
  plugin_cli plugin;
};

/// Declares ntpprobe's options on `app`, writing into `o`. With `only_servers`, just the
/// positional servers: for a command line none of whose arguments starts with '-', where no
/// option can match, the parse is the same and CLI11 does not spend ~15,000 instructions on
/// each of the 45 options it would never see.
void add_probe_options(CLI::App& app, probe_cli& o, bool only_servers = false);

/// What to do: the library's options, the targets, the output and the plugin policy.
struct probe_plan {
  net::probe_options options;
  std::vector<net::target> targets;
  report::plugin_policy policy;
  output_mode output = output_mode::text;
  std::optional<net::broadcast_options> broadcast;  ///< set in --listen-broadcast mode
};

/// Checks what CLI11 cannot (ranges, dependent options, the server files) and builds the plan;
/// `given` says which options were on the command line. On error, the one-line message.
std::variant<probe_plan, std::string> make_plan(const probe_cli& o, const CLI::App& given);

}  // namespace ntpkit::apps
