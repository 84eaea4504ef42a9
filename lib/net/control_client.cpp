#include "ntpkit/net/control_client.hpp"

#include <utility>

#include "ntpkit/net/drive.hpp"

namespace ntpkit::net {

control_client::control_client(timestamping_socket sock, udp::endpoint server,
                               control_client_options o)
    : sock_(std::move(sock)),
      server_(std::move(server)),
      options_(std::move(o)),
      sequence_(options_.first_sequence == 0 ? 1 : options_.first_sequence) {}

result<control_client> control_client::open(const asio::any_io_executor& ex, udp::endpoint server,
                                            control_client_options options) {
  auto sock = timestamping_socket::open(ex, server.protocol());
  if (!sock) return sock.error();
  return control_client(std::move(*sock), std::move(server), std::move(options));
}

asio::awaitable<proto::control_query_result> control_client::request(
    proto::control_opcode opcode, std::uint16_t association_id, std::vector<std::uint8_t> data,
    proto::unknown_variable_policy on_unknown) {
  proto::control_query_options q;
  q.opcode = opcode;
  q.association_id = association_id;
  q.data = std::move(data);
  q.sequence = sequence_;
  q.timeout = options_.timeout;
  q.fragment_timeout = options_.fragment_timeout;
  q.retries = options_.retries;
  q.key = options_.key;
  q.digest = options_.digest;
  q.require_reply_mac = options_.require_reply_mac;
  q.on_unknown_variable = on_unknown;
  q.limits = options_.limits;
  proto::control_query session(std::move(q), std::chrono::steady_clock::now());
  co_await drive(session, sock_, server_);
  auto r = session.result();
  sent_ += r.requests_sent;
  // The next request takes the sequence number after the last one this one used; 0 is
  // skipped (ntpq never sends it, and a zeroed buffer would look like an answer to it).
  for (unsigned i = 0; i < (r.requests_sent == 0 ? 1u : r.requests_sent); ++i) {
    if (++sequence_ == 0) sequence_ = 1;
  }
  co_return r;
}

}  // namespace ntpkit::net
