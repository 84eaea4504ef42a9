#pragma once

// ntpmon-query's command line as parsed, and the run: the mode 6 reads a command makes.

#include <optional>
#include <string>
#include <vector>

#include "../common/keyfile.hpp"
#include "../common/options.hpp"
#include "ntpkit/model/control.hpp"
#include "ntpkit/net/control_client.hpp"

namespace ntpkit::apps {

/// The system variables each statistics command reads (NTPsec 1.2.2's names, PEERS.md;
/// ntp.org's ntpd knows fewer, and a name it refuses is asked again without it), or empty
/// for a command that is no statistics command.
std::vector<std::string> stats_variables(const std::string& command);

/// One command to run against one server.
struct monitor_plan {
  std::string host = "localhost";
  std::uint16_t port = 123;
  net::family address_family = net::family::any;
  std::string command;             ///< canonical: sysvars, peers, associations, peervars, clockvars
  std::vector<std::string> args;   ///< what follows the command
  bool numeric = false;            ///< -n: no reverse lookups in the peers table
  bool json = false;
  net::control_client_options client;
};

/// The canonical name of `word` ("rv" -> "sysvars"), or empty when it is no command.
std::string canonical_command(const std::string& word);

/// Runs the plan; the report, every read in it (a resolve failure in resolve_error).
model::control_run run_monitor(const monitor_plan& plan);

/// The first address of `t` in family `f`, or nullopt.
std::optional<net::udp::endpoint> resolve_first(const net::target& t, net::family f);

/// `address` as ntpq -p names it without -n: the host name its reverse lookup gives
/// (lowercase), else the address itself.
std::string reverse_name(const std::string& address);

}  // namespace ntpkit::apps
