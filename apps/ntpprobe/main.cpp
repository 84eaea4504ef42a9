// ntpprobe: query NTP servers and report offset, delay, stratum, refid and every header field,
// without touching the clock. Invoked as check_ntp_time it is a drop-in for that plugin.

#include <cstdio>
#include <cstring>

#include "../common/cli.hpp"
#include "../common/clock_guard.hpp"
#include "check_ntp_time.hpp"
#include "ntpkit/report/json.hpp"
#include "ntpkit/report/prometheus.hpp"
#include "options.hpp"
#include "output.hpp"

using namespace ntpkit;
using apps::output_mode;

namespace {

bool asks_for_plugin_mode(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--nagios") == 0) return true;
  }
  return false;
}

// A usage problem: one line on stderr and exit 2, or a plugin UNKNOWN line and exit 3.
int usage_problem(const CLI::App& app, bool plugin, const std::string& message) {
  if (!plugin) return apps::usage_error(app, message);
  apps::out().write("NTP UNKNOWN: " + message + "\n");
  return apps::finish_output("ntpprobe", apps::exit_code::plugin_unknown, true);
}

// Writes the whole run in the mode chosen; returns the exit status before the final flush.
int write_run(const apps::probe_plan& p, const model::ntp_run& r, bool verbose) {
  switch (p.output) {
    case output_mode::plugin: {
      const auto verdict = report::evaluate_plugin(r, p.policy);
      if (verbose) apps::out().write(report::probe_text(r, true));
      apps::out().write(verdict.line);
      return apps::exit_code::of_plugin(verdict.state);
    }
    case output_mode::json:
      report::write_probe_json(r, {"ntpprobe", version_string},
                               [](const std::string& s) { apps::out().write(s); });
      break;
    case output_mode::prometheus:
      apps::out().write(report::probe_prometheus(r, {"ntpprobe", version_string}));
      break;
    default: break;  // streamed as the targets completed
  }
  return apps::exit_code::of_run(r.ok());
}

}  // namespace

int main(int argc, char** argv) {
  if (apps::invoked_as(argv[0], "check_ntp_time")) {
    return apps::finish_output("check_ntp_time", apps::check_ntp_time_main(argc, argv), true);
  }
  CLI::App app{"Query NTP servers and report offset, delay, stratum, refid and every header "
               "field, without touching the clock.",
               "ntpprobe"};
  apps::configure(app);
  apps::probe_cli cli;
  apps::add_probe_options(app, cli, apps::needs_only_positionals(argc, argv));
  const bool plugin = asks_for_plugin_mode(argc, argv);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_problem(app, plugin, std::string(e.what()) + " (see --help)");
  }
  auto plan = apps::make_plan(cli, app);
  if (auto* message = std::get_if<std::string>(&plan)) return usage_problem(app, plugin, *message);
  auto& p = std::get<apps::probe_plan>(plan);
  if (auto ec = apps::forbid_clock_changes()) {
    std::fprintf(stderr, "ntpprobe: warning: cannot forbid clock changes: %s\n",
                 ec.message().c_str());
  }
  model::ntp_run r;
  r.started = apps::now_date();
  apps::ordered_printer printer(cli.output.verbose);
  const net::target_done on_done = [&](std::size_t i, const model::ntp_target& t) {
    if (p.output == output_mode::json_lines) {
      apps::out().write(report::target_json_line(t, {"ntpprobe", version_string}));
    } else if (p.output == output_mode::text) {
      printer.done(i, t);
    }
  };
  // Streamed modes let the library release each target's result once it is written.
  p.options.keep_reports = !apps::streams(p.output);
  bool all_ok = true;
  if (p.broadcast) {
    r.targets.push_back(net::listen_broadcast_blocking(*p.broadcast));
    on_done(0, r.targets.front());
    all_ok = r.ok();
  } else {
    r.targets = net::probe_blocking(std::move(p.targets), p.options,
                                    [&](std::size_t i, const model::ntp_target& t) {
                                      all_ok = all_ok && t.ok();
                                      on_done(i, t);
                                    });
  }
  int rc = write_run(p, r, cli.output.verbose);
  if (p.output != output_mode::plugin) rc = apps::exit_code::of_run(all_ok);
  return apps::finish_output("ntpprobe", rc, p.output == output_mode::plugin);
}
