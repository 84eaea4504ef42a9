#pragma once

// chrony's command protocol client (what chronyc speaks): proto::cmdmon_query and the walks of
// cmdmon_query.hpp driven through drive() over UDP (chronyd's cmdport, 323) or chronyd's Unix
// command socket (/run/chrony/chronyd.sock), one request after the other, each with the next
// sequence number. Every request is bounded in count and time by its session (at most
// 1 + max_retries sends, +1 for the version 5 fallback, each followed by a bounded wait).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "ntpkit/export.hpp"
#include "ntpkit/proto/cmdmon_query.hpp"
#include "ntpkit/result.hpp"

namespace ntpkit::net {

namespace asio = boost::asio;

/// chronyd's default command socket (DEFAULT_COMMAND_SOCKET).
inline constexpr const char* default_chronyd_socket = "/run/chrony/chronyd.sock";

/// A conversation with one chronyd over a socket of its own.
class NTPKIT_API cmdmon_client {
 public:
  /// Over UDP to `server`. Errors: those of timestamping_socket::open.
  static result<cmdmon_client> open_udp(const asio::any_io_executor& ex,
                                        asio::ip::udp::endpoint server,
                                        proto::cmdmon_timing timing);
  /// Over chronyd's Unix socket `socket_path` (a reply socket is bound next to it). Errors:
  /// those of unix_datagram_socket::open.
  static result<cmdmon_client> open_unix(const asio::any_io_executor& ex,
                                         const std::string& socket_path,
                                         proto::cmdmon_timing timing);

  cmdmon_client(cmdmon_client&&) noexcept;
  cmdmon_client& operator=(cmdmon_client&&) noexcept;
  ~cmdmon_client();

  /// One request and its reply. Never throws for network outcomes.
  asio::awaitable<proto::cmdmon_outcome> query(const proto::cmdmon::request& r);
  /// N_SOURCES, then `per_source` (source_data, sourcestats, select_data) for each index.
  asio::awaitable<proto::cmdmon_sources_outcome> sources(proto::cmdmon::command per_source,
                                                         std::uint32_t max_sources = 256);
  /// The client log, page after page (first_sequence and timing are the client's own).
  asio::awaitable<proto::cmdmon_clients_outcome> clients(proto::cmdmon_clients_plan plan);

  /// True over the Unix socket.
  bool local() const noexcept;
  /// Where requests go: "127.0.0.1:323", "[::1]:323" or the socket's path.
  std::string where() const;
  /// Requests sent so far (resends included).
  std::uint32_t requests_sent() const noexcept { return sent_; }
  /// The protocol version the last reply came in (5 after chronyc's fallback).
  std::uint8_t version() const noexcept { return timing_.version; }

 private:
  struct link;
  cmdmon_client(std::unique_ptr<link> l, proto::cmdmon_timing timing);
  template <class Session>
  asio::awaitable<void> run(Session& s);

  std::unique_ptr<link> link_;
  proto::cmdmon_timing timing_;
  std::uint32_t sequence_;
  std::uint32_t sent_ = 0;
};

}  // namespace ntpkit::net
