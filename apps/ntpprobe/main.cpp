// ntpprobe: query NTP servers and report offset, delay, stratum, refid and every header field,
// without touching the clock. Invoked as check_ntp_time it is a drop-in for that plugin.

#include <cstdio>
#include <cstring>

#include "../common/cli.hpp"
#include "../common/clock_guard.hpp"
#include "ntpkit/report/format.hpp"
#include "check_ntp_time.hpp"
#include "options.hpp"
#include "run.hpp"

using namespace ntpkit;

int main(int argc, char** argv) {
  apps::guard_standard_descriptors();
  if (apps::invoked_as(argv[0], "check_ntp_time")) {
    return apps::finish_output("check_ntp_time", apps::check_ntp_time_main(argc, argv), true);
  }
  CLI::App app{"Query NTP servers and report offset, delay, stratum, refid and every header "
               "field, without touching the clock.",
               "ntpprobe"};
  apps::configure(app);
  app.footer(apps::probe_help_footer);
  apps::probe_cli cli;
  apps::add_probe_options(app, cli, apps::needs_only_positionals(argc, argv));
  const bool plugin = apps::asks_for_plugin_mode(argc, argv);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return apps::usage_problem(app, plugin, std::string(e.what()) + " (see --help)",
                                "NTP");
  }
  auto plan = apps::make_plan(cli, app);
  if (auto* message = std::get_if<std::string>(&plan)) {
    return apps::usage_problem(app, plugin, *message, "NTP");
  }
  auto& p = std::get<apps::probe_plan>(plan);
  if (auto ec = apps::forbid_clock_changes()) {
    std::fprintf(stderr, "ntpprobe: warning: cannot forbid clock changes: %s\n",
                 ec.message().c_str());
  }
  return apps::finish_output("ntpprobe", apps::run_probe(p, cli.output.verbose),
                             p.output == apps::output_mode::plugin);
}
