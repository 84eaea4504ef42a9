#include "run.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "../common/exit_code.hpp"
#include "../common/interrupt.hpp"
#include "../common/output.hpp"
#include "../common/stop_signals.hpp"
#include "ntpkit/capture/flows.hpp"
#include "ntpkit/capture/pcap_source.hpp"
#include "ntpkit/net/mru_client.hpp"
#include "ntpkit/net/resolve.hpp"
#include "ntpkit/report/census.hpp"
#include "ntpkit/report/format.hpp"
#include "ntpkit/report/json.hpp"
#include "ntpkit/report/svg.hpp"
#include "ntpkit/version.hpp"

namespace ntpkit::apps {
namespace {

constexpr const char* program = "ntpclients";

void complain(const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", program, report::terminal_safe(what).c_str());
}

// The report in the output the plan asks for.
std::string render(const clients_plan& p, const model::clients_run& r, bool one_line) {
  switch (p.output) {
    case clients_output::text: return report::census_text(r, p.verbose);
    case clients_output::json:
      return report::census_json(r, report::json_meta{program, version_string}, one_line);
    case clients_output::csv: return report::census_csv_header() + report::census_csv_rows(r);
    case clients_output::prometheus:
      return report::census_prometheus(r, report::prometheus_meta{program, version_string});
    case clients_output::plugin: return report::census_plugin(r, p.policy).line;
  }
  return {};
}

// Replaces `path` whole with `text`: written to a temporary file beside it, then renamed, so
// that a reader (node_exporter's textfile collector, a browser) never sees half of it.
// Returns the error message, or empty.
std::string replace_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return path + ": " + std::strerror(errno);
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  const int write_errno = errno;
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed) {
    const int e = !written ? write_errno : errno;
    std::remove(tmp.c_str());
    return path + ": " + std::strerror(e);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    return path + ": " + std::strerror(e);
  }
  return {};
}

// Writes a report to stdout or --output, and the plot; false after one line on stderr when
// a file could not be written (stdout's failures are finish_output's).
bool emit(const clients_plan& p, const model::clients_run& r, bool to_stdout, bool to_files,
          bool one_line) {
  bool ok = true;
  if (to_stdout) out().write(render(p, r, one_line));
  if (to_files && !p.output_file.empty()) {
    if (auto e = replace_file(p.output_file, render(p, r, false)); !e.empty()) {
      complain(e);
      ok = false;
    }
  }
  if (to_files && !p.plot.empty()) {
    if (auto e = replace_file(p.plot, report::census_svg(r)); !e.empty()) {
      complain(e);
      ok = false;
    }
  }
  return ok;
}

model::capture_input input_of(const capture::file_report& f) {
  model::capture_input i;
  i.name = f.path;
  i.link_type = f.link_type;
  i.compressed = f.compressed;
  i.pcapng = f.pcapng;
  i.frames = f.frames;
  i.error = f.error;
  i.detail = f.detail;
  return i;
}

// "FILE: the file ends inside a frame (after 1234 frames)".
std::string input_problem(const model::capture_input& i) {
  std::string s = report::printable(i.name) + ": " + i.error.message();
  if (!i.detail.empty() && i.detail != i.error.message()) s += " (" + i.detail + ")";
  if (i.frames > 0) s += "; the " + std::to_string(i.frames) + " frames before it were counted";
  return s;
}

// The exit status once the report is out.
int status_of(const clients_plan& p, const model::clients_run& r, int signal, bool files_ok) {
  if (p.output == clients_output::plugin) {
    return files_ok ? exit_code::of_plugin(report::census_plugin(r, p.policy).state)
                    : exit_code::plugin_unknown;
  }
  if (!files_ok) return exit_code::write_error;
  if (signal != 0 && r.source == model::census_source::capture_files) return 128 + signal;
  if (!r.inputs_complete() || !r.census.usable()) return exit_code::failed;
  return exit_code::ok;
}

