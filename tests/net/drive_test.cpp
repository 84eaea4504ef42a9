// net/drive.hpp runs any session over a real socket on loopback: a toy session here (send
// "ping", take "pong") stands for the protocols to come, so that these cases pin the driver's
// part alone: sends and their times, deadlines, datagrams from elsewhere, the gate's veto,
// transport errors.

#include "ntpkit/net/drive.hpp"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace ntpkit;
using namespace std::chrono_literals;

namespace {

// Sends "ping" up to `tries` times, `wait` apart, until "pong" comes; records everything.
struct ping_session {
  int tries = 1;
  std::chrono::milliseconds wait{300};
  int sent = 0;
  bool answered = false;
  bool vetoed = false;
  std::vector<std::string> from_elsewhere;
  std::error_code transport;
  proto::steady_time deadline{};
  std::vector<proto::sent_meta> sends;

  proto::session_action next(proto::steady_time now) {
    if (answered || vetoed || transport) return proto::finished{};
    if (sent > 0 && now < deadline) return proto::wait_until{deadline};
    if (sent == tries) return proto::finished{};
    return proto::send_bytes{{'p', 'i', 'n', 'g'}, static_cast<std::uint32_t>(sent)};
  }
  void on_sent(const proto::sent_meta& m) {
    sends.push_back(m);
    ++sent;
    deadline = m.at + wait;
  }
  void on_send_failed(std::error_code ec) { transport = ec; }
  void on_vetoed(std::string_view) { vetoed = true; }
  void on_datagram(std::span<const std::uint8_t> b, const proto::datagram_meta& m) {
    const std::string text(b.begin(), b.end());
    if (!m.from_peer) {
      from_elsewhere.push_back(text);
    } else if (text == "pong") {
      answered = true;
    }
  }
  void on_transport_error(std::error_code ec) { transport = ec; }
};

// A UDP socket on 127.0.0.1 that answers "ping" with "pong" after `answer_after` pings.
struct ponger {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  std::uint16_t port = 0;
  int pings = 0;
  ponger() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t n = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
    port = ntohs(a.sin_port);
  }
  ~ponger() { ::close(fd); }
  // Serves up to `max` datagrams within 2 s: answers the `answer_on`-th ping (1-based).
  void serve(int answer_on, int max) {
    for (int i = 0; i < max; ++i) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 2000) <= 0) return;
      char buf[16];
      sockaddr_in from{};
      socklen_t n = sizeof from;
      if (::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &n) < 0) return;
      if (++pings == answer_on) {
        ::sendto(fd, "pong", 4, 0, reinterpret_cast<sockaddr*>(&from), n);
        return;
      }
    }
  }
};

net::udp::endpoint at(std::uint16_t port) {
  return {boost::asio::ip::address_v4::loopback(), port};
}

template <class Gate = net::open_gate>
void run(ping_session& s, std::uint16_t port, Gate gate = {},
         std::vector<net::udp::endpoint> silent = {}) {
  boost::asio::io_context io;
  auto sock = net::timestamping_socket::open(io.get_executor(), net::udp::v4());
  REQUIRE(sock);
  boost::asio::co_spawn(io, net::drive(s, *sock, at(port), gate, silent), boost::asio::detached);
  io.run();
}

struct veto_gate {
  template <class S>
  boost::asio::awaitable<bool> before_send(const net::udp::endpoint&, S& s) {
    s.on_vetoed("no");
    co_return false;
  }
  void after_send(const net::udp::endpoint&) {}
};

}  // namespace

TEST_CASE("drive sends, waits and hands the answer over; each send has its clock readings") {
  ponger server;
  std::thread t([&] { server.serve(2, 5); });
  ping_session s;
  s.tries = 3;
  s.wait = 200ms;
  const auto before = std::chrono::steady_clock::now();
  run(s, server.port);
  t.join();
  CHECK(s.answered);
  CHECK(s.sent == 2);  // the first ping went unanswered, the second was answered
  REQUIRE(s.sends.size() == 2);
  CHECK(s.sends[0].tag == 0);
  CHECK(s.sends[1].tag == 1);
  CHECK(s.sends[1].at - s.sends[0].at >= 200ms);  // the retry waited for the deadline
  CHECK(s.sends[0].at >= before);
}

TEST_CASE("drive ends when the session stops asking, even when nothing answers") {
  ponger server;  // never served: reads nothing, answers nothing
  ping_session s;
  s.tries = 2;
  s.wait = 100ms;
  const auto before = std::chrono::steady_clock::now();
  run(s, server.port);
  CHECK_FALSE(s.answered);
  CHECK(s.sent == 2);
  CHECK(std::chrono::steady_clock::now() - before >= 200ms);
}

TEST_CASE("datagrams from other sources reach the session marked, unless they are silent") {
  ponger server, other, quiet;
  std::thread t([&] { server.serve(1, 1); });
  ping_session s;
  s.wait = 500ms;
  boost::asio::io_context io;
  auto sock = net::timestamping_socket::open(io.get_executor(), net::udp::v4());
  REQUIRE(sock);
  // Before the exchange, another socket and a "silent" one (a server this socket asked
  // earlier) write to ours; its port is known after its first send, so they write from the
  // gate, just before it.
  struct stray_gate {
    int other, quiet;
    net::timestamping_socket* sock;
    boost::asio::awaitable<bool> before_send(const net::udp::endpoint&, ping_session&) {
      co_return true;
    }
    void after_send(const net::udp::endpoint&) {
      sockaddr_in6 me{};
      socklen_t n = sizeof me;
      ::getsockname(sock->native_handle(), reinterpret_cast<sockaddr*>(&me), &n);
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      to.sin_port = reinterpret_cast<sockaddr_in*>(&me)->sin_port;
      ::sendto(other, "stray", 5, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
      ::sendto(quiet, "late", 4, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    }
  };
  std::vector<net::udp::endpoint> silent{at(quiet.port)};
  boost::asio::co_spawn(io,
                        net::drive(s, *sock, at(server.port),
                                   stray_gate{other.fd, quiet.fd, &*sock}, silent),
                        boost::asio::detached);
  io.run();
  t.join();
  CHECK(s.answered);
  CHECK(s.from_elsewhere == std::vector<std::string>{"stray"});
}

TEST_CASE("a gate's veto is not sent, and ICMP port unreachable reaches the session") {
  ponger server;
  ping_session vetoed;
  run(vetoed, server.port, veto_gate{});
  CHECK(vetoed.vetoed);
  CHECK(vetoed.sent == 0);
  CHECK(server.pings == 0);

  std::uint16_t closed;
  {
    ponger gone;
    closed = gone.port;
  }  // closed: nothing listens there now
  ping_session s;
  s.wait = 1s;
  run(s, closed);
  CHECK(s.transport == std::errc::connection_refused);
  CHECK(s.sent == 1);
}
