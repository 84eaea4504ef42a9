#pragma once

// Network Time Security Key Establishment (RFC 8915 §4): the record codec, the client's
// request, the response's rules, the TLS exporter's context, and the exchange as a sans-I/O
// session over a byte stream (net/nts_ke_client.hpp runs it over TLS 1.3).
//
// An NTS-KE message is a sequence of records ending with End of Message (RFC 8915 §4):
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |C|         Record Type         |          Body Length          |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                                                               |
//  .                           Record Body                         .
//  |                                                               |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// C is the critical bit: a receiver that does not know a critical record's type must reject
// the message; an unknown record without it is skipped.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/proto/aead.hpp"
#include "ntpkit/proto/session.hpp"
#include "ntpkit/result.hpp"

namespace ntpkit::proto {

/// NTS-KE record types (RFC 8915 §4.1, IANA "Network Time Security Key Establishment Record
/// Types").
enum class nts_ke_record_type : std::uint16_t {
  end_of_message = 0,  ///< last record of a message; critical, empty body
  next_protocol = 1,   ///< Next Protocol Negotiation: 16-bit protocol ids; critical
  error = 2,           ///< a 16-bit error code; critical
  warning = 3,         ///< a 16-bit warning code; critical
  aead_algorithm = 4,  ///< AEAD Algorithm Negotiation: 16-bit AEAD ids
  new_cookie = 5,      ///< New Cookie for NTPv4: an opaque cookie
  server = 6,          ///< NTPv4 Server Negotiation: an ASCII host name or address
  port = 7,            ///< NTPv4 Port Negotiation: a 16-bit UDP port
};

/// The snake_case name of a record type ("end_of_message", "new_cookie", ...), or "" for a
/// type not in the enum.
NTPKIT_API std::string_view nts_ke_record_name(std::uint16_t type) noexcept;

/// Next Protocol id of NTPv4 (RFC 8915 §7.7).
inline constexpr std::uint16_t nts_next_protocol_ntpv4 = 0;
/// The NTS-KE TCP port (RFC 8915 §4).
inline constexpr std::uint16_t nts_ke_default_port = 4460;
/// The ALPN protocol id of NTS-KE (RFC 8915 §4).
inline constexpr std::string_view nts_ke_alpn = "ntske/1";
/// The TLS exporter label of NTS (RFC 8915 §5.1).
inline constexpr std::string_view nts_exporter_label = "EXPORTER-network-time-security";

/// Error record codes (RFC 8915 §4.1.3).
enum class nts_ke_error_code : std::uint16_t {
  unrecognized_critical_record = 0,
  bad_request = 1,
  internal_server_error = 2,
};

/// One NTS-KE record.
struct nts_ke_record {
  bool critical = false;
  std::uint16_t type = 0;  ///< 15 bits
  std::vector<std::uint8_t> body;
  friend bool operator==(const nts_ke_record&, const nts_ke_record&) = default;
};

/// Appends the wire form of `r` to `out`: 4 header bytes and the body. The type is taken
/// modulo 2^15 and the body must be at most 65535 bytes (asserted).
NTPKIT_API void append_nts_ke_record(std::vector<std::uint8_t>& out, const nts_ke_record& r);

/// A record whose body is the 16-bit values `values`, big-endian.
NTPKIT_API nts_ke_record make_nts_ke_u16_record(bool critical, nts_ke_record_type type,
                                                std::span<const std::uint16_t> values);

/// The client's request (RFC 8915 §4.1.1): Next Protocol [NTPv4] (critical), AEAD Algorithm
/// Negotiation with `offered` in preference order (critical), End of Message.
NTPKIT_API std::vector<std::uint8_t> make_nts_ke_request(std::span<const aead_algorithm> offered);

/// Bounds of a decoder, in bytes.
struct nts_ke_limits {
  /// Longest record body accepted. Cookies, the longest record in practice, are about 100
  /// bytes (chrony, NTPsec, ntpd-rs); a server name at most 255.
  std::size_t max_record_body = 1024;
  /// Longest message accepted, End of Message included (chrony's limit too).
  std::size_t max_message = 16384;
};

/// Splits a byte stream into records (sans-I/O, STYLE §2): feed() what arrived, then call
/// next() until it says that more bytes are needed. After End of Message nothing more may come.
class NTPKIT_API nts_ke_decoder {
 public:
  explicit nts_ke_decoder(nts_ke_limits limits = {}) : limits_(limits) {}

