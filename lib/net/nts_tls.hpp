#pragma once

// The NTS-KE client's TLS 1.3 (RFC 8915 §4: TLS 1.3 only, ALPN "ntske/1") through the libssl
// table of proto/crypto.hpp, over an Asio TCP socket that this code waits on with async_wait:
// libssl reads and writes the non-blocking descriptor itself and says when it would block.
// Asio's ssl::stream is not used: it would link libssl and libcrypto into every program
// (docs/architecture.md "Where OpenSSL is loaded"). Internal to the net layer.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ntpkit/model/nts.hpp"
#include "ntpkit/model/run.hpp"
#include "ntpkit/result.hpp"

struct ssl_st;
struct ssl_ctx_st;

namespace ntpkit::net::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using steady_time = std::chrono::steady_clock::time_point;

/// One TLS client connection on a connected TCP socket.
class tls_client {
 public:
  tls_client() = default;
  tls_client(const tls_client&) = delete;
  tls_client& operator=(const tls_client&) = delete;
  ~tls_client();

  /// Prepares the connection on `sock` (made non-blocking): TLS 1.3 only, ALPN ntske/1, the
  /// certificate to be checked against `name` (an IP address is checked as one and not sent
  /// as SNI; a host name is both), trusted CAs from `ca_file` or the system store. Errors:
  /// tls_unavailable, tls_handshake_failed (the CA file cannot be read: `detail`).
  model::error_info setup(tcp::socket& sock, const std::string& name, const std::string& ca_file);

  /// Runs the handshake until `deadline`, then checks ALPN and the certificate; fills facts()
  /// as far as it got. Errors: nts_ke_timeout (detail "tls_handshake"), tls_handshake_failed,
  /// alpn_refused, certificate_untrusted, certificate_expired, certificate_not_yet_valid,
  /// certificate_wrong_name; the step is facts-visible through the error's cause.
  asio::awaitable<model::error_info> handshake(tcp::socket& sock, steady_time deadline,
                                               std::chrono::milliseconds timeout);

  /// Writes all of `bytes` before `deadline`. Errors: std::errc::timed_out, the socket's or
  /// std::errc::io_error for a TLS failure.
  asio::awaitable<result<void>> write(tcp::socket& sock, std::span<const std::uint8_t> bytes,
                                      steady_time deadline);

  /// Reads what is there (waiting until `deadline` for something); 0 at the end of the stream
  /// (close_notify, or the peer closed the TCP connection). Errors as write().
  asio::awaitable<result<std::size_t>> read(tcp::socket& sock, std::span<std::uint8_t> buffer,
                                            steady_time deadline);

  /// RFC 5705 keying material: `length` bytes for `label` and `context`. Errors:
  /// std::errc::io_error.
  result<std::vector<std::uint8_t>> export_key(std::string_view label,
                                               std::span<const std::uint8_t> context,
                                               std::size_t length);

  /// Sends close_notify if it can without waiting.
  void close() noexcept;

  /// TLS version, cipher, ALPN, the certificate and its verification result, as far as known.
  const model::nts_info& facts() const noexcept { return facts_; }

 private:
  void record_session_facts();
  model::error_info check_peer();

  ssl_ctx_st* ctx_ = nullptr;
  ssl_st* ssl_ = nullptr;
  std::string name_;
  model::nts_info facts_;  // only the TLS members are used
};

}  // namespace ntpkit::net::detail
