#include "ntpkit/net/cmdmon_client.hpp"

#include <utility>
#include <variant>

#include "ntpkit/net/drive.hpp"
#include "ntpkit/net/timestamping_socket.hpp"
#include "ntpkit/net/unix_datagram_socket.hpp"

namespace ntpkit::net {

struct cmdmon_client::link {
  struct over_udp {
    timestamping_socket sock;
    udp::endpoint server;
  };
  struct over_unix {
    unix_datagram_socket sock;
    unix_datagram_socket::endpoint_type server;
    std::string path;
  };
  std::variant<over_udp, over_unix> way;
};

cmdmon_client::cmdmon_client(std::unique_ptr<link> l, proto::cmdmon_timing timing)
    : link_(std::move(l)),
      timing_(timing),
      // chronyc draws every sequence at random: a reply to another client's request (or to a
      // request of an earlier run of ours) never matches.
      sequence_(static_cast<std::uint32_t>(random_bits())) {}

cmdmon_client::cmdmon_client(cmdmon_client&&) noexcept = default;
cmdmon_client& cmdmon_client::operator=(cmdmon_client&&) noexcept = default;
cmdmon_client::~cmdmon_client() = default;

result<cmdmon_client> cmdmon_client::open_udp(const asio::any_io_executor& ex,
                                              udp::endpoint server,
                                              proto::cmdmon_timing timing) {
  auto sock = timestamping_socket::open(ex, server.protocol());
  if (!sock) return sock.error();
  auto l = std::make_unique<link>(
      link{link::over_udp{std::move(*sock), std::move(server)}});
  return cmdmon_client(std::move(l), timing);
}

result<cmdmon_client> cmdmon_client::open_unix(const asio::any_io_executor& ex,
                                               const std::string& socket_path,
                                               proto::cmdmon_timing timing) {
  auto sock = unix_datagram_socket::open(ex, socket_path);
  if (!sock) return sock.error();
  auto l = std::make_unique<link>(link{link::over_unix{
      std::move(*sock), unix_datagram_socket::endpoint_type(socket_path), socket_path}});
  return cmdmon_client(std::move(l), timing);
}

bool cmdmon_client::local() const noexcept {
  return std::holds_alternative<link::over_unix>(link_->way);
}

std::string cmdmon_client::where() const {
  if (const auto* u = std::get_if<link::over_unix>(&link_->way)) return u->path;
  const auto& e = std::get<link::over_udp>(link_->way).server;
  const auto a = e.address().to_string();
  const auto port = std::to_string(e.port());
  return e.address().is_v6() ? "[" + a + "]:" + port : a + ":" + port;
}

template <class Session>
asio::awaitable<void> cmdmon_client::run(Session& s) {
  if (auto* u = std::get_if<link::over_unix>(&link_->way)) {
    co_await drive(s, u->sock, u->server);
  } else {
    auto& d = std::get<link::over_udp>(link_->way);
    co_await drive(s, d.sock, d.server);
  }
  const auto& o = s.outcome();
  sent_ += o.requests_sent;
  sequence_ += o.requests_sent == 0 ? 1 : o.requests_sent;
  // Once chronyd has answered as version 5, later requests start as version 5.
  if (o.version == proto::cmdmon::protocol_version_5) timing_.version = o.version;
}

asio::awaitable<proto::cmdmon_outcome> cmdmon_client::query(const proto::cmdmon::request& r) {
  proto::cmdmon_plan plan{r, sequence_, timing_};
  proto::cmdmon_query s(plan);
  co_await run(s);
  co_return s.outcome();
}

asio::awaitable<proto::cmdmon_sources_outcome> cmdmon_client::sources(
    proto::cmdmon::command per_source, std::uint32_t max_sources) {
  proto::cmdmon_sources_plan plan;
  plan.per_source = per_source;
  plan.first_sequence = sequence_;
  plan.max_sources = max_sources;
  plan.timing = timing_;
  proto::cmdmon_sources_walk s(plan);
  co_await run(s);
  co_return s.outcome();
}

asio::awaitable<proto::cmdmon_clients_outcome> cmdmon_client::clients(
    proto::cmdmon_clients_plan plan) {
  plan.first_sequence = sequence_;
  plan.timing = timing_;
  proto::cmdmon_clients_walk s(plan);
  co_await run(s);
  co_return s.outcome();
}

}  // namespace ntpkit::net