  /// Appends bytes as they came off the stream. Errors (also returned by every later next()):
  /// errc::nts_ke_message_too_long (more than max_message bytes in all),
  /// errc::nts_ke_record_after_end (bytes after End of Message).
  result<void> feed(std::span<const std::uint8_t> bytes);

  /// The next complete record, or nullopt when more bytes are needed (or End of Message has
  /// been returned). Errors: errc::nts_ke_record_too_long (a body length over
  /// max_record_body, known from the header alone), and those of feed().
  result<std::optional<nts_ke_record>> next();

  /// The stream ended: ok when End of Message was decoded and nothing followed. Errors:
  /// errc::truncated (it ended inside a record), errc::nts_ke_missing_end_of_message (between
  /// records), and any error already reported.
  result<void> finish() const;

  /// True once End of Message was returned by next().
  bool complete() const noexcept { return ended_; }
  /// Bytes fed so far.
  std::size_t bytes_fed() const noexcept { return fed_; }
  /// The error feed() or next() reported, if any.
  std::error_code error() const noexcept { return error_; }

 private:
  nts_ke_limits limits_;
  std::vector<std::uint8_t> buffer_;  // bytes fed; those before start_ are returned records
  std::size_t start_ = 0;
  std::size_t fed_ = 0;
  bool ended_ = false;
  std::error_code error_;
};

/// What a server's response said, record by record (RFC 8915 §4.1).
struct nts_ke_response {
  std::vector<nts_ke_record> records;  ///< every record as received, End of Message included
  /// Next Protocol Negotiation: the list as sent (a server names exactly one; an empty list
  /// means it supports none of ours).
  std::optional<std::vector<std::uint16_t>> next_protocols;
  /// AEAD Algorithm Negotiation: the list as sent (one id, or empty for none in common).
  std::optional<std::vector<std::uint16_t>> aead_ids;
  std::vector<std::vector<std::uint8_t>> cookies;  ///< New Cookie bodies, in order
  std::optional<std::string> server;               ///< NTPv4 Server Negotiation: where to send NTP
  std::optional<std::uint16_t> port;               ///< NTPv4 Port Negotiation: the UDP port for NTP
  std::vector<std::uint16_t> errors;               ///< Error record codes
  std::vector<std::uint16_t> warnings;             ///< Warning record codes

