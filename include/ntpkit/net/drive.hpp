#pragma once

// The one driver of every sans-I/O session (proto/session.hpp) over a timestamping UDP
// socket: it asks the session what to do, sends, waits with a deadline, reads the clocks and
// hands datagrams and errors back. The session decides everything else.

#include <algorithm>
#include <array>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <span>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include "ntpkit/net/timestamping_socket.hpp"
#include "ntpkit/proto/session.hpp"

namespace ntpkit::net {

/// A gate that lets every send pass at once.
struct open_gate {
  template <class Endpoint, class Session>
  asio::awaitable<bool> before_send(const Endpoint&, Session&) {
    co_return true;
  }
  template <class Endpoint>
  void after_send(const Endpoint&) {}
};

/// Runs `s` against `peer` on `sock` (a timestamping_socket, or a unix_datagram_socket for a
/// local daemon: anything with its endpoint_type, send() and receive()) until it is finished. `gate.before_send(peer, s)` is
/// awaited before each send (false: not sent; the gate has told the session why) and
/// `gate.after_send(peer)` follows it. Datagrams from `silent` sources (servers this socket
/// asked before it was reused) are dropped unseen; others from elsewhere reach the session
/// marked as not from its peer. Never throws for network outcomes. `peer` is held by value
/// (a caller's temporary would die before the coroutine first runs); `s`, `sock` and the
/// addresses `silent` views must outlive the coroutine.
template <class Session, class Socket, class Gate = open_gate>
asio::awaitable<void> drive(Session& s, Socket& sock, typename Socket::endpoint_type peer,
                            Gate gate = {},
                            std::span<const typename Socket::endpoint_type> silent = {}) {
  using steady = std::chrono::steady_clock;
  constexpr bool wants_tx_time =
      requires { s.on_transmit_time(std::uint32_t{}, proto::sys_nanoseconds{}); } &&
      requires { sock.transmit_time(std::uint32_t{}); };
  // Room for any datagram the protocols accept; longer ones reach the session as truncated.
  std::array<std::uint8_t, 2048> buf;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> tx_pending;  // socket send id, tag
  for (;;) {
    auto action = s.next(steady::now());
    if (std::holds_alternative<proto::finished>(action)) co_return;
    if (auto* out = std::get_if<proto::send_bytes>(&action)) {
      if (!co_await gate.before_send(peer, s)) continue;
      auto d = sock.send(out->bytes, peer);
      gate.after_send(peer);
      if (!d) {
        s.on_send_failed(d.error());
        continue;
      }
      s.on_sent({out->tag, d->user_time, proto::time_source::user, steady::now()});
      if constexpr (wants_tx_time) tx_pending.emplace_back(d->id, out->tag);
      continue;
    }
    const auto deadline = std::get<proto::wait_until>(action).deadline;
    auto d = co_await sock.receive(buf, deadline);
    if constexpr (wants_tx_time) {
      // The kernel reports transmit times on the error queue, which receive() reads.
      std::erase_if(tx_pending, [&](const auto& p) {
        const auto t = sock.transmit_time(p.first);
        if (t) s.on_transmit_time(p.second, *t);
        return t.has_value();
      });
    }
    if (!d) {
      if (d.error() != std::errc::timed_out) s.on_transport_error(d.error());
      continue;
    }
    if (d->from != peer && std::find(silent.begin(), silent.end(), d->from) != silent.end()) {
      continue;
    }
    s.on_datagram(std::span<const std::uint8_t>(buf.data(), d->size),
                  {d->from == peer, d->truncated, d->time, d->source, steady::now()});
  }
}

}  // namespace ntpkit::net
