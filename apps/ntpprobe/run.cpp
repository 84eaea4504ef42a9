#include "run.hpp"

#include <csignal>
#include <optional>
#include <string>
#include <vector>

#include "../common/exit_code.hpp"
#include "../common/interrupt.hpp"
#include "ntpkit/report/json.hpp"
#include "ntpkit/report/prometheus.hpp"
#include "ntpkit/version.hpp"
#include "output.hpp"

namespace ntpkit::apps {
namespace {

// Writes the whole run in the mode chosen (text and JSON lines were written as targets
// completed); returns the exit status. `signal` is the one that interrupted the run, or 0.
int write_run(const probe_plan& p, const model::ntp_run& r, bool verbose, int signal) {
  switch (p.output) {
    case output_mode::plugin: {
      auto verdict = report::evaluate_plugin(r, p.policy);
      if (verbose) out().write(report::probe_text(r, true));
      if (signal != 0) {
        verdict.line.replace(0, verdict.line.find(": ") + 2,
                             std::string("NTP UNKNOWN: interrupted by ") +
                                 (signal == SIGTERM ? "SIGTERM" : "SIGINT") + "; ");
        verdict.state = report::plugin_state::unknown;
      }
      out().write(verdict.line);
      return exit_code::of_plugin(verdict.state);
    }
    case output_mode::json:
      report::write_probe_json(r, {"ntpprobe", version_string},
                               [](const std::string& s) { out().write(s); });
      break;
    case output_mode::prometheus:
      out().write(report::probe_prometheus(r, {"ntpprobe", version_string}));
      break;
    default: break;
  }
  return signal != 0 ? 128 + signal : exit_code::of_run(r.ok());
}

// A target the run did not finish.
model::ntp_target interrupted(const net::target& t) {
  model::ntp_target out;
  out.spec = t.spec;
  out.host = t.host;
  out.port = t.port;
  out.error = model::failure(model::error_kind::interrupted, model::error_cause::interrupted);
  return out;
}

// Runs the probe; every target is written as the mode wants it, finished or interrupted.
}  // namespace

int run_probe(probe_plan& p, bool verbose) {
  model::ntp_run r;
  r.started = now_date();
  ordered_printer printer(verbose);
  const auto targets = p.targets;  // to name the unfinished ones after a signal
  std::vector<std::optional<model::ntp_target>> finished(streams(p.output) ? 0
                                                                                 : targets.size());
  std::vector<bool> done(targets.size(), false);
  bool all_ok = true;
  const net::target_done on_done = [&](std::size_t i, const model::ntp_target& t) {
    all_ok = all_ok && t.ok();
    done[i] = true;
    if (p.output == output_mode::json_lines) {
      out().write(report::target_json_line(t, {"ntpprobe", version_string}));
    } else if (p.output == output_mode::text) {
      printer.done(i, t);
    } else {
      finished[i] = t;
    }
  };
  // The library releases each target's result once on_done has it.
  p.options.keep_reports = false;
  int signal = 0;
  if (p.broadcast) {
    r.targets.push_back(net::listen_broadcast_blocking(*p.broadcast));
    all_ok = r.targets.front().ok();
    if (p.output == output_mode::json_lines) {
      out().write(report::target_json_line(r.targets.front(), {"ntpprobe", version_string}));
    } else if (p.output == output_mode::text) {
      printer.done(0, r.targets.front());
    }
  } else {
    signal = run_until_signal(net::probe(std::move(p.targets), p.options, on_done)).signal;
    for (std::size_t i = 0; i < targets.size(); ++i) {
      if (done[i]) continue;
      all_ok = false;
      if (p.output == output_mode::json_lines) {
        out().write(report::target_json_line(interrupted(targets[i]),
                                                   {"ntpprobe", version_string}));
      }
    }
    if (p.output == output_mode::text) {
      printer.flush(targets.size(), [&](std::size_t i) { return interrupted(targets[i]); });
    }
    for (std::size_t i = 0; i < finished.size(); ++i) {
      r.targets.push_back(finished[i] ? std::move(*finished[i]) : interrupted(targets[i]));
    }
  }
  const int rc = write_run(p, r, verbose, signal);
  if (p.output == output_mode::plugin || signal != 0) return rc;
  return exit_code::of_run(all_ok);
}

}  // namespace ntpkit::apps
