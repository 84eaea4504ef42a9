// net/control_client.hpp over loopback against a scripted mode 6 server thread: requests
// carry consecutive sequence numbers across request() calls, so that a late answer to the
// first request (which the server sends again, with its old sequence number, before it
// answers the second) is ignored as another request's and never mixed into the second.

#include "ntpkit/net/control_client.hpp"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <string>
#include <thread>
#include <vector>

#include "ntpkit/proto/control_vars.hpp"

using namespace ntpkit;
using namespace std::chrono_literals;

namespace {

// A UDP socket on 127.0.0.1 answering READVAR requests with "n=<sequence>": the first request
// once; each later one twice, first with the answer to the request before it (a late, stale
// repeat), then with its own.
struct scripted_server {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  std::uint16_t port = 0;
  std::vector<std::uint16_t> sequences;
  scripted_server() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t n = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
    port = ntohs(a.sin_port);
  }
  ~scripted_server() { ::close(fd); }

  static std::vector<std::uint8_t> answer(const proto::control_header& request,
                                          std::uint16_t sequence) {
    const std::string text = "n=" + std::to_string(sequence) + "\r\n";
    proto::control_header h = request;
    h.response = true;
    h.sequence = sequence;
    h.count = static_cast<std::uint16_t>(text.size());
    std::vector<std::uint8_t> out(proto::control_header_size + ((text.size() + 3) & ~3u));
    proto::write_control_header(h, out);
    std::copy(text.begin(), text.end(), out.begin() + proto::control_header_size);
    return out;
  }

  void serve(int requests) {
    for (int i = 0; i < requests; ++i) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 3000) != 1) return;
      std::uint8_t buf[600];
      sockaddr_in from{};
      socklen_t len = sizeof from;
      const auto n = ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      auto h = proto::parse_control_header(std::span<const std::uint8_t>(buf, static_cast<std::size_t>(n)));
      if (!h) return;
      sequences.push_back(h->sequence);
      auto send = [&](const std::vector<std::uint8_t>& d) {
        ::sendto(fd, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
      };
      if (sequences.size() > 1) send(answer(*h, sequences[sequences.size() - 2]));
      send(answer(*h, h->sequence));
    }
  }
};

}  // namespace

TEST_CASE("control_client numbers its requests and ignores a late answer to the one before") {
  scripted_server server;
  std::thread t([&] { server.serve(3); });
  boost::asio::io_context io;
  net::control_client_options o;
  o.timeout = 1000ms;
  o.fragment_timeout = 1000ms;
  o.first_sequence = 7;
  auto client = net::control_client::open(
      io.get_executor(), {boost::asio::ip::address_v4::loopback(), server.port}, o);
  REQUIRE(client);
  std::vector<proto::control_query_result> results;
  boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
    for (int i = 0; i < 3; ++i) results.push_back(co_await client->request(proto::control_opcode::read_variables, 0));
  }, [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
  io.run();
  t.join();
  REQUIRE(results.size() == 3);
  CHECK(server.sequences == std::vector<std::uint16_t>{7, 8, 9});
  for (std::size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    CHECK(results[i].outcome == proto::control_outcome::response);
    const auto vars = proto::parse_variables(std::span<const std::uint8_t>(results[i].response.data));
    REQUIRE(vars.size() == 1);
    CHECK(vars[0].second.raw() == std::to_string(7 + i));
    // The stale repeat of the answer before was seen and ignored as another request's.
    CHECK(results[i].ignored_for(proto::ignore_reason::sequence) == (i == 0 ? 0u : 1u));
  }
  CHECK(client->requests_sent() == 3);
}

TEST_CASE("control_client gives up on a silent server after its re-asks, bounded in time") {
  scripted_server silent;  // bound, never read
  boost::asio::io_context io;
  net::control_client_options o;
  o.timeout = 100ms;
  o.retries = 2;
  auto client = net::control_client::open(
      io.get_executor(), {boost::asio::ip::address_v4::loopback(), silent.port}, o);
  REQUIRE(client);
  proto::control_query_result r;
  const auto start = std::chrono::steady_clock::now();
  boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
    r = co_await client->request(proto::control_opcode::read_status, 0);
  }, [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
  io.run();
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(r.outcome == proto::control_outcome::timeout);
  CHECK(r.requests_sent == 3);
  CHECK(took >= 300ms);
  CHECK(took < 2000ms);
}