std::chrono::nanoseconds since_epoch(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch());
}

proto::sys_nanoseconds wall_now() {
  return proto::sys_nanoseconds(since_epoch(std::chrono::system_clock::now()));
}

class progress_line {
 public:
  explicit progress_line(bool on) : on_(on) {}
  void update(std::uint64_t frames, std::size_t clients) {
    if (!on_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    std::fprintf(stderr, "\r%s: %llu frames, %zu clients ", program,
                 static_cast<unsigned long long>(frames), clients);
    shown_ = true;
  }
  void clear() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
    shown_ = false;
  }

 private:
  bool on_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

// Switches to `user` (its uid, gid and groups) when running as root. Returns the message.
std::string drop_privileges(const std::string& user) {
  if (::geteuid() != 0) return {};
  errno = 0;
  const passwd* pw = ::getpwnam(user.c_str());
  if (pw == nullptr) {
    return "--user " + report::printable(user) + ": no such user (give another with --user, "
           "or --keep-privileges)";
  }
  if (::setgroups(0, nullptr) != 0 || ::setgid(pw->pw_gid) != 0 || ::setuid(pw->pw_uid) != 0) {
    return "cannot switch to user " + report::printable(user) + ": " + std::strerror(errno);
  }
  if (::setuid(0) == 0) return "privileges could not be dropped: setuid(0) still succeeds";
  return {};
}

// The directory a report file is replaced in must be writable (as the user the capture runs
// as): said at the start rather than at the first report.
std::string check_writable(const std::string& flag, const std::string& path) {
  if (path.empty()) return {};
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  if (::access(dir.c_str(), W_OK) != 0) {
    const int e = errno;
    std::string user;
    if (const passwd* pw = ::getpwuid(::geteuid())) user = pw->pw_name;
    return flag + " " + report::printable(path) + ": " + std::strerror(e) +
           " (its directory must be writable by user " + report::printable(user) +
           ", who writes the reports)";
  }
  return {};
}

}  // namespace

int run_clients_files(const clients_plan& p) {
  catch_stop_signals();
  capture::pcap_files files(p.files);
  capture::census census(p.census);
  progress_line progress(p.progress);
  std::uint64_t frames = 0;
  int signal = 0;
  files.read([&](const capture::frame_view& f) {
    census.add_frame(f.time, f.link_type, f.bytes, capture::frame_ref{f.source, f.number});
    if ((++frames & 0xfff) == 0) {
      if ((signal = stop_signal()) != 0) return false;
      progress.update(frames, census.clients());
    }
    return true;
  });
  progress.clear();
  if (signal == 0) signal = stop_signal();

  model::clients_run r;
  r.source = model::census_source::capture_files;
  for (const auto& f : files.files()) r.inputs.push_back(input_of(f));
  r.interrupted = signal != 0;
  r.census = census.result();
  for (const auto& i : r.inputs) {
    // A read that the signal interrupted is said by the line below.
    if (r.interrupted && i.error == capture::capture_errc::read_failed) continue;
    if (!i.complete()) complain(input_problem(i));
  }
  if (r.interrupted) {
    complain(std::string("interrupted by ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") +
             ": the report covers what was read");
  }
  const bool files_ok = emit(p, r, p.output_file.empty(), true, false);
  return status_of(p, r, signal, files_ok);
}

