// ntpmon-query: read an ntpd's state over NTP mode 6 (RFC 9327), as ntpq does: system, peer
// and clock variables, the association list and the peers table, as text or JSON.

#include <cstdio>

#include "../common/cli.hpp"
#include "../common/clock_guard.hpp"
#include "../common/output.hpp"
#include "peer_health.hpp"
#include "options.hpp"
#include "run.hpp"

using namespace ntpkit;

int main(int argc, char** argv) {
  apps::guard_standard_descriptors();
  if (apps::invoked_as(argv[0], "check_ntp_peer")) {
    return apps::finish_output("check_ntp_peer", apps::check_ntp_peer_main(argc, argv), true);
  }
  CLI::App app{"Read an ntpd's state over NTP mode 6 (RFC 9327), as ntpq does: system, peer and "
               "clock variables, associations and the peers table, as text or JSON.",
               "ntpmon-query"};
  apps::configure(app);
  app.footer(apps::monitor_help_footer);
  apps::monitor_cli cli;
  apps::add_monitor_options(app, cli);
  const bool plugin = apps::asks_for_plugin_mode(argc, argv);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return apps::usage_problem(app, plugin, std::string(e.what()) + " (see --help)", "NTP");
  }
  auto plan = apps::make_monitor_plan(cli);
  if (auto* message = std::get_if<std::string>(&plan)) {
    return apps::usage_problem(app, plugin, *message, "NTP");
  }
  if (auto ec = apps::forbid_clock_changes()) {
    std::fprintf(stderr, "ntpmon-query: warning: cannot forbid clock changes: %s\n",
                 ec.message().c_str());
  }
  return apps::run_monitor_command(std::get<apps::monitor_run_plan>(plan));
}
