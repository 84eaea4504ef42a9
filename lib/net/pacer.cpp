#include "ntpkit/net/pacer.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace ntpkit::net {

asio::awaitable<void> pacer::wait_turn(const udp::endpoint& to) {
  using steady = std::chrono::steady_clock;
  const auto now = steady::now();
  auto [it, fresh] = next_.try_emplace(to, now);
  const auto when = std::max(it->second, now);
  it->second = when + interval_;
  if (when > now) {
    asio::steady_timer t(co_await asio::this_coro::executor, when);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

void pacer::sent(const udp::endpoint& to) {
  auto& next = next_[to];
  next = std::max(next, std::chrono::steady_clock::now() + interval_);
}

}  // namespace ntpkit::net
