#pragma once

// NTS (RFC 8915) in ntpprobe's payload: what the NTS-KE handshake and exchange established
// (TLS version and cipher, the server certificate, the negotiated AEAD, the NTP server and port
// handed out, the cookies) and what the NTS NTP exchange did with the cookies, plus the step
// at which an NTS check failed. Facts only; report/describe.cpp has the words.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/model/run.hpp"
#include "ntpkit/proto/aead.hpp"
#include "ntpkit/proto/nts_ke.hpp"

namespace ntpkit::model {

/// The server certificate as the TLS handshake presented it (also when it did not verify).
struct certificate_info {
  std::string subject;  ///< distinguished name in RFC 2253 form, "CN=ntp.example.org"
  std::string issuer;   ///< likewise
  std::chrono::sys_seconds not_before{};
  std::chrono::sys_seconds not_after{};
  std::string sha256;  ///< SHA-256 fingerprint of the DER certificate, lowercase hex
  friend bool operator==(const certificate_info&, const certificate_info&) = default;
};

/// The step of an NTS check, in the order they run; the one that failed is named in
/// nts_info::failed_step.
enum class nts_step : std::uint8_t {
  none,           ///< nothing failed
  connect,        ///< TCP connection to the NTS-KE port
  tls_handshake,  ///< TLS 1.3 with ALPN ntske/1
  certificate,    ///< the server certificate: trust, validity, name
  key_exchange,   ///< the NTS-KE records
  ntp_resolve,    ///< resolving the NTP server the KE server handed out
  ntp,            ///< the NTS-protected NTP exchange
};

/// "connect", "tls_handshake", "certificate", "key_exchange", "ntp_resolve", "ntp"; "" for none.
NTPKIT_API std::string_view nts_step_name(nts_step s) noexcept;

/// What NTS did for one address: the NTS-KE session and the cookies of the NTP exchange.
struct nts_info {
  // NTS-KE over TLS.
  std::string ke_address;  ///< numeric address of the NTS-KE server
  std::uint16_t ke_port = 0;
  std::string server_name;  ///< the name the certificate was checked against (SNI if a name)
  std::string tls_version;  ///< "TLSv1.3"
  std::string tls_cipher;   ///< "TLS_AES_256_GCM_SHA384"
  std::string alpn;         ///< the protocol the server selected, "ntske/1"
  std::optional<certificate_info> certificate;
  /// Certificate verification result: OpenSSL's X509_V_* code, 0 when it verified.
  long verify_result = 0;
  /// When the handshake ended (system clock), and what was left then of the certificate's
  /// validity: notAfter minus that time, negative once it has expired.
  std::chrono::sys_seconds handshake_at{};
  std::optional<std::chrono::seconds> certificate_remaining;
  std::vector<proto::nts_ke_record> records;   ///< the response, every record as received
  std::optional<std::uint16_t> next_protocol;  ///< negotiated (0 = NTPv4)
  std::optional<std::uint16_t> aead_id;        ///< negotiated, raw
  std::optional<proto::aead_algorithm> aead;   ///< negotiated, when implemented
  std::optional<std::string> ntp_server;       ///< NTPv4 Server Negotiation, when sent
  std::optional<std::uint16_t> ntp_port;       ///< NTPv4 Port Negotiation, when sent
  std::vector<std::uint16_t> errors;           ///< Error record codes
  std::vector<std::uint16_t> warnings;         ///< Warning record codes
  std::vector<std::size_t> cookie_sizes;       ///< each NTS-KE cookie's length in bytes
  std::size_t ke_bytes_sent = 0;               ///< NTS-KE request bytes (inside TLS)
  std::size_t ke_bytes_received = 0;           ///< NTS-KE response bytes (inside TLS)
  std::chrono::nanoseconds connect_time{};     ///< TCP connect
  std::chrono::nanoseconds handshake_time{};   ///< TLS handshake, after connect
  std::chrono::nanoseconds exchange_time{};    ///< NTS-KE request to End of Message
  std::chrono::nanoseconds ke_time{};          ///< all three
  // The NTP exchange that followed.
  std::string ntp_address;  ///< numeric address queried (the handed-out server's, resolved)
  std::uint16_t ntp_port_used = 0;
  std::uint32_t cookies_sent = 0;  ///< one per NTP request
  std::uint32_t placeholders_sent = 0;
  std::uint32_t cookies_received = 0;       ///< new cookies in authenticated answers
  std::size_t cookies_left = 0;             ///< unused when the exchange ended
  std::uint32_t authenticated_samples = 0;  ///< answers whose authenticator verified
  bool nak = false;                         ///< the server sent an NTS NAK
  nts_step failed_step = nts_step::none;

  /// Cookies NTS-KE handed out.
  std::size_t cookies() const noexcept { return cookie_sizes.size(); }
};

/// The error an NTS-KE exchange's outcome stands for (none when it completed): a server's
/// Error or Warning record with its code, no NTPv4, no common AEAD, an AEAD we did not offer,
/// no cookies, a malformed or cut-short response, a timeout after `timeout`, a stream error.
NTPKIT_API error_info nts_ke_error(const proto::nts_ke_outcome& o,
                                   std::chrono::milliseconds timeout);

/// Fills the NTS-KE part of `info` from a completed or failed exchange: records, negotiated
/// protocol and AEAD, server, port, errors, warnings, cookie sizes and byte counts.
NTPKIT_API void take_nts_ke_outcome(nts_info& info, const proto::nts_ke_outcome& o);

}  // namespace ntpkit::model
