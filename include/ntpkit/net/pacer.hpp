#pragma once

// Spacing of requests to one server address across a whole run (RFC 5905's 2 s guard by
// default), and the memory of which addresses sent a Kiss-o'-Death: after one, that address is
// sent nothing more. pacing_gate plugs both into drive().

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <map>
#include <string>
#include <string_view>

#include "ntpkit/export.hpp"

namespace ntpkit::net {

namespace asio = boost::asio;
using udp = asio::ip::udp;

/// What a run remembers per server address.
class NTPKIT_API pacer {
 public:
  explicit pacer(std::chrono::milliseconds interval) : interval_(interval) {}
  /// Waits until a request to `to` is allowed and books it.
  asio::awaitable<void> wait_turn(const udp::endpoint& to);
  /// Records that a request to `to` has just left: the next one waits a full interval from
  /// now, even when this one was sent late after its turn (a busy machine).
  void sent(const udp::endpoint& to);
  /// Remembers that `from` sent the kiss code `code`.
  void kissed(const udp::endpoint& from, std::string code) { kisses_[from] = std::move(code); }
  /// The kiss code `to` sent earlier in this run, if any.
  const std::string* kiss_of(const udp::endpoint& to) const {
    const auto it = kisses_.find(to);
    return it == kisses_.end() ? nullptr : &it->second;
  }
  std::chrono::milliseconds interval() const noexcept { return interval_; }

 private:
  std::chrono::milliseconds interval_;
  std::map<udp::endpoint, std::chrono::steady_clock::time_point> next_;
  std::map<udp::endpoint, std::string> kisses_;
};

/// drive()'s gate over a pacer: each send waits for its turn, and a send to an address that
/// kissed is vetoed (the session's on_vetoed gets the code).
class pacing_gate {
 public:
  explicit pacing_gate(pacer& p) : pace_(p) {}
  template <class Session>
  asio::awaitable<bool> before_send(const udp::endpoint& to, Session& s) {
    co_await pace_.wait_turn(to);
    // Another query to this address may have been kissed while we waited for our turn.
    if (const auto* code = pace_.kiss_of(to)) {
      if constexpr (requires { s.on_vetoed(std::string_view{}); }) s.on_vetoed(*code);
      co_return false;
    }
    co_return true;
  }
  void after_send(const udp::endpoint& to) { pace_.sent(to); }

 private:
  pacer& pace_;
};

}  // namespace ntpkit::net
