#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ntpkit/net/broadcast.hpp"
#include "ntpkit/net/ntp_client.hpp"
#include "ntpkit/report/nagios.hpp"

namespace ntpkit::apps {

/// Plugin-mode options as written on the command line (ranges still text).
struct plugin_cli {
  bool enabled = false;
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

/// Everything ntpprobe's command line says.
struct probe_cli {
  std::vector<std::string> servers;
  std::string server_file;
  bool ipv4 = false;
  bool ipv6 = false;
  int port = 123;
  double timeout_s = 2.0;
  int retries = 0;
  int samples = 1;
  double interval_s = 2.0;
  bool allow_fast = false;
  bool interleaved = false;
  int ntp_version = 4;
  int concurrency = 0;
  std::vector<std::string> upstreams;
  bool json = false;
  bool json_lines = false;
  bool prometheus = false;
  bool verbose = false;
  bool timeout_given = false;  ///< -t was on the command line (set by main after parsing)
  bool listen_broadcast = false;
  std::string listen_address;
  double broadcast_delay_s = 0.004;
  long long key_id = -1;
  std::string key_file;
  std::string mac_length;
  plugin_cli plugin;
};

/// Declares ntpprobe's options on `app`, writing into `o`. With `only_servers`, just the
/// positional servers: for a command line none of whose arguments starts with '-' (see
/// needs_only_servers), where no option can match, the parse is the same and CLI11 does not
/// spend ~15,000 instructions on each of the 45 options it would never see.
void add_probe_options(CLI::App& app, probe_cli& o, bool only_servers = false);

/// True when no argument after argv[0] starts with '-': no option, no --help, no "-" for stdin.
bool needs_only_servers(int argc, const char* const* argv);

/// What to do: the library's options, the targets, and the plugin policy.
struct probe_plan {
  net::probe_options options;
  std::vector<net::target> targets;
  report::plugin_policy policy;
  std::optional<net::broadcast_options> broadcast;  ///< set in --listen-broadcast mode
};

/// Checks what CLI11 cannot (ranges, dependent options, the server file) and builds the plan;
/// on error, the one-line message.
std::variant<probe_plan, std::string> make_plan(const probe_cli& o);

/// Reads targets, one per line ('#' starts a comment), from `path` or stdin for "-".
std::variant<std::vector<std::string>, std::string> read_server_file(const std::string& path);

}  // namespace ntpkit::apps
