#pragma once

// The mode 6 client (RFC 9327, ntpq's protocol): proto::control_query sessions driven over one
// UDP socket to one server through drive(), one request after the other, each with the next
// sequence number, so that a late fragment of an earlier answer is never mixed into a later
// one. Every request is bounded in count and time by its control_query (at most 1 + retries
// sends, each followed by a bounded wait).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/net/timestamping_socket.hpp"
#include "ntpkit/proto/control_query.hpp"
#include "ntpkit/result.hpp"

namespace ntpkit::net {

/// How every request of a control_client is made.
struct control_client_options {
  std::chrono::milliseconds timeout{5000};           ///< wait for the first fragment
  std::chrono::milliseconds fragment_timeout{3000};  ///< wait after each accepted fragment
  unsigned retries = 1;  ///< re-asks after a timeout or an incomplete answer (ntpq: 1)
  std::optional<proto::symmetric_key> key;  ///< sign requests, verify reply MACs
  proto::digest_length digest = proto::digest_length::truncate_20;
  bool require_reply_mac = false;    ///< with a key: ignore unsigned fragments
  std::uint16_t first_sequence = 1;  ///< sequence number of the first request
  proto::control_limits limits;
};

/// A mode 6 conversation with one server over a socket of its own.
class NTPKIT_API control_client {
 public:
  /// Opens the socket for `server`'s family. Errors: those of timestamping_socket::open.
  static result<control_client> open(const asio::any_io_executor& ex, udp::endpoint server,
                                     control_client_options options);

  /// One request and its answer (proto::control_query): opcode, association and data (a
  /// READVAR name list from proto::build_variable_request, or empty). Never throws for
  /// network outcomes; the outcome says how it ended.
  asio::awaitable<proto::control_query_result> request(
      proto::control_opcode opcode, std::uint16_t association_id,
      std::vector<std::uint8_t> data = {},
      proto::unknown_variable_policy on_unknown = proto::unknown_variable_policy::fail);

  /// The server asked.
  const udp::endpoint& server() const noexcept { return server_; }
  /// True when requests are signed (a key was given).
  bool signs() const noexcept { return options_.key.has_value(); }
  /// Requests sent so far (re-asks included).
  unsigned requests_sent() const noexcept { return sent_; }

 private:
  control_client(timestamping_socket sock, udp::endpoint server, control_client_options o);

  timestamping_socket sock_;
  udp::endpoint server_;
  control_client_options options_;
  std::uint16_t sequence_;
  unsigned sent_ = 0;
};

}  // namespace ntpkit::net
