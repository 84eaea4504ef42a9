// ntpprobe: query NTP servers and report offset, delay, stratum, refid and every header field,
// without touching the clock.

#include <cstdio>
#include <map>

#include "../common/cli.hpp"
#include "../common/clock_guard.hpp"
#include "ntpkit/report/json.hpp"
#include "ntpkit/report/text.hpp"
#include "options.hpp"

using namespace ntpkit;

namespace {

void write_out(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

// Prints text results in the order the targets were given, each as soon as it and every
// target before it are done.
class ordered_printer {
 public:
  explicit ordered_printer(bool verbose) : verbose_(verbose) {}
  void done(std::size_t index, const report::target_report& t) {
    pending_.emplace(index, report::target_text(t, verbose_));
    for (auto it = pending_.find(next_); it != pending_.end(); it = pending_.find(next_)) {
      write_out(it->second);
      pending_.erase(it);
      ++next_;
    }
  }

 private:
  bool verbose_;
  std::size_t next_ = 0;
  std::map<std::size_t, std::string> pending_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Query NTP servers and report offset, delay, stratum, refid and every header "
               "field, without touching the clock.",
               "ntpprobe"};
  apps::configure(app);
  apps::probe_cli cli;
  apps::add_probe_options(app, cli);
  if (auto rc = apps::parse(app, argc, argv)) return *rc;
  auto plan = apps::make_plan(cli);
  if (auto* message = std::get_if<std::string>(&plan)) return apps::usage_error(app, *message);
  auto& p = std::get<apps::probe_plan>(plan);

  if (auto ec = apps::forbid_clock_changes()) {
    std::fprintf(stderr, "ntpprobe: warning: cannot forbid clock changes: %s\n",
                 ec.message().c_str());
  }
  report::probe_report r;
  r.started = proto::date::from_sys_time(std::chrono::time_point_cast<std::chrono::nanoseconds>(
      std::chrono::system_clock::now()));
  ordered_printer printer(cli.verbose);
  net::target_done on_done;
  if (!cli.json) {
    on_done = [&](std::size_t i, const report::target_report& t) { printer.done(i, t); };
  }
  r.targets = net::probe_blocking(std::move(p.targets), p.options, on_done);
  if (cli.json) write_out(report::probe_json(r, {"ntpprobe", version_string}));
  return r.ok() ? apps::exit_code::ok : apps::exit_code::failed;
}
