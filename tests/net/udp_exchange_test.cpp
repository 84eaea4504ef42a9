// net/udp_exchange.hpp: timestamping_socket::receive() on loopback.

#include "ntpkit/net/udp_exchange.hpp"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <thread>
#include <vector>

using namespace ntpkit;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

// A plain UDP socket on 127.0.0.1 with a kernel-chosen port.
struct peer {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in at{};
  peer() {
    at.sin_family = AF_INET;
    at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&at), sizeof at);
    socklen_t size = sizeof at;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&at), &size);
  }
  peer(const peer&) = delete;
  ~peer() { ::close(fd); }
  net::udp::endpoint endpoint() const {
    return {asio::ip::address_v4::loopback(), ntohs(at.sin_port)};
  }
};

}  // namespace

TEST_CASE("receive gives up at its deadline even when datagrams are queued") {
  // A peer that keeps the socket non-empty (a flood faster than we read) must not hold a
  // caller that loops on receive() past its deadline: once the deadline has passed, receive()
  // says timed_out instead of handing out one more queued datagram.
  asio::io_context io;
  peer server;
  auto sock = net::timestamping_socket::open(io.get_executor(), net::udp::v4());
  REQUIRE(sock.has_value());
  const std::vector<std::uint8_t> hello(48, 0);
  REQUIRE(sock->send(hello, server.endpoint()).has_value());
  sockaddr_in client{};
  socklen_t size = sizeof client;
  std::uint8_t buf[64];
  REQUIRE(::recvfrom(server.fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&client), &size) ==
          48);
  for (int i = 0; i < 10; ++i) {
    ::sendto(server.fd, buf, 48, 0, reinterpret_cast<sockaddr*>(&client), size);
  }
  std::this_thread::sleep_for(50ms);  // let loopback deliver them

  std::optional<std::error_code> past, future;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        std::uint8_t reply[2048];
        auto late = co_await sock->receive(reply, std::chrono::steady_clock::now() - 1ms);
        past = late ? std::error_code{} : late.error();
        auto in_time = co_await sock->receive(reply, std::chrono::steady_clock::now() + 1s);
        future = in_time ? std::error_code{} : in_time.error();
      },
      asio::detached);
  io.run();
  REQUIRE(past.has_value());
  CHECK(*past == std::errc::timed_out);
  REQUIRE(future.has_value());
  CHECK(!*future);  // the queued datagrams are still there for a caller with time left
}
