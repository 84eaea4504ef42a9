#pragma once

// NTS (RFC 8915) on the network: the NTS-KE client (TCP, TLS 1.3 with ALPN "ntske/1" through
// libssl, which is loaded on first use; the records in proto/nts_ke.hpp; the C2S and S2C keys
// from the TLS exporter) and the NTS-protected NTP exchange that follows, run by drive() over
// the timestamping socket with the NTP server and port the key exchange handed out.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/model/ntp.hpp"
#include "ntpkit/model/nts.hpp"
#include "ntpkit/net/ntp_client.hpp"
#include "ntpkit/net/pacer.hpp"
#include "ntpkit/net/resolve.hpp"
#include "ntpkit/proto/ntp_query.hpp"
#include "ntpkit/proto/nts_ke.hpp"

namespace ntpkit::net {

using tcp = asio::ip::tcp;

/// How to run NTS-KE with one server.
struct nts_ke_options {
  /// The name the certificate must be for, also sent as SNI (--nts-server-name); empty: the
  /// target's host as given (a literal address is checked against IP subjectAltNames and sent
  /// without SNI).
  std::string server_name;
  /// PEM file of trusted CA certificates (--ca-file); empty: the system store.
  std::string ca_file;
  std::chrono::milliseconds connect_timeout{3000};    ///< TCP connect
  std::chrono::milliseconds handshake_timeout{3000};  ///< TLS handshake, from connect
  /// AEAD algorithms offered, the wait for End of Message after the request, size limits.
  proto::nts_ke_plan exchange;
};

/// What one NTS-KE session established.
struct nts_ke_result {
  model::nts_info info;     ///< TLS facts, certificate, records, negotiated values, times
  model::error_info error;  ///< kind tls or nts (or network) when it failed; info.failed_step
  /// The AEAD, C2S and S2C keys and the cookies, for proto::ntp_query_plan::nts; set exactly
  /// when `error` is empty.
  std::optional<proto::nts_plan> plan;
};

/// One NTS-KE session with `server`: connect, the TLS 1.3 handshake (ALPN ntske/1, the
/// certificate checked against options.server_name or else `host`), the request and response
/// (proto::nts_ke_session), and the keys exported with RFC 8915 §5.1's label and context. Every
/// step is bounded in time. Never throws for network outcomes; typed errors (model::error_cause):
/// nts_ke_unreachable, nts_ke_timeout (detail: the step), tls_unavailable, ca_file_unreadable,
/// tls_handshake_failed, alpn_refused, certificate_untrusted, certificate_expired,
/// certificate_not_yet_valid, certificate_wrong_name, nts_ke_error_record,
/// nts_ke_warning_record, nts_ke_bad_next_protocol, nts_ke_no_common_aead,
/// nts_ke_aead_not_offered, nts_ke_no_cookies, nts_ke_malformed, nts_ke_closed,
/// nts_keys_failed.
NTPKIT_API asio::awaitable<nts_ke_result> key_exchange(tcp::endpoint server, std::string host,
                                                       const nts_ke_options& options);

/// How to run NTS for one target.
struct nts_query_options {
  nts_ke_options ke;
  /// Samples, timeout, retries, interval, interleaved mode; its key must be empty (NTS and
  /// symmetric keys exclude each other).
  query_options ntp;
  /// Families for resolving an NTP server name the key exchange hands out.
  family address_family = family::any;
};

/// NTS with one NTS-KE address: key_exchange(), then an NTS-protected ntp_query with the NTP
/// server it handed out (RFC 8915 §4.1.7: else the NTS-KE server's own address) on the port it
/// handed out (§4.1.8: else 123). The result is located at `ke_server` (address, port 4460 or
/// --nts-port); `nts` holds the key exchange and where NTP went (ntp_address, ntp_port_used);
/// the samples say which answers were NTS-authenticated. Errors: those of key_exchange();
/// nts_server_unresolved; then the NTP ones (timeout, unreachable, kiss, sanity) and NTS's
/// (nts_nak, nts_bad_authenticator, nts_unique_id_mismatch, nts_unauthenticated,
/// nts_no_cookies_left), with nts->failed_step saying where.
NTPKIT_API asio::awaitable<model::ntp_address> query_nts(tcp::endpoint ke_server, std::string host,
                                                         const nts_query_options& options,
                                                         pacer& pace);

/// query_nts() on an io_context of its own.
NTPKIT_API model::ntp_address query_nts_blocking(tcp::endpoint ke_server, std::string host,
                                                 const nts_query_options& options);

/// Resolves every target (its port is the NTS-KE port) and runs query_nts() on each address,
/// with fan_out()'s bounded concurrency; on_done as probe()'s. The result keeps the order of
/// `targets`.
NTPKIT_API asio::awaitable<std::vector<model::ntp_target>> probe_nts(std::vector<target> targets,
                                                                     nts_query_options options,
                                                                     std::size_t concurrency = 0,
                                                                     target_done on_done = {});

}  // namespace ntpkit::net
