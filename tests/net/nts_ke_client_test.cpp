// net/nts_ke_client.hpp without a TLS server: the steps before and around TLS fail typed and
// bounded (a refused port, a peer that never answers the ClientHello, one that answers with
// something that is not TLS, a CA file that cannot be loaded). The TLS and NTS-KE cases against
// chronyd, NTPsec and a hostile server are in tests/integration/test_nts.py.

#include "ntpkit/net/nts_ke_client.hpp"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "../lib/net/run.hpp"

using namespace ntpkit;
using namespace std::chrono_literals;
using model::error_cause;

namespace {

// A TCP listener on 127.0.0.1 that accepts one connection and then writes `answer` (or
// nothing), keeping it open until the client goes or 3 s pass.
struct listener {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  std::uint16_t port = 0;
  listener() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd, 1);
    socklen_t n = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
    port = ntohs(a.sin_port);
  }
  ~listener() { ::close(fd); }
  void serve(std::string answer) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 3000) != 1) return;
    const int c = ::accept(fd, nullptr, nullptr);
    if (!answer.empty()) (void)::write(c, answer.data(), answer.size());
    pollfd q{c, POLLIN, 0};
    for (int i = 0; i < 30 && ::poll(&q, 1, 100) >= 0; ++i) {
      char b[512];
      if ((q.revents & POLLIN) && ::read(c, b, sizeof b) <= 0) break;
    }
    ::close(c);
  }
};

net::nts_ke_result exchange(std::uint16_t port, net::nts_ke_options o = {}) {
  o.connect_timeout = 1000ms;
  o.handshake_timeout = 500ms;
  const net::tcp::endpoint at(boost::asio::ip::address_v4::loopback(), port);
  return net::detail::run_blocking(net::key_exchange(at, "127.0.0.1", o));
}

}  // namespace

TEST_CASE("a refused NTS-KE port is nts_ke_unreachable at the connect step") {
  std::uint16_t port = 0;
  {
    listener closed;  // a port that was free a moment ago and is closed again
    port = closed.port;
  }
  const auto r = exchange(port);
  CHECK(r.error.kind == model::error_kind::nts);
  CHECK(r.error.cause == error_cause::nts_ke_unreachable);
  CHECK(r.error.code == std::errc::connection_refused);
  CHECK(r.info.failed_step == model::nts_step::connect);
  CHECK_FALSE(r.plan.has_value());
  CHECK(r.info.ke_address == "127.0.0.1");
  CHECK(r.info.ke_port == port);
}

TEST_CASE("a peer that never answers the ClientHello times out at the handshake step") {
  listener silent;
  std::thread t([&] { silent.serve(""); });
  const auto before = std::chrono::steady_clock::now();
  const auto r = exchange(silent.port);
  const auto took = std::chrono::steady_clock::now() - before;
  t.join();
  CHECK(r.error.cause == error_cause::nts_ke_timeout);
  CHECK(r.error.detail == "tls_handshake");
  CHECK(r.error.waited == 500ms);
  CHECK(r.info.failed_step == model::nts_step::tls_handshake);
  CHECK(took >= 500ms);
  CHECK(took < 2500ms);  // bounded by the handshake timeout, not by the peer
}

TEST_CASE("a peer that answers with something else than TLS fails the handshake") {
  listener http;
  std::thread t([&] { http.serve("HTTP/1.0 400 Bad Request\r\n\r\n"); });
  const auto r = exchange(http.port);
  t.join();
  CHECK(r.error.kind == model::error_kind::tls);
  CHECK(r.error.cause == error_cause::tls_handshake_failed);
  CHECK_FALSE(r.error.detail.empty());  // the TLS library's reason
  CHECK(r.info.failed_step == model::nts_step::tls_handshake);
  CHECK_FALSE(r.info.certificate.has_value());
}

TEST_CASE("a CA file that cannot be loaded is a usage error, named") {
  listener quiet;
  std::thread t([&] { quiet.serve(""); });
  net::nts_ke_options o;
  o.ca_file = "/nonexistent/ntpkit-ca.pem";
  const auto r = exchange(quiet.port, o);
  t.join();
  CHECK(r.error.kind == model::error_kind::usage);
  CHECK(r.error.cause == error_cause::ca_file_unreadable);
  CHECK(r.error.detail == "/nonexistent/ntpkit-ca.pem");
}

TEST_CASE("probe_nts reports every target and address, each with its NTS failure") {
  std::uint16_t port = 0;
  {
    listener closed;
    port = closed.port;
  }
  std::vector<net::target> targets{{"127.0.0.1", "127.0.0.1", port},
                                   {"bad host", "bad host", port}};
  net::nts_query_options o;
  o.ke.connect_timeout = 1000ms;
  std::size_t done = 0;
  const auto results = net::detail::run_blocking(
      net::probe_nts(targets, o, 0, [&](std::size_t, const model::ntp_target&) { ++done; }));
  CHECK(done == 2);
  REQUIRE(results.size() == 2);
  REQUIRE(results[0].addresses.size() == 1);
  const auto& a = results[0].addresses[0];
  CHECK(a.label == "127.0.0.1:" + std::to_string(port));
  CHECK(a.error.cause == error_cause::nts_ke_unreachable);
  REQUIRE(a.nts.has_value());
  CHECK(a.nts->failed_step == model::nts_step::connect);
  CHECK_FALSE(results[0].ok());
  CHECK(results[1].error.kind == model::error_kind::resolve);
}
