// net/cmdmon_client.hpp over a Unix datagram socket against a scripted chronyd thread: the
// reply socket is bound next to the server's socket (as chronyc binds its own), a stale reply
// with another sequence number is ignored, the real one (chronyd 4.3's tracking reply from
// proto/cmdmon_captured.hpp, its sequence set to ours) is taken, and the reply socket's path
// is gone once the client is. A socket path nobody listens on is a transport error, bounded.

#include "ntpkit/net/cmdmon_client.hpp"

#include <doctest/doctest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cstring>
#include <string>
#include <thread>

#include "ntpkit/proto/errc.hpp"
#include "proto/cmdmon_captured.hpp"
#include "support/test_support.hpp"

using namespace ntpkit;
namespace cap = ntpkit::test::cmdmon_captured;

namespace {

std::string temp_dir() {
  char dir[] = "/tmp/ntpkit-cmdmon-XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  return dir;
}

sockaddr_un unix_address(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  return a;
}

// Answers one request: first with the captured reply under another sequence number (to be
// ignored), then with it under the request's sequence number. Records where the request came
// from.
struct scripted_chronyd {
  std::string path;
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  std::string client_path;
  std::size_t request_length = 0;
  explicit scripted_chronyd(std::string p) : path(std::move(p)) {
    const auto a = unix_address(path);
    REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0);
  }
  ~scripted_chronyd() {
    ::close(fd);
    ::unlink(path.c_str());
  }
  void serve_one(std::vector<std::uint8_t> reply) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) return;
    std::uint8_t buf[1024];
    sockaddr_un from{};
    socklen_t from_len = sizeof from;
    const auto n = ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from),
                              &from_len);
    if (n < 20) return;
    request_length = static_cast<std::size_t>(n);
    client_path = from.sun_path;
    auto stale = reply;
    std::memcpy(stale.data() + 16, buf + 8, 4);
    stale[19] ^= 0xff;  // another sequence
    ::sendto(fd, stale.data(), stale.size(), 0, reinterpret_cast<sockaddr*>(&from), from_len);
    std::memcpy(reply.data() + 16, buf + 8, 4);  // the request's sequence
    ::sendto(fd, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), from_len);
  }
};

}  // namespace

TEST_CASE("cmdmon_client: tracking over a Unix socket, a stale reply ignored") {
  const auto dir = temp_dir();
  scripted_chronyd server(dir + "/chronyd.sock");
  std::vector<std::uint8_t> reply;
  for (const auto& d : cap::udp_tracking.datagrams) {
    if (d.from_server) reply = ntpkit::test::from_hex(d.hex);
  }
  REQUIRE(reply.size() == 104);
  std::thread t([&] { server.serve_one(reply); });
  boost::asio::io_context io;
  std::optional<proto::cmdmon_outcome> got;
  std::string bound;
  {
    proto::cmdmon_timing timing;
    timing.initial_timeout = std::chrono::milliseconds(2000);
    timing.max_retries = 0;
    auto c = net::cmdmon_client::open_unix(io.get_executor(), server.path, timing);
    REQUIRE(c.has_value());
    CHECK(c->local());
    CHECK(c->where() == server.path);
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          proto::cmdmon::request r;
          r.code = proto::cmdmon::command::tracking;
          got = co_await c->query(r);
        },
        boost::asio::detached);
    io.run();
    t.join();
    bound = server.client_path;
    struct stat st {};
    REQUIRE(::stat(bound.c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 0777) == 0666);  // a chronyd that dropped root can answer
  }
  REQUIRE(got.has_value());
  CHECK(got->kind == proto::cmdmon_outcome_kind::reply);
  CHECK(got->requests_sent == 1);
  CHECK(got->ignored.count(proto::ignore_reason::sequence) == 1);
  // Padded as chronyc pads it: as long as the reply.
  CHECK(server.request_length == proto::cmdmon::request_length(proto::cmdmon::command::tracking, 6));
  // next to the server's socket, as chronyc binds chronyc.PID.sock
  CHECK(bound.rfind(dir + "/ntpkit.", 0) == 0);
  const auto& tr = std::get<proto::cmdmon::tracking>(got->reply->body);
  CHECK(tr.stratum == 4);  // chronyc -c tracking printed 4
  CHECK(proto::cmdmon::to_string(tr.ip_addr) == "127.0.0.2");
  struct stat st {};
  CHECK(::stat(bound.c_str(), &st) != 0);  // removed with the client
  ::rmdir(dir.c_str());
}

TEST_CASE("cmdmon_client: no socket at the path is a transport error, at once") {
  const auto dir = temp_dir();
  boost::asio::io_context io;
  proto::cmdmon_timing timing;
  timing.initial_timeout = std::chrono::milliseconds(200);
  auto c = net::cmdmon_client::open_unix(io.get_executor(), dir + "/chronyd.sock", timing);
  REQUIRE(c.has_value());
  std::optional<proto::cmdmon_outcome> got;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        proto::cmdmon::request r;
        r.code = proto::cmdmon::command::tracking;
        got = co_await c->query(r);
      },
      boost::asio::detached);
  io.run();
  REQUIRE(got.has_value());
  CHECK(got->kind == proto::cmdmon_outcome_kind::transport_error);
  CHECK(got->error == std::errc::no_such_file_or_directory);
  CHECK(got->requests_sent == 1);
  c = proto::errc::truncated;  // closes the client (and removes its socket) before the rmdir
  CHECK(::rmdir(dir.c_str()) == 0);
}

TEST_CASE("cmdmon_client: a path that does not fit sun_path") {
  boost::asio::io_context io;
  auto c = net::cmdmon_client::open_unix(io.get_executor(), "/tmp/" + std::string(120, 'x'), {});
  REQUIRE_FALSE(c.has_value());
  CHECK(c.error() == std::errc::filename_too_long);
}
