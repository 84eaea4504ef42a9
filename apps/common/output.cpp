#include "output.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "exit_code.hpp"

namespace ntpkit::apps {

std::variant<output_mode, std::string> select_output(const output_options& o) {
  if (o.plugin && (o.json || o.json_lines)) {
    return std::string("--nagios cannot be combined with --json or --json-lines");
  }
  if (o.prometheus && (o.json || o.json_lines || o.plugin)) {
    return std::string("--prometheus cannot be combined with --json, --json-lines or --nagios");
  }
  if (o.json && o.json_lines) return std::string("--json cannot be combined with --json-lines");
  if (o.plugin) return output_mode::plugin;
  if (o.prometheus) return output_mode::prometheus;
  if (o.json) return output_mode::json;
  if (o.json_lines) return output_mode::json_lines;
  return output_mode::text;
}

void stdout_writer::fail(int error) noexcept {
  if (errno_ == 0) errno_ = error;
}

void stdout_writer::write(std::string_view s) {
  if (errno_ != 0) return;
  errno = 0;
  if (std::fwrite(s.data(), 1, s.size(), stdout) != s.size() || std::fflush(stdout) != 0) {
    errno_ = errno != 0 ? errno : EIO;
  }
}

bool stdout_writer::finish() {
  if (errno_ == 0) {
    errno = 0;
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) errno_ = errno != 0 ? errno : EIO;
  }
  return errno_ == 0;
}

std::string stdout_writer::error_text() const {
  return std::string("write error: ") + std::strerror(errno_);
}

stdout_writer& out() {
  static stdout_writer instance;
  return instance;
}

int finish_output(const char* program, int rc, bool plugin) {
  static bool reported = false;  // check_ntp_time finishes, then its caller does again
  if (out().finish()) return rc;
  if (!reported) std::fprintf(stderr, "%s: %s\n", program, out().error_text().c_str());
  reported = true;
  return exit_code::of_problem(plugin);
}

void guard_standard_descriptors() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    // A closed standard descriptor would be reused by the next open(): a socket on fd 1
    // would receive what was meant for stdout. Hold the slot with /dev/null.
    const int null = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
    if (null >= 0 && null != fd) {
      ::dup2(null, fd);
      ::close(null);
    }
    if (fd == 1) out().fail(EBADF);  // nothing written may be taken as written
  }
}

bool invoked_as(const char* argv0, std::string_view name) {
  std::string_view a = argv0 ? argv0 : "";
  if (const auto slash = a.rfind('/'); slash != std::string_view::npos) a.remove_prefix(slash + 1);
  return a == name;
}

}  // namespace ntpkit::apps