int run_clients_live(const clients_plan& p) {
  std::string detail;
  auto opened = capture::live_capture::open(p.live, &detail);
  if (!opened) {
    complain(report::printable(p.live.interface) + ": " + opened.error().message() +
             (detail.empty() ? "" : " (" + detail + ")"));
    return p.output == clients_output::plugin ? exit_code::plugin_unknown : exit_code::failed;
  }
  auto& cap = *opened;
  if (p.user) {
    if (auto e = drop_privileges(*p.user); !e.empty()) {
      complain(e);
      return p.output == clients_output::plugin ? exit_code::plugin_unknown : exit_code::usage;
    }
  }
  for (const auto& [flag, path] : {std::pair{"--output", p.output_file}, {"--plot", p.plot}}) {
    if (auto e = check_writable(flag, path); !e.empty()) {
      complain(e);
      return p.output == clients_output::plugin ? exit_code::plugin_unknown : exit_code::usage;
    }
  }
  catch_stop_signals();

  model::capture_input input;
  input.name = p.live.interface;
  input.link_type = cap.link_type();

  capture::census whole(p.census);
  std::optional<capture::census> period;
  auto period_options = p.census;
  if (p.every.count() > 0) {
    period_options.interval = p.every;
    period.emplace(period_options);
  }

  const auto started = wall_now();
  const std::optional<proto::sys_nanoseconds> deadline =
      p.duration.count() > 0 ? std::optional(started + p.duration) : std::nullopt;
  std::optional<proto::sys_nanoseconds> next_report;
  auto period_start = started;
  if (period) {
    const auto n = started.time_since_epoch() / p.every + 1;
    next_report = proto::sys_nanoseconds(p.every * n);
  }
  capture::live_capture::counters at_period_start{};

  auto make_run = [&](const capture::census& c, proto::sys_nanoseconds from,
                      proto::sys_nanoseconds to, const capture::live_capture::counters& base,
                      bool is_period) {
    model::clients_run r;
    r.source = model::census_source::live_capture;
    r.inputs.push_back(input);
    const auto k = cap.stats();
    r.kernel = model::kernel_counters{k.received - base.received, k.dropped - base.dropped,
                                      k.interface_dropped - base.interface_dropped};
    r.started = from;
    r.ended = to;
    r.period = is_period;
    r.census = c.result();
    return r;
  };

  bool files_ok = true;
  std::uint64_t frames = 0;
  int signal = 0;
  // A period ends at its boundary: a frame captured at or after it, or the wall clock a
  // little past it when no frame comes (frames reach us within milliseconds of capture).
  const auto close_period = [&](proto::sys_nanoseconds boundary) {
    input.frames = frames;
    const auto r = make_run(*period, period_start, boundary, at_period_start, true);
    at_period_start = cap.stats();
    period.emplace(period_options);
    period_start = boundary;
    *next_report = boundary + p.every;
    files_ok = emit(p, r, p.output_file.empty(), false, true) && files_ok;
    if (!p.output_file.empty() || !p.plot.empty()) {
      const auto so_far = make_run(whole, started, boundary, {}, false);
      files_ok = emit(p, so_far, false, true, false) && files_ok;
    }
  };
  const capture::frame_callback on_frame = [&](const capture::frame_view& f) {
    while (next_report && f.time >= *next_report) close_period(*next_report);
    const capture::frame_ref ref{0, f.number};
    whole.add_frame(f.time, f.link_type, f.bytes, ref);
    if (period) period->add_frame(f.time, f.link_type, f.bytes, ref);
    ++frames;
    return true;
  };
  constexpr auto grace = std::chrono::milliseconds(200);
  while (true) {
    if ((signal = stop_signal()) != 0) break;
    const auto now = wall_now();
    if (deadline && now >= *deadline) break;
    while (next_report && now >= *next_report + grace) close_period(*next_report);
    auto got = cap.read_some(on_frame);
    if (!got) {
      input.error = got.error();
      break;
    }
  }
  const auto ended = wall_now();
  input.frames = frames;
  if (!input.complete()) complain(input_problem(input));

  // The last period (cut short) on its own line, then the whole capture.
  if (period && (p.output == clients_output::json || p.output == clients_output::text) &&
      p.output_file.empty()) {
    const auto r = make_run(*period, period_start, ended, at_period_start, true);
    if (r.census.frames.frames > 0) files_ok = emit(p, r, true, false, true) && files_ok;
  }
  // SIGINT and SIGTERM are how a live capture without --duration ends: not an interruption.
  const auto r = make_run(whole, started, ended, {}, false);
  files_ok = emit(p, r, p.output_file.empty(), true, period.has_value()) && files_ok;
  return status_of(p, r, signal, files_ok);
}

