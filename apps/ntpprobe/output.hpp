#pragma once

// Small output helpers ntpprobe's modes share.

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>

#include "ntpkit/proto/timestamp.hpp"
#include "ntpkit/report/text.hpp"

namespace ntpkit::apps {

/// Writes `s` to stdout and flushes, so that streamed results reach pipes at once.
inline void write_out(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

/// The system clock now, as an NTP date.
inline proto::date now_date() {
  return proto::date::from_sys_time(
      std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now()));
}

/// True when the program was started under `name` (a symlink such as check_ntp_time).
inline bool invoked_as(const char* argv0, std::string_view name) {
  std::string_view a = argv0 ? argv0 : "";
  if (const auto slash = a.rfind('/'); slash != std::string_view::npos) a.remove_prefix(slash + 1);
  return a == name;
}

/// Prints text results in the order the targets were given, each as soon as it and every
/// target before it are done.
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

}  // namespace ntpkit::apps