  /// The negotiated protocol: the Next Protocol list's only id.
  std::optional<std::uint16_t> next_protocol() const noexcept {
    if (!next_protocols || next_protocols->size() != 1) return std::nullopt;
    return next_protocols->front();
  }
  /// The negotiated AEAD id, raw: the AEAD list's only id.
  std::optional<std::uint16_t> aead_id() const noexcept {
    if (!aead_ids || aead_ids->size() != 1) return std::nullopt;
    return aead_ids->front();
  }
  /// The negotiated algorithm when its id is one this library implements.
  std::optional<aead_algorithm> aead() const noexcept {
    const auto id = aead_id();
    return id ? find_aead(*id) : std::nullopt;
  }
};

/// Takes one record of a response into `r` (kept in r.records, its value in its member).
/// Errors, for records that end the exchange at once: errc::nts_ke_unknown_critical_record,
/// errc::nts_ke_bad_record (End of Message with a body, an odd or empty-where-one-is-needed
/// list length, an Error or Warning or Port body that is not 2 bytes, a server name that is
/// empty or not printable ASCII without spaces, a Next Protocol without the critical bit),
/// errc::nts_ke_duplicate_record (a second Next Protocol, AEAD, Server or Port record).
NTPKIT_API result<void> take_nts_ke_record(nts_ke_response& r, const nts_ke_record& record);

/// Judges a complete response against what we offered, in this order: errc::nts_ke_error_record,
/// errc::nts_ke_warning_record (no warning codes are defined; like chrony and ntpd-rs, any
/// warning stops us), errc::nts_ke_no_next_protocol, errc::nts_ke_next_protocol_not_offered,
/// errc::nts_ke_no_common_aead, errc::nts_ke_aead_not_offered, errc::nts_ke_no_cookies.
NTPKIT_API result<void> check_nts_ke_response(const nts_ke_response& r,
                                              std::span<const aead_algorithm> offered);

/// Which key an exporter context derives.
enum class nts_key_direction : std::uint8_t {
  c2s = 0,  ///< client to server: requests are sealed with it
  s2c = 1,  ///< server to client: responses are sealed with it
};

/// The TLS exporter context of RFC 8915 §5.1: the Protocol ID (0x0000 for NTPv4), then the
/// AEAD's numeric identifier, both big-endian, then 0x00 for the C2S key or 0x01 for S2C.
NTPKIT_API std::array<std::uint8_t, 5> nts_exporter_context(std::uint16_t next_protocol,
                                                            std::uint16_t aead_id,
                                                            nts_key_direction direction) noexcept;

/// How to run one NTS-KE exchange.
struct nts_ke_plan {
  /// AEAD algorithms to offer, in preference order (at least one).
  std::vector<aead_algorithm> aead_algorithms{aead_algorithm::aes_siv_cmac_256};
  /// From the request's send to the response's End of Message.
  std::chrono::milliseconds timeout{5000};
  nts_ke_limits limits;
};

/// How an exchange ended.
enum class nts_ke_end : std::uint8_t {
  running,           ///< not finished yet
  completed,         ///< a response that passed check_nts_ke_response
  rejected,          ///< a well-formed response that fails it (`error` says how)
  malformed,         ///< bytes that are no valid message (`error`, a decoder or record error)
  closed_early,      ///< the stream ended before End of Message (`error`)
  timed_out,         ///< no End of Message within the plan's timeout
  send_failed,       ///< the request could not be written (`error`)
  transport_failed,  ///< the stream failed while reading (`error`)
};

/// The snake_case name of an end ("completed", "closed_early", ...).
NTPKIT_API std::string_view nts_ke_end_name(nts_ke_end e) noexcept;

/// What an exchange found.
struct nts_ke_outcome {
  nts_ke_response response;  ///< what was received, as far as it went
  nts_ke_end end = nts_ke_end::running;
  std::error_code error;
  std::size_t bytes_sent = 0;
  std::size_t bytes_received = 0;
};

/// The NTS-KE exchange over an established byte stream (session.hpp's contract for streams):
/// next() hands out the request once, then waits until the response's End of Message, the
/// deadline, or the stream's end. Received bytes come in on_bytes() in whatever chunks the
/// stream delivers; records are taken as they complete, so an unknown critical record ends
/// the exchange before the rest arrives.
class NTPKIT_API nts_ke_session {
 public:
  explicit nts_ke_session(nts_ke_plan plan);

  /// send_bytes (the request), then wait_until, then finished.
  session_action next(steady_time now);
  /// The request went out; the deadline runs from `m.at`.
  void on_sent(const sent_meta& m);
  /// The request could not be written: the exchange ends.
  void on_send_failed(std::error_code ec);
  /// Bytes read from the stream.
  void on_bytes(std::span<const std::uint8_t> bytes);
  /// The peer closed the stream (a TLS close_notify or EOF).
  void on_end_of_stream();
  /// The stream failed: the exchange ends.
  void on_transport_error(std::error_code ec);

  const nts_ke_outcome& outcome() const noexcept { return out_; }
  nts_ke_outcome take_outcome() { return std::move(out_); }
  bool done() const noexcept { return out_.end != nts_ke_end::running; }
  const nts_ke_plan& plan() const noexcept { return plan_; }

 private:
  void finish(nts_ke_end end, std::error_code ec = {});
  void drain();

  nts_ke_plan plan_;
  nts_ke_decoder decoder_;
  nts_ke_outcome out_;
  bool request_made_ = false;
  bool sent_ = false;
  steady_time deadline_{};
};

}  // namespace ntpkit::proto
