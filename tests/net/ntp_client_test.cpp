// net/ntp_client.hpp against in-process servers on 127.0.0.1 (STYLE §7: fake servers for the
// answers a real server will not give): descriptors are not leaked, whatever the outcome, and
// every wait ends by its deadline even while datagrams keep arriving.

#include "ntpkit/net/ntp_client.hpp"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "ntpkit/proto/packet.hpp"

using namespace ntpkit;
using namespace std::chrono_literals;

namespace {

std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// A UDP socket on 127.0.0.1 with a kernel-chosen port.
struct loopback_socket {
  int fd = -1;
  std::uint16_t port = 0;
  loopback_socket() {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t size = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &size);
    port = ntohs(a.sin_port);
  }
  loopback_socket(const loopback_socket&) = delete;
  ~loopback_socket() { close(); }
  void close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

proto::timestamp now_ts() {
  return proto::from_sys_time(
      std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now()));
}

// Answers every request correctly; with `flood`, first sends datagrams with a foreign origin
// for that long (in batches, faster than a client can read them), and then the answer only
// when `answer` is set.
class fake_server {
 public:
  explicit fake_server(std::chrono::milliseconds flood = 0ms, bool answer = true)
      : flood_(flood), answer_(answer), thread_([this] { serve(); }) {}
  ~fake_server() {
    stop_ = true;
    thread_.join();
  }
  std::uint16_t port() const { return socket_.port; }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{socket_.fd, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      std::uint8_t buf[2048];
      sockaddr_in from{};
      socklen_t size = sizeof from;
      const auto n =
          ::recvfrom(socket_.fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &size);
      auto request = proto::parse_packet(std::span(buf, n > 0 ? std::size_t(n) : 0));
      if (!request) continue;
      proto::packet reply;
      reply.mode = proto::association_mode::server;
      reply.stratum = 2;
      reply.precision = -20;
      reply.refid = {192, 0, 2, 1};
      reply.receive = now_ts();
      reply.reference = proto::timestamp::from_bits(reply.receive.bits() - (16ull << 32));
      reply.transmit = now_ts();
      if (flood_ > 0ms) {
        reply.origin = proto::timestamp::from_bits(request->transmit.bits() + 1);
        flood(proto::serialize_packet(reply), from);
      }
      reply.origin = request->transmit;
      if (answer_) {
        const auto bytes = proto::serialize_packet(reply);
        ::sendto(socket_.fd, bytes.data(), bytes.size(), 0,
                 reinterpret_cast<const sockaddr*>(&from), sizeof from);
      }
    }
  }
  void flood(std::vector<std::uint8_t> junk, sockaddr_in to) {
    constexpr std::size_t batch = 64;
    iovec iov{junk.data(), junk.size()};
    std::vector<mmsghdr> msgs(batch);
    for (auto& m : msgs) {
      m.msg_hdr.msg_name = &to;
      m.msg_hdr.msg_namelen = sizeof to;
      m.msg_hdr.msg_iov = &iov;
      m.msg_hdr.msg_iovlen = 1;
    }
    const auto end = std::chrono::steady_clock::now() + flood_;
    for (int i = 0; i < 10'000'000 && !stop_ && std::chrono::steady_clock::now() < end; ++i) {
      ::sendmmsg(socket_.fd, msgs.data(), batch, 0);
    }
  }

  loopback_socket socket_;
  std::chrono::milliseconds flood_;
  bool answer_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

net::target loopback_target(std::uint16_t port) {
  return {"127.0.0.1:" + std::to_string(port), "127.0.0.1", port};
}

std::size_t count_errors(const std::vector<model::ntp_target>& r, model::error_kind kind) {
  std::size_t n = 0;
  for (const auto& t : r) {
    for (const auto& a : t.addresses) n += a.error.kind == kind ? 1 : 0;
  }
  return n;
}

}  // namespace

TEST_CASE("probe_blocking closes every socket it opens: answered, unreachable, timed out") {
  fake_server server;
  loopback_socket silent;  // bound, never read: requests to it time out
  std::uint16_t closed_port = 0;
  {
    loopback_socket gone;  // bound and closed: requests to it draw ICMP port unreachable
    closed_port = gone.port;
  }
  // Few requests to the closed port: the kernel answers port unreachable out of a global ICMP
  // budget (net.ipv4.icmp_msgs_burst, 50 by default, shared with every test running at the
  // same time), and a request it does not answer times out instead.
  std::vector<net::target> targets;
  for (int i = 0; i < 100; ++i) {
    targets.push_back(loopback_target(server.port()));
    if (i % 5 == 0) targets.push_back(loopback_target(closed_port));
    targets.push_back(loopback_target(silent.port));
  }
  net::probe_options options;
  options.query.timeout = 1s;  // long enough for a loaded machine or a sanitizer build
  options.query.interval = 0ms;  // the same address 100 times: no pacing in this test
  const auto before = open_descriptors();
  for (int run = 0; run < 2; ++run) {
    CAPTURE(run);
    const auto reports = net::probe_blocking(targets, options);
    CHECK(open_descriptors() == before);
    CHECK(count_errors(reports, model::error_kind::none) == 100);
    const auto unreachable = count_errors(reports, model::error_kind::unreachable);
    CHECK(unreachable > 0);
    CHECK(unreachable + count_errors(reports, model::error_kind::timeout) == 120);
  }
}

TEST_CASE("query ends by its deadline while junk keeps arriving") {
  // Foreign-origin replies for 3 s and no answer: the socket does not run dry before the
  // deadline, and the query must still end there, not when the flood stops.
  fake_server flood(3000ms, false);
  net::probe_options options;
  options.query.timeout = 300ms;
  const auto start = std::chrono::steady_clock::now();
  const auto reports = net::probe_blocking({loopback_target(flood.port())}, options);
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(took < 1500ms);
  REQUIRE(reports.at(0).addresses.size() == 1);
  const auto& a = reports[0].addresses[0];
  CHECK(a.error.kind == model::error_kind::timeout);
  CHECK(!a.ignored.empty());
}
