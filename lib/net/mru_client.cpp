#include "ntpkit/net/mru_client.hpp"

#include <boost/asio/this_coro.hpp>
#include <chrono>

#include "ntpkit/net/drive.hpp"

namespace ntpkit::net {

asio::awaitable<proto::mru_walk_result> walk_mru(udp::endpoint server,
                                                 proto::mru_walk_options options) {
  auto sock = timestamping_socket::open(co_await asio::this_coro::executor, server.protocol());
  if (!sock) {
    proto::mru_walk_result r;
    r.outcome = proto::mru_outcome::transport_error;
    r.error = sock.error();
    co_return r;
  }
  proto::mru_walk walk(std::move(options), std::chrono::steady_clock::now());
  co_await drive(walk, *sock, server);
  co_return walk.result();
}

}  // namespace ntpkit::net
