// apps/common/clock_guard.hpp: forbid_clock_changes() makes every clock-setting system call
// fail with EPERM. Each call below is made with arguments the kernel rejects anyway (EINVAL,
// EOPNOTSUPP, or a read-only request), so that the test cannot change the clock even if the
// filter were missing: without the filter the errno differs, and the test fails instead.
// The filter is irrevocable, so it is installed in a forked child that reports by exit status.

#include "clock_guard.hpp"

#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "doctest/doctest.h"

namespace {

// The kernel's ADJ_ADJTIME without the offset bit: an invalid mode that adjtimex refuses.
constexpr unsigned adj_adjtime_alone = 0x8000;
// On x86_64, bit 30 of the system call number selects the x32 ABI, which has its own
// settimeofday; a filter that compares numbers only would let it through.
constexpr long x32_syscall_bit = 0x40000000;

long bad_settimeofday() {
  timeval tv{0, 2'000'000};  // tv_usec out of range: EINVAL without the filter
  return ::syscall(SYS_settimeofday, &tv, nullptr);
}

long bad_clock_settime() {
  timespec ts{0, 0};  // CLOCK_MONOTONIC cannot be set: EINVAL without the filter
  return ::syscall(SYS_clock_settime, CLOCK_MONOTONIC, &ts);
}

long read_only_adjtimex() {
  timex t{};  // modes 0 only reads
  return ::syscall(SYS_adjtimex, &t);
}

long invalid_adjtimex() {
  timex t{};
  t.modes = adj_adjtime_alone;  // EINVAL without the filter
  return ::syscall(SYS_adjtimex, &t);
}

long read_only_clock_adjtime() {
  timex t{};  // CLOCK_MONOTONIC has no adjtime: EOPNOTSUPP without the filter
  return ::syscall(SYS_clock_adjtime, CLOCK_MONOTONIC, &t);
}

long read_only_clock_adjtime_realtime() {
  timex t{};  // modes 0 only reads
  return ::syscall(SYS_clock_adjtime, CLOCK_REALTIME, &t);
}

#if defined(__x86_64__)
long x32_settimeofday() {
  timeval tv{0, 2'000'000};
  return ::syscall(x32_syscall_bit | SYS_settimeofday, &tv, nullptr);
}
#endif

using attempt = std::pair<const char*, long (*)()>;

std::vector<attempt> forbidden_calls() {
  std::vector<attempt> calls = {
      {"settimeofday", bad_settimeofday},
      {"clock_settime", bad_clock_settime},
      {"adjtimex (read-only)", read_only_adjtimex},
      {"adjtimex (invalid modes)", invalid_adjtimex},
      {"clock_adjtime (CLOCK_MONOTONIC)", read_only_clock_adjtime},
      {"clock_adjtime (CLOCK_REALTIME, read-only)", read_only_clock_adjtime_realtime},
  };
#if defined(__x86_64__)
  calls.push_back({"x32 settimeofday", x32_settimeofday});
#endif
  return calls;
}

// Runs `child` in a forked process and returns its exit status (-1 if it did not exit).
int in_child(const std::function<int()>& child) {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(child());
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

// True when this process already runs under a seccomp filter (a container's, say), which may
// refuse the same calls with EPERM by itself.
bool already_filtered() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("Seccomp:", 0) == 0) return line.find_first_of("12") != std::string::npos;
  }
  return false;
}

}  // namespace

TEST_CASE("without the filter the probe calls fail with another errno than EPERM") {
  // Shows the test can fail: the same calls, unfiltered, are refused for other reasons (or,
  // for read-only adjtimex, succeed). Only the filter turns them all into EPERM.
  if (already_filtered()) {
    MESSAGE("this process already runs under a seccomp filter; baseline not checked");
    return;
  }
  for (const auto& [call_name, call] : forbidden_calls()) {
    const std::string name = call_name;
    CAPTURE(name);
    const int status = in_child([call = call] {
      errno = 0;
      const long r = call();
      return r == -1 && errno == EPERM ? 1 : 0;
    });
    CHECK(status == 0);
  }
}

TEST_CASE("forbid_clock_changes makes every clock-setting call fail with EPERM") {
  const auto calls = forbidden_calls();
  const int status = in_child([&] {
    if (ntpkit::apps::forbid_clock_changes()) return 100;
    int failed = 0;
    for (std::size_t i = 0; i < calls.size(); ++i) {
      errno = 0;
      if (calls[i].second() != -1 || errno != EPERM) failed |= 1 << i;
    }
    return failed;
  });
  for (std::size_t i = 0; i < calls.size(); ++i) {
    const std::string name = calls[i].first;
    CAPTURE(name);
    CHECK((status >= 0 && status != 100 && (status & (1 << i)) == 0));
  }
  CHECK(status == 0);
}

TEST_CASE("under the filter ordinary system calls still work") {
  const int status = in_child([] {
    if (ntpkit::apps::forbid_clock_changes()) return 100;
    timespec ts{};
    if (::clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec == 0) return 1;
    if (::clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return 2;
    timeval tv{};
    if (::gettimeofday(&tv, nullptr) != 0) return 3;
    if (::getpid() <= 0) return 4;
    return 0;
  });
  CHECK(status == 0);
}
