#include "ntpkit/net/broadcast.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <cstdio>
#include <exception>

#include "ntpkit/net/udp_exchange.hpp"
#include "run.hpp"
#include "ntpkit/proto/exchange.hpp"
#include "ntpkit/proto/packet.hpp"

namespace ntpkit::net {
namespace {

using report::error_kind;

// What one listening run keeps, whatever a peer sends: every well-formed packet is a sample
// and every source port another sender, so without bounds a flood grows memory without end.
constexpr std::size_t max_senders = 1024;
constexpr std::size_t max_samples_per_sender = 1000;  // --samples' ceiling

// The report of `from`, made on its first packet; nullptr when max_senders are known already.
report::address_report* sender(report::target_report& t, const udp::endpoint& from) {
  const auto address = from.address().to_string();
  for (auto& a : t.addresses) {
    if (a.address == address && a.port == from.port()) return &a;
  }
  if (t.addresses.size() >= max_senders) return nullptr;
  auto& a = t.addresses.emplace_back();
  a.address = address;
  a.port = from.port();
  a.ipv6 = from.address().is_v6();
  return &a;
}

report::sample heard(const proto::packet& p, const received_datagram& d,
                     proto::duration assumed_delay) {
  report::sample s;
  s.broadcast = true;
  s.reply = p;
  s.t4_date = proto::date::from_sys_time(d.time);
  s.t1_date = s.t4_date;
  s.t4_source = d.source;
  s.times = {proto::timestamp{}, proto::timestamp{}, p.transmit, s.t4_date.to_timestamp()};
  s.measured = proto::measure_broadcast(p.transmit, s.times.t4, assumed_delay, p.precision,
                                        local_precision());
  proto::reply_expectation e;
  e.local_precision = local_precision();
  s.assessed = proto::assess_broadcast(p, e);
  return s;
}

}  // namespace

asio::awaitable<report::target_report> listen_broadcast(broadcast_options o) {
  report::target_report t;
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
    t.error = {error_kind::network, "cannot listen on port " + std::to_string(t.port) + ": " +
                                        sock.error().message(), {}};
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
    auto p = proto::parse_packet(std::span(buf.data(), d->size));
    if (d->truncated || !p) {
      a.ignore(d->truncated ? "oversized" : "malformed");
      continue;
    }
    if (p->mode != proto::association_mode::broadcast) {
      a.ignore("mode");
      continue;
    }
    if (a.samples.size() >= max_samples_per_sender) {
      a.ignore("over_limit");
      continue;
    }
    a.samples.push_back(heard(*p, *d, o.assumed_delay));
    ++taken;
  }
  // A sender of nothing but ignored datagrams (a stray answer or request on the port) is no
  // broadcaster we heard: it is left out rather than reported as a server that failed.
  std::string stray;
  std::erase_if(t.addresses, [&](const report::address_report& a) {
    if (!a.samples.empty()) return false;
    for (const auto& i : a.ignored) {
      stray += (stray.empty() ? "" : ", ") + std::to_string(i.count) + " " + i.reason;
    }
    return true;
  });
  for (auto& a : t.addresses) report::conclude(a, {});
  if (t.addresses.empty()) {
    t.error = {error_kind::timeout,
               "no broadcast heard within " + detail::seconds_text(o.duration) +
                   (stray.empty() ? "" : " (ignored: " + stray + ")"),
               {}};
  }
  co_return t;
}

report::target_report listen_broadcast_blocking(const broadcast_options& options) {
  return detail::run_blocking(listen_broadcast(options));
}

}  // namespace ntpkit::net