int run_clients_mru(const clients_plan& p) {
  const bool plugin = p.output == clients_output::plugin;
  auto target = net::parse_target(p.mru_server, p.census.server_port);
  if (!target) {
    complain("'" + report::printable(p.mru_server) + "': " + target.error().message());
    return plugin ? exit_code::plugin_unknown : exit_code::usage;
  }
  const auto family = p.ipv4 ? net::family::ipv4 : p.ipv6 ? net::family::ipv6 : net::family::any;
  struct walked {
    std::string address;
    std::error_code resolve_error;
    proto::mru_walk_result result;
  };
  const auto started = std::chrono::steady_clock::now();
  auto task = [&]() -> boost::asio::awaitable<walked> {
    walked w;
    auto addresses = co_await net::resolve(*target, family);
    if (!addresses) {
      w.resolve_error = addresses.error();
      co_return w;
    }
    const auto& peer = addresses->front();
    const auto host = peer.address().to_string();
    w.address = peer.address().is_v6() ? "[" + host + "]:" + std::to_string(peer.port())
                                       : host + ":" + std::to_string(peer.port());
    w.result = co_await net::walk_mru(peer, p.mru);
    co_return w;
  };
  auto outcome = run_until_signal(task());
  if (!outcome.value) {
    complain(std::string("interrupted by ") + (outcome.signal == SIGINT ? "SIGINT" : "SIGTERM") +
             " while reading the MRU list");
    return plugin ? exit_code::plugin_unknown : 128 + outcome.signal;
  }
  auto& w = *outcome.value;
  if (w.resolve_error) {
    complain(report::printable(p.mru_server) + ": " + w.resolve_error.message());
    if (plugin) {
      out().write("NTPCLIENTS UNKNOWN: " + report::printable(p.mru_server) + ": " +
                  report::terminal_safe(w.resolve_error.message()) + "\n");
      return exit_code::plugin_unknown;
    }
    return exit_code::failed;
  }
  auto& res = w.result;
  model::mru_reading m;
  m.server = p.mru_server;
  m.address = w.address;
  m.outcome = res.outcome;
  m.error = res.error;
  if (res.server_error) m.server_error = std::string(proto::to_string(*res.server_error));
  m.entries = res.entries.size();
  m.rows_received = res.rows_received;
  m.malformed_rows = res.malformed_rows;
  m.requests = res.requests;
  m.nonce_requests = res.nonce_requests;
  m.restarts = res.restarts;
  if (res.now) m.server_now = proto::to_sys_time(*res.now);
  m.duration = std::chrono::steady_clock::now() - started;

  model::clients_run r;
  r.source = model::census_source::mru_list;
  r.census = model::census_of_mru(res.entries, p.census.top, p.census.rate_limit);
  r.census.server_port = target->port;
  r.mru = m;
  if (p.list_entries) r.mru_entries = std::move(res.entries);
  if (!m.complete()) complain(report::printable(p.mru_server) + ": the MRU list was not read to "
                              "its end: " + std::string(proto::to_string(m.outcome)) +
                              (m.error ? " (" + m.error.message() + ")" : std::string()) +
                              (m.server_error.empty() ? std::string() : " (" + m.server_error + ")"));
  const bool files_ok = emit(p, r, p.output_file.empty(), true, false);
  if (plugin) {
    return files_ok ? exit_code::of_plugin(report::census_plugin(r, p.policy).state)
                    : exit_code::plugin_unknown;
  }
  if (!files_ok) return exit_code::write_error;
  return m.complete() ? exit_code::ok : exit_code::failed;
}

}  // namespace ntpkit::apps
