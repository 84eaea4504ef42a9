#pragma once

// ntpprobe's streamed text: results in the order the targets were given, each as soon as it
// and every target before it are done.

#include <map>
#include <string>

#include "../common/output.hpp"
#include "ntpkit/report/text.hpp"

namespace ntpkit::apps {

class ordered_printer {
 public:
  explicit ordered_printer(bool verbose) : verbose_(verbose) {}
  void done(std::size_t index, const model::ntp_target& t) {
    pending_.emplace(index, report::target_text(t, verbose_));
    for (auto it = pending_.find(next_); it != pending_.end(); it = pending_.find(next_)) {
      out().write(it->second);
      pending_.erase(it);
      ++next_;
    }
  }
  /// After an interruption: every target not written yet, in order, finished or marked
  /// interrupted by `placeholder(index)`.
  template <class Placeholder>
  void flush(std::size_t count, Placeholder placeholder) {
    for (; next_ < count; ++next_) {
      const auto it = pending_.find(next_);
      out().write(it != pending_.end() ? it->second
                                       : report::target_text(placeholder(next_), verbose_));
    }
    pending_.clear();
  }

 private:
  bool verbose_;
  std::size_t next_ = 0;
  std::map<std::size_t, std::string> pending_;
};

}  // namespace ntpkit::apps
