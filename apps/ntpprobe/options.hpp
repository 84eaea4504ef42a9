#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <variant>
#include <string>
#include <vector>

#include "ntpkit/net/ntp_client.hpp"

namespace ntpkit::apps {

/// Everything ntpprobe's command line says.
struct probe_cli {
  std::vector<std::string> servers;
  bool ipv4 = false;
  bool ipv6 = false;
  int port = 123;
  double timeout_s = 2.0;
  int retries = 0;
  int samples = 1;
  double interval_s = 2.0;
  bool allow_fast = false;
  int ntp_version = 4;
  int concurrency = 0;
  bool json = false;
  bool verbose = false;
};

/// Declares ntpprobe's options on `app`, writing into `o`.
void add_probe_options(CLI::App& app, probe_cli& o);

/// Checks what CLI11 cannot (ranges that depend on each other) and builds the library's
/// options and targets; on error, the one-line message.
struct probe_plan {
  net::probe_options options;
  std::vector<net::target> targets;
};
std::variant<probe_plan, std::string> make_plan(const probe_cli& o);

}  // namespace ntpkit::apps
