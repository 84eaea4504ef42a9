#pragma once

// Many targets at once: every target resolved to its addresses, every address handed to a
// query with bounded concurrency, each target reported as soon as all its addresses are done.
// Workers keep a socket per family for their next address (socket_pool), which the query
// gives back only after a clean exchange. Any program's per-address query runs on it.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstddef>
#include <functional>
#include <optional>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/net/resolve.hpp"
#include "ntpkit/net/timestamping_socket.hpp"
#include "ntpkit/result.hpp"

namespace ntpkit::net {

/// A worker's spare sockets, one per family. Opening and closing a socket per address
/// (socket, two setsockopt, ioctl, epoll_ctl, bind on first send, close) was a fifth of
/// ntpprobe's CPU time against 1000 servers; a socket is reused when the exchange on it ended
/// cleanly (every request answered once, nothing else received, no error). What may still come
/// on it is read and dropped before the next address uses it.
class NTPKIT_API socket_pool {
 public:
  /// A socket for talking to `server`: the spare one of its family (strays drained), or a new
  /// one. `silent` receives the servers the socket asked before (at most 8), whose late
  /// datagrams drive() then drops unseen.
  asio::awaitable<result<timestamping_socket>> take(const udp::endpoint& server,
                                                    std::vector<udp::endpoint>& silent);
  /// Keeps `sock`, last used for `server` after `silent`, for the next address.
  void give_back(timestamping_socket sock, const udp::endpoint& server,
                 std::vector<udp::endpoint> silent);

 private:
  struct spare {
    timestamping_socket socket;
    std::vector<udp::endpoint> silent;
  };
  std::optional<spare> v4_, v6_;
};

/// How to fan out.
struct fanout_options {
  family address_family = family::any;
  std::size_t concurrency = 0;  ///< addresses in flight at once; 0 = default_concurrency()
};

/// Addresses in flight by default: what RLIMIT_NOFILE allows with room to spare, at most 512.
NTPKIT_API std::size_t default_concurrency() noexcept;

/// What fan_out() calls, all on its executor, never concurrently with each other.
struct fanout_hooks {
  /// Target `t` resolved to `endpoints` (non-empty) or failed with `error`; called once per
  /// target before any of its queries.
  std::function<void(std::size_t t, const result<std::vector<udp::endpoint>>& endpoints)> resolved;
  /// Query address `i` of target `t`.
  std::function<asio::awaitable<void>(std::size_t t, std::size_t i, const udp::endpoint& server,
                                      socket_pool& sockets)>
      query;
  /// Every address of target `t` is done (or it did not resolve).
  std::function<void(std::size_t t)> target_done;
};

/// Resolves and queries every target. Targets are resolved in order as workers need work;
/// a worker takes the next address before the next target. Rethrows what a hook threw.
NTPKIT_API asio::awaitable<void> fan_out(const std::vector<target>& targets,
                                         fanout_options options, const fanout_hooks& hooks);

}  // namespace ntpkit::net
