#include "ntpkit/net/broadcast.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <cstdio>
#include <exception>

#include "ntpkit/net/timestamping_socket.hpp"
#include "ntpkit/proto/ntp_query.hpp"
#include "run.hpp"
#include "ntpkit/proto/packet.hpp"

namespace ntpkit::net {
namespace {

// What one listening run keeps, whatever a peer sends: every well-formed packet is a sample
// and every source port another sender, so without bounds a flood grows memory without end.
constexpr std::size_t max_senders = 1024;
constexpr std::size_t max_samples_per_sender = 1000;  // --samples' ceiling

// The result of `from`, made on its first packet; nullptr when max_senders are known already.
model::ntp_address* sender(model::ntp_target& t, const udp::endpoint& from) {
  const auto address = from.address().to_string();
  for (auto& a : t.addresses) {
    if (a.address == address && a.port == from.port()) return &a;
  }
  if (t.addresses.size() >= max_senders) return nullptr;
  auto& a = t.addresses.emplace_back();
  a.locate(address, from.port(),
           from.address().is_v6() ? model::family::ipv6 : model::family::ipv4);
  a.broadcast = true;
  return &a;
}

}  // namespace

asio::awaitable<model::ntp_target> listen_broadcast(broadcast_options o) {
  model::ntp_target t;
  t.host = o.group ? o.group->to_string() : o.local.address().to_string();
  t.port = o.local.port();
  t.spec = "broadcast " + t.host + ":" + std::to_string(t.port);
  auto sock = timestamping_socket::open(co_await asio::this_coro::executor, o.local.protocol());
  if (sock) {
    if (auto bound = sock->listen_on(o.local, o.group ? &*o.group : nullptr); !bound) {
      sock = bound.error();
    }
  }
  if (!sock) {
    t.error = model::failure(model::error_kind::network, model::error_cause::listen_failed);
    t.error.code = sock.error();
    co_return t;
  }
  const auto deadline = std::chrono::steady_clock::now() + o.duration;
  std::array<std::uint8_t, 2048> buf;
  unsigned taken = 0;
  while (o.max_packets == 0 || taken < o.max_packets) {
    auto d = co_await sock->receive(buf, deadline);
    if (!d) break;  // the deadline, or an error that ends listening either way
    if (!o.only_from.empty() &&
        std::find(o.only_from.begin(), o.only_from.end(), d->from.address()) ==
            o.only_from.end()) {
      continue;
    }
    auto* known = sender(t, d->from);
    if (!known) continue;  // more senders than we keep: a flood of source ports
    auto& a = *known;
    proto::ignore_reason why{};
    const proto::datagram_meta meta{true, d->truncated, d->time, d->source,
                                    std::chrono::steady_clock::now()};
    auto s = proto::hear_broadcast(std::span(buf.data(), d->size), meta, o.assumed_delay,
                                   local_precision(), &why);
    if (!s) {
      a.ignored.add(why);
      continue;
    }
    if (a.samples.size() >= max_samples_per_sender) {
      a.ignored.add(proto::ignore_reason::over_limit);
      continue;
    }
    model::sample heard;
    static_cast<proto::ntp_sample&>(heard) = std::move(*s);
    a.samples.push_back(std::move(heard));
    ++taken;
  }
  // A sender of nothing but ignored datagrams (a stray answer or request on the port) is no
  // broadcaster we heard: it is left out rather than reported as a server that failed; the
  // target's error counts its datagrams when nothing else was heard.
  proto::ignore_counts stray;
  std::erase_if(t.addresses, [&](const model::ntp_address& a) {
    if (!a.samples.empty()) return false;
    for (const auto& [reason, count] : a.ignored) stray.add(reason, count);
    return true;
  });
  for (auto& a : t.addresses) model::conclude(a, {});
  if (t.addresses.empty()) {
    t.error = model::failure(model::error_kind::timeout, model::error_cause::nothing_heard);
    t.error.waited = o.duration;
    t.ignored = stray;
  }
  co_return t;
}

model::ntp_target listen_broadcast_blocking(const broadcast_options& options) {
  return detail::run_blocking(listen_broadcast(options));
}

}  // namespace ntpkit::net
