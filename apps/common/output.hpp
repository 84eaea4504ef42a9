#pragma once

// Output selection and writing, shared by the programs: which writer a command line asks for
// (text, JSON, JSON lines, Prometheus, plugin) with their exclusions, and stdout written so
// that a failed write is never silent.

#include <chrono>
#include <string>
#include <string_view>
#include <variant>

#include "ntpkit/proto/timestamp.hpp"

namespace ntpkit::apps {

/// The output options as parsed.
struct output_options {
  bool json = false;
  bool json_lines = false;
  bool prometheus = false;
  bool plugin = false;  ///< --nagios (registered by the program's plugin group)
  bool verbose = false;
};

/// The writer a run uses.
enum class output_mode { text, json, json_lines, prometheus, plugin };

/// The mode the options ask for, or the one-line message saying which ones exclude each other.
std::variant<output_mode, std::string> select_output(const output_options& o);

/// True for the modes written as each target completes (text, JSON lines); the others need the
/// whole run.
constexpr bool streams(output_mode m) noexcept {
  return m == output_mode::text || m == output_mode::json_lines;
}

/// Writes to stdout and flushes (streamed results reach pipes at once). The first failure is
/// remembered; later writes are skipped. Nothing measured is lost silently: callers check
/// failed() before they exit.
class stdout_writer {
 public:
  void write(std::string_view s);
  /// Flushes; false when this or an earlier write failed.
  bool finish();
  bool failed() const noexcept { return errno_ != 0; }
  /// Records a failure found elsewhere (stdout was closed at start).
  void fail(int error) noexcept;
  /// "write error: No space left on device".
  std::string error_text() const;

 private:
  int errno_ = 0;
};

/// The process's one stdout writer.
stdout_writer& out();

/// Opens /dev/null on each of stdin, stdout and stderr that is closed, so that no socket or
/// file takes its number; a closed stdout then counts as a failed write (EBADF). Call first.
void guard_standard_descriptors();

/// The exit status after `rc` once everything is written: `rc`, or after one line
/// "PROGRAM: write error: REASON" on stderr, 2 (3 in plugin mode).
int finish_output(const char* program, int rc, bool plugin);

/// The system clock now, as an NTP date.
inline proto::date now_date() {
  return proto::date::from_sys_time(
      std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now()));
}

/// True when the program was started under `name` (a symlink such as check_ntp_time).
bool invoked_as(const char* argv0, std::string_view name);

}  // namespace ntpkit::apps
