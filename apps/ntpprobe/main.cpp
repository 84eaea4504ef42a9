// ntpprobe: query NTP servers and report offset, delay, stratum, refid and every header field,
// without touching the clock. Invoked as check_ntp_time it is a drop-in for that plugin.

#include <cstdio>
#include <cstring>
#include <map>

#include "../common/cli.hpp"
#include "../common/clock_guard.hpp"
#include "check_ntp_time.hpp"
#include "ntpkit/report/json.hpp"
#include "ntpkit/report/nagios.hpp"
#include "ntpkit/report/prometheus.hpp"
#include "ntpkit/report/text.hpp"
#include "options.hpp"
#include "output.hpp"

using namespace ntpkit;

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
  std::printf("NTP UNKNOWN: %s\n", message.c_str());
  return static_cast<int>(report::plugin_state::unknown);
}

}  // namespace

int main(int argc, char** argv) {
  if (apps::invoked_as(argv[0], "check_ntp_time")) return apps::check_ntp_time_main(argc, argv);
  CLI::App app{"Query NTP servers and report offset, delay, stratum, refid and every header "
               "field, without touching the clock.",
               "ntpprobe"};
  apps::configure(app);
  apps::probe_cli cli;
  const bool only_servers = apps::needs_only_servers(argc, argv);
  apps::add_probe_options(app, cli, only_servers);
  const bool plugin = asks_for_plugin_mode(argc, argv);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_problem(app, plugin, std::string(e.what()) + " (see --help)");
  }
  cli.timeout_given = !only_servers && app.count("--timeout") > 0;
  auto plan = apps::make_plan(cli);
  if (auto* message = std::get_if<std::string>(&plan)) {
    return usage_problem(app, plugin, *message);
  }
  auto& p = std::get<apps::probe_plan>(plan);

  if (auto ec = apps::forbid_clock_changes()) {
    std::fprintf(stderr, "ntpprobe: warning: cannot forbid clock changes: %s\n",
                 ec.message().c_str());
  }
  const report::json_meta meta{"ntpprobe", version_string};
  report::probe_report r;
  r.started = apps::now_date();
  apps::ordered_printer printer(cli.verbose);
  bool all_ok = true;
  const net::target_done on_done = [&](std::size_t i, const report::target_report& t) {
    all_ok = all_ok && t.ok();
    if (cli.json_lines) {
      apps::write_out(report::target_json_line(t, meta));
    } else if (!cli.json && !cli.plugin.enabled && !cli.prometheus) {
      printer.done(i, t);
    }
  };
  // Text and JSON lines are written as each target completes; JSON, Prometheus and the plugin
  // need every report at the end, so the others let the library release each once written.
  p.options.keep_reports = cli.json || cli.plugin.enabled || cli.prometheus;
  if (p.broadcast) {
    r.targets.push_back(net::listen_broadcast_blocking(*p.broadcast));
    on_done(0, r.targets.front());
  } else {
    r.targets = net::probe_blocking(std::move(p.targets), p.options, on_done);
  }
  if (cli.plugin.enabled) {
    const auto verdict = report::evaluate_plugin(r, p.policy);
    if (cli.verbose) apps::write_out(report::probe_text(r, true));
    apps::write_out(verdict.line);
    return static_cast<int>(verdict.state);
  }
  if (cli.json) report::write_probe_json(r, meta, apps::write_out);
  if (cli.prometheus) apps::write_out(report::probe_prometheus(r, {"ntpprobe", version_string}));
  return all_ok ? apps::exit_code::ok : apps::exit_code::failed;
}
