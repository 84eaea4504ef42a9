#pragma once

// A Unix datagram socket for talking to a local daemon (chronyd's command socket), with the
// send/receive interface drive() takes (drive.hpp). A datagram reply needs an address to go
// to, so the socket binds a path of its own next to the server's socket, as chronyc does
// (chronyc.PID.sock in the server socket's directory), readable and writable by all so that a
// daemon that dropped root can answer; the path is removed when the socket closes.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/local/datagram_protocol.hpp>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>

#include "ntpkit/export.hpp"
#include "ntpkit/net/timestamping_socket.hpp"
#include "ntpkit/proto/session.hpp"
#include "ntpkit/proto/timestamp.hpp"
#include "ntpkit/result.hpp"

namespace ntpkit::net {

namespace local = asio::local;

/// A datagram received on a unix_datagram_socket.
struct local_datagram {
  std::size_t size = 0;
  bool truncated = false;
  local::datagram_protocol::endpoint from;
  proto::sys_nanoseconds time;  ///< the system clock right after the read
  proto::time_source source = proto::time_source::user;
};

/// A bound Unix datagram socket for requests to one server socket.
class NTPKIT_API unix_datagram_socket {
 public:
  using endpoint_type = local::datagram_protocol::endpoint;

  /// Opens a socket and binds it to `ntpkit.PID.N.sock` in the directory of `server_path`.
  /// Errors: std::errc::filename_too_long for a path that does not fit sun_path; those of
  /// socket(2) and bind(2) (permission_denied when the directory is not writable: chronyd's
  /// /run/chrony is root's and _chrony's only).
  static result<unix_datagram_socket> open(const asio::any_io_executor& ex,
                                           const std::string& server_path);

  unix_datagram_socket(unix_datagram_socket&&) noexcept;
  unix_datagram_socket& operator=(unix_datagram_socket&&) noexcept;
  ~unix_datagram_socket();

  /// Sends `bytes` to `to`. Errors: no_such_file_or_directory (no socket there),
  /// connection_refused (a socket file nobody listens on), permission_denied, others.
  result<sent_datagram> send(std::span<const std::uint8_t> bytes, const endpoint_type& to);
  /// Waits for the next datagram until `deadline`; std::errc::timed_out when none came.
  asio::awaitable<result<local_datagram>> receive(
      std::span<std::uint8_t> buffer, std::chrono::steady_clock::time_point deadline);

  /// The path this socket is bound to.
  const std::string& path() const noexcept { return path_; }

 private:
  unix_datagram_socket(local::datagram_protocol::socket s, std::string path);
  void close() noexcept;

  local::datagram_protocol::socket socket_;
  std::string path_;
  std::uint32_t next_id_ = 0;
};

}  // namespace ntpkit::net
