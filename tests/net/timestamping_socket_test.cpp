// net/timestamping_socket.hpp: timestamping_socket::receive() on loopback.

#include "ntpkit/net/timestamping_socket.hpp"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
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

namespace {

// The descriptors registered in epoll instance `epfd` of this process (its fdinfo "tfd:" lines).
std::vector<int> epoll_members(int epfd) {
  std::vector<int> fds;
  std::ifstream info("/proc/self/fdinfo/" + std::to_string(epfd));
  for (std::string line; std::getline(info, line);) {
    if (line.rfind("tfd:", 0) == 0) fds.push_back(std::stoi(line.substr(4)));
  }
  return fds;
}

// The epoll instances this process has open (the io_context's reactor among them).
std::vector<int> epoll_descriptors() {
  std::vector<int> fds;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(e.path(), ec);
    if (!ec && target == "anon_inode:[eventpoll]") fds.push_back(std::stoi(e.path().filename()));
  }
  return fds;
}

bool registered(int fd) {
  for (int ep : epoll_descriptors()) {
    const auto members = epoll_members(ep);
    if (std::find(members.begin(), members.end(), fd) != members.end()) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a socket sends from outside the event loop's epoll set and waits inside it") {
  // While a socket is in an epoll set, the kernel runs epoll's wake-up callback when it queues
  // the transmit timestamp, between taking T1 and passing the packet on: measurably more
  // delay (docs/benchmarks.md). So send() takes the socket out, and receive() puts it back
  // only when it has to wait.
  asio::io_context io;
  peer server;
  auto sock = net::timestamping_socket::open(io.get_executor(), net::udp::v4());
  REQUIRE(sock.has_value());
  const int fd = sock->native_handle();
  CHECK_FALSE(sock->in_event_loop());
  CHECK_FALSE(registered(fd));

  const std::vector<std::uint8_t> hello(48, 0);
  REQUIRE(sock->send(hello, server.endpoint()).has_value());
  CHECK_FALSE(registered(fd));

  // Nothing comes: receive() waits, in the epoll set, and stays there afterwards.
  auto [none, ec] = drain(io, *sock, std::chrono::steady_clock::now() + 50ms);
  CHECK(none == 0);
  CHECK(ec == std::errc::timed_out);
  CHECK(sock->in_event_loop());
  CHECK(sock->native_handle() == fd);
  CHECK(registered(fd));

  // The next send leaves the set again; the descriptor is the same socket.
  REQUIRE(sock->send(hello, server.endpoint()).has_value());
  CHECK_FALSE(sock->in_event_loop());
  CHECK(sock->native_handle() == fd);
  CHECK_FALSE(registered(fd));
  CHECK(sock->transmit_time(1).has_value());

  // An answer that comes while receive() waits wakes it: the server answers each request
  // 100 ms after it, by which time receive() has re-entered the set and is suspended.
  sockaddr_in client{};
  socklen_t size = sizeof client;
  std::uint8_t buf[64];
  for (int i = 0; i < 2; ++i) {
    REQUIRE(::recvfrom(server.fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&client),
                       &size) == 48);
  }
  std::thread answer([&] {
    std::this_thread::sleep_for(100ms);
    ::sendto(server.fd, buf, 48, 0, reinterpret_cast<sockaddr*>(&client), size);
  });
  const auto start = std::chrono::steady_clock::now();
  auto [got, ec2] = drain(io, *sock, start + 600ms);
  answer.join();
  CHECK(got == 1);
  CHECK(ec2 == std::errc::timed_out);
  CHECK(std::chrono::steady_clock::now() - start < 1500ms);
}

TEST_CASE("a moved socket keeps its descriptor, in or out of the event loop") {
  asio::io_context io;
  auto sock = net::timestamping_socket::open(io.get_executor(), net::udp::v4());
  REQUIRE(sock.has_value());
  const int fd = sock->native_handle();
  net::timestamping_socket moved = std::move(*sock);
  CHECK(moved.native_handle() == fd);
  CHECK(::fcntl(fd, F_GETFD) >= 0);
  auto [none, ec] = drain(io, moved, std::chrono::steady_clock::now() + 20ms);
  CHECK(ec == std::errc::timed_out);
  REQUIRE(moved.in_event_loop());
  net::timestamping_socket again = std::move(moved);
  CHECK(again.native_handle() == fd);
  CHECK(again.in_event_loop());
  {
    auto gone = std::move(again);  // closes fd when it goes
  }
  CHECK(::fcntl(fd, F_GETFD) < 0);
}
