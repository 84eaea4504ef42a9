// ntpclients: count an NTP server's clients and measure how fast it answers them, from packet
// captures (files or live), without touching the clock.

#include <cstdio>
#include <cstring>

#include "../common/cli.hpp"
#include "../common/clock_guard.hpp"
#include "../common/output.hpp"
#include "options.hpp"
#include "run.hpp"

using namespace ntpkit;

int main(int argc, char** argv) {
  apps::guard_standard_descriptors();
  CLI::App app{"Count an NTP server's clients and measure how fast it answers them (the delta "
               "time), from capture files or a live capture, without touching the clock.",
               "ntpclients"};
  apps::configure(app);
  app.footer(apps::clients_help_footer);
  apps::clients_cli cli;
  apps::add_clients_options(app, cli);
  const bool plugin = apps::asks_for_plugin_mode(argc, argv);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return apps::usage_problem(app, plugin, std::string(e.what()) + " (see --help)",
                                "NTPCLIENTS");
  }
  auto plan = apps::make_clients_plan(cli);
  if (auto* message = std::get_if<std::string>(&plan)) {
    return apps::usage_problem(app, plugin, *message, "NTPCLIENTS");
  }
  auto& p = std::get<apps::clients_plan>(plan);
  if (auto ec = apps::forbid_clock_changes()) {
    std::fprintf(stderr, "ntpclients: warning: cannot forbid clock changes: %s\n",
                 ec.message().c_str());
  }
  const int rc = p.from == apps::clients_plan::source::live  ? apps::run_clients_live(p)
                 : p.from == apps::clients_plan::source::mru ? apps::run_clients_mru(p)
                                                             : apps::run_clients_files(p);
  return apps::finish_output("ntpclients", rc, p.output == apps::clients_output::plugin);
}
