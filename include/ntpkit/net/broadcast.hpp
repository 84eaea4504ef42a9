#pragma once

// Broadcast and multicast listening (RFC 5905 mode 5), as sntp -b does: hear what servers on
// the LAN announce and judge it, without sending anything.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <optional>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/proto/timestamp.hpp"
#include "ntpkit/model/ntp.hpp"

namespace ntpkit::net {

namespace asio = boost::asio;
using udp = asio::ip::udp;

/// Where and how long to listen.
struct broadcast_options {
  udp::endpoint local;                          ///< address and port to bind
  std::optional<asio::ip::address> group;       ///< multicast group to join
  std::chrono::milliseconds duration{64'000};   ///< how long to listen at most
  unsigned max_packets = 0;                     ///< stop after this many packets (0: no limit)
  std::vector<asio::ip::address> only_from;     ///< accept only these senders (empty: any)
  proto::duration assumed_delay;                ///< one-way delay added to each offset
};

/// Listens and returns one target whose addresses are the servers heard, each with a sample
/// per packet. At most 1024 senders (address and port) and 1000 samples per sender are kept;
/// a sender's further packets are counted as ignored "over_limit", other senders' dropped. A
/// sender of nothing but other datagrams (not mode 5, malformed) is left out.
/// Errors (the port cannot be bound, nothing heard) are in the target's error.
NTPKIT_API asio::awaitable<model::ntp_target> listen_broadcast(broadcast_options options);

/// listen_broadcast() on an io_context of its own.
NTPKIT_API model::ntp_target listen_broadcast_blocking(const broadcast_options& options);

}  // namespace ntpkit::net
