#include "ntpkit/net/fanout.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <exception>

namespace ntpkit::net {

asio::awaitable<result<timestamping_socket>> socket_pool::take(
    const udp::endpoint& server, std::vector<udp::endpoint>& silent) {
  auto& slot = server.address().is_v6() ? v6_ : v4_;
  if (!slot) {
    co_return timestamping_socket::open(co_await asio::this_coro::executor, server.protocol());
  }
  timestamping_socket sock = std::move(slot->socket);
  silent = std::move(slot->silent);
  slot.reset();
  std::array<std::uint8_t, 64> scratch;
  for (int i = 0; i < 64; ++i) {  // bounded: a few strays at most
    auto d = co_await sock.receive(scratch, std::chrono::steady_clock::time_point::min());
    if (!d) break;  // nothing queued (timed_out at once), or an old ICMP error read off
  }
  co_return sock;
}

void socket_pool::give_back(timestamping_socket sock, const udp::endpoint& server,
                            std::vector<udp::endpoint> silent) {
  if (silent.size() >= 8) silent.erase(silent.begin(), silent.end() - 7);
  silent.push_back(server);
  auto& slot = server.address().is_v6() ? v6_ : v4_;
  slot.emplace(spare{std::move(sock), std::move(silent)});
}

std::size_t default_concurrency() noexcept {
  rlimit r{};
  std::size_t limit = 1024;
  if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur != RLIM_INFINITY) limit = r.rlim_cur;
  // Leave room for stdio, the resolver and the libraries; one socket per address in flight.
  const std::size_t spare = limit > 64 ? limit - 32 : limit / 2;
  return std::clamp<std::size_t>(spare / 2, 1, 512);
}

namespace {

struct fanout_state {
  const std::vector<target>& targets;
  fanout_options options;
  const fanout_hooks& hooks;
  std::vector<std::vector<udp::endpoint>> endpoints;
  std::vector<std::size_t> remaining;
  std::deque<std::pair<std::size_t, std::size_t>> jobs;
  std::size_t next_target = 0;
  std::size_t workers_left = 0;
  std::exception_ptr failure;
};

asio::awaitable<void> resolve_target(fanout_state& st, std::size_t t) {
  auto eps = co_await resolve(st.targets[t], st.options.address_family);
  st.hooks.resolved(t, eps);
  if (!eps) {
    st.hooks.target_done(t);
    co_return;
  }
  st.endpoints[t] = std::move(*eps);
  st.remaining[t] = st.endpoints[t].size();
  for (std::size_t i = 0; i < st.endpoints[t].size(); ++i) st.jobs.emplace_back(t, i);
}

asio::awaitable<void> worker(fanout_state& st) {
  socket_pool sockets;
  for (;;) {
    if (!st.jobs.empty()) {
      const auto [t, i] = st.jobs.front();
      st.jobs.pop_front();
      co_await st.hooks.query(t, i, st.endpoints[t][i], sockets);
      if (--st.remaining[t] == 0) {
        st.endpoints[t] = {};
        st.hooks.target_done(t);
      }
    } else if (st.next_target < st.targets.size()) {
      co_await resolve_target(st, st.next_target++);
    } else {
      co_return;
    }
  }
}

}  // namespace

asio::awaitable<void> fan_out(const std::vector<target>& targets, fanout_options options,
                              const fanout_hooks& hooks) {
  auto ex = co_await asio::this_coro::executor;
  const auto n = targets.size();
  fanout_state st{targets, options, hooks, {}, {}, {}, 0, 0, nullptr};
  st.endpoints.resize(n);
  st.remaining.assign(n, 0);
  const auto width = options.concurrency ? options.concurrency : default_concurrency();
  st.workers_left = std::max<std::size_t>(1, std::min(width, n));
  asio::steady_timer all_done(ex, std::chrono::steady_clock::time_point::max());
  const auto spawned = st.workers_left;
  for (std::size_t w = 0; w < spawned; ++w) {
    asio::co_spawn(ex, worker(st), [&](std::exception_ptr e) {
      if (e && !st.failure) st.failure = e;
      if (--st.workers_left == 0) all_done.cancel();
    });
  }
  if (st.workers_left > 0) co_await all_done.async_wait(asio::as_tuple(asio::use_awaitable));
  if (st.failure) std::rethrow_exception(st.failure);
}

}  // namespace ntpkit::net
