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
#include <utility>
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

// A timestamping_socket that has sent one datagram to `server`, and `count` datagrams that
// the server then sent back, queued on it.
net::timestamping_socket with_queued(asio::io_context& io, const peer& server, int count) {
  auto sock = net::timestamping_socket::open(io.get_executor(), net::udp::v4());
  REQUIRE(sock.has_value());
  const std::vector<std::uint8_t> hello(48, 0);
  REQUIRE(sock->send(hello, server.endpoint()).has_value());
  sockaddr_in client{};
  socklen_t size = sizeof client;
  std::uint8_t buf[64];
  REQUIRE(::recvfrom(server.fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&client), &size) ==
          48);
  for (int i = 0; i < count; ++i) {
    ::sendto(server.fd, buf, 48, 0, reinterpret_cast<sockaddr*>(&client), size);
  }
  std::this_thread::sleep_for(50ms);  // let loopback deliver them
  return std::move(*sock);
}

// Calls receive() with `deadline` until it fails; returns the datagrams it gave and the error.
std::pair<int, std::error_code> drain(asio::io_context& io, net::timestamping_socket& sock,
                                      std::chrono::steady_clock::time_point deadline) {
  int got = 0;
  std::error_code ec;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        std::uint8_t reply[2048];
        for (;;) {
          auto d = co_await sock.receive(reply, deadline);
          if (!d) {
            ec = d.error();
            co_return;
          }
          ++got;
        }
      },
      asio::detached);
  io.restart();
  io.run();
  return {got, ec};
}

}  // namespace

TEST_CASE("receive still hands out a datagram that was queued before its deadline") {
  // The caller may have been busy past its deadline while the answer waited in the socket:
  // that answer arrived in time and is taken.
  asio::io_context io;
  peer server;
  auto sock = with_queued(io, server, 10);
  const auto [got, ec] = drain(io, sock, std::chrono::steady_clock::now() - 1ms);
  CHECK(got == 10);
  CHECK(ec == std::errc::timed_out);
}

TEST_CASE("past its deadline receive hands out at most 64 datagrams in a row") {
  // A peer that keeps the socket non-empty (a flood faster than we read) must not hold a
  // caller that loops on receive() past its deadline.
  asio::io_context io;
  peer server;
  auto sock = with_queued(io, server, 100);
  const auto [late, ec] = drain(io, sock, std::chrono::steady_clock::now() - 1ms);
  CHECK(late == 64);
  CHECK(ec == std::errc::timed_out);
  // A caller with time left gets the rest.
  const auto [in_time, ec2] = drain(io, sock, std::chrono::steady_clock::now() + 200ms);
  CHECK(in_time == 36);
  CHECK(ec2 == std::errc::timed_out);
}
