#pragma once

// Conversations of chrony's command protocol as sans-I/O sessions (proto/session.hpp): one
// request with chronyc's resends and reply matching (cmdmon_query), and the walks chronyc
// makes over several requests: the sources (N_SOURCES, then SOURCE_DATA or another per-index
// command for each index) and the client log (CLIENT_ACCESSES_BY_INDEX3 pages).
//
// chronyc's rules (client.c submit_request/request_reply, 4.3 to 4.8), which cmdmon_query
// follows:
// - a datagram is this request's reply only if it has 28 bytes or more, our version (or is a
//   version >= 4 bad_packet_version reply), pkt_type 2, zero res1/res2, our command and our
//   sequence; anything else is ignored and the wait goes on, to the same deadline;
// - attempt n (0, 1, 2) waits initial_timeout × 2^n from its send, then the request is sent
//   again with attempt n + 1, at most max_retries times (1 s, 2 s, 4 s: 7 s in all);
// - a version 5 bad_packet_version reply makes it send the request again as version 5 (no
//   padding), with the same attempt number, once;
// - a reply shorter than its reply code needs, and a receive error, make it send again at
//   once (counted as a retry);
// - then a status other than success, access_allowed and access_denied ends it ("501 Not
//   authorised"), and so does a reply code that does not answer the command ("508 Bad reply
//   from daemon").
// Unlike chronyc, which draws a new random sequence for every attempt, a query keeps the one
// sequence its plan gives (candm.h: "attempt ... count up from zero for same sequence
// number"); a late reply to an earlier attempt is then accepted, as it answers the same
// request.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/proto/cmdmon.hpp"
#include "ntpkit/proto/cmdmon_reports.hpp"
#include "ntpkit/proto/session.hpp"

namespace ntpkit::proto {

/// How a query is retried; chronyc's defaults.
struct cmdmon_timing {
  /// Wait for the first attempt's reply; doubled for each resend (chronyc `timeout`, 1000 ms).
  std::chrono::milliseconds initial_timeout{1000};
  /// Resends after the first request (chronyc `retries`, 2). Capped at 16.
  unsigned max_retries = 2;
  /// Protocol version to start with (6; 5 for a chronyd older than 2.0).
  std::uint8_t version = cmdmon::protocol_version;
  /// Send again as version 5 when a version 5 chronyd answers bad_packet_version, as chronyc.
  bool version5_fallback = true;
};

/// One request.
struct cmdmon_plan {
  cmdmon::request request;
  /// Echoed by chronyd; give random bits (chronyc draws them with UTI_GetRandomBytes).
  std::uint32_t sequence = 0;
  cmdmon_timing timing;
};

/// How a query (or a walk) ended.
enum class cmdmon_outcome_kind : std::uint8_t {
  pending,          ///< not finished
  reply,            ///< a reply with a success status and a reply code that answers the command
  status_error,     ///< chronyd answered with another status (unauthorised, no such source, ...)
  bad_reply,        ///< the reply's code does not answer the command, or it is not decodable
  timeout,          ///< no reply to any attempt
  transport_error,  ///< the send failed, or receiving failed on the last attempt
};

/// "pending", "reply", "status_error", "bad_reply", "timeout", "transport_error".
NTPKIT_API std::string_view cmdmon_outcome_kind_name(cmdmon_outcome_kind k) noexcept;

/// What a query found.
struct cmdmon_outcome {
  cmdmon_outcome_kind kind = cmdmon_outcome_kind::pending;
  /// The reply: set for reply and status_error, and for bad_reply when it decoded.
  std::optional<cmdmon::reply> reply;
  /// bad_reply: why (errc::cmdmon_unexpected_reply, cmdmon_unknown_reply,
  /// cmdmon_unsupported_reply, cmdmon_bad_version, truncated); transport_error: the driver's.
  std::error_code error;
  /// Requests sent, resends and the version 5 resend included.
  std::uint32_t requests_sent = 0;
  /// The attempt number of the last request sent.
  std::uint16_t last_attempt = 0;
  /// The protocol version of the last request (5 after the fallback).
  std::uint8_t version = cmdmon::protocol_version;
  /// Datagrams not taken, by reason (ignore_reason values as indices).
  ignore_counts ignored;
};

/// One cmdmon request and its reply, as chronyc's submit_request() and request_reply() make
/// them. Drive it with next() / on_sent() / on_datagram() ... (session.hpp); it never sends
/// more than 1 + max_retries requests (+1 for the version 5 fallback) and never waits longer
/// than initial_timeout × (2^(max_retries + 1) − 1) after its first send (plus the repeated
/// attempt's wait after a version 5 fallback).
class cmdmon_query {
 public:
  /// errc::cmdmon_unsupported_command or cmdmon_bad_version (from encode_request) end the
  /// query at once as bad_reply.
  NTPKIT_API explicit cmdmon_query(const cmdmon_plan& plan);

  /// send_bytes (tag = attempt number), wait_until the current attempt's deadline, or
  /// finished. A send_bytes not yet confirmed by on_sent() counts as sent at `now`.
  NTPKIT_API session_action next(steady_time now);
  /// The send of attempt `m.tag` went out at `m.at`: its deadline starts there.
  NTPKIT_API void on_sent(const sent_meta& m);
  /// The send failed: finished with transport_error.
  NTPKIT_API void on_send_failed(std::error_code ec);
  /// A datagram arrived: the reply, or ignored by reason.
  NTPKIT_API void on_datagram(std::span<const std::uint8_t> bytes, const datagram_meta& m);
  /// Receiving failed (ICMP port unreachable, ...): sent again at once while retries remain,
  /// else finished with transport_error (chronyc's recv failure path).
  NTPKIT_API void on_transport_error(std::error_code ec);

  bool done() const noexcept { return outcome_.kind != cmdmon_outcome_kind::pending; }
  const cmdmon_outcome& outcome() const noexcept { return outcome_; }
  const cmdmon_plan& plan() const noexcept { return plan_; }

 private:
  void finish(cmdmon_outcome_kind k, std::error_code ec = {});
  void ignore(ignore_reason r) noexcept;
  void resend_now();
  void take_reply(std::span<const std::uint8_t> bytes, const cmdmon::reply_header& h);

  cmdmon_plan plan_;
  cmdmon_outcome outcome_;
  std::uint16_t attempt_ = 0;   // of the request to send or in flight
  bool send_due_ = true;        // next() must return send_bytes
  bool awaiting_sent_ = false;  // a send_bytes has not been confirmed
  steady_time deadline_{};
};

/// A walk over chronyd's sources: N_SOURCES, then `per_source` for index 0 .. n - 1 (chronyc
/// `sources`, `sourcestats`, `selectdata`).
struct cmdmon_sources_plan {
  /// source_data, sourcestats or select_data.
  cmdmon::command per_source = cmdmon::command::source_data;
  /// The sequence of the first request; each later request uses the next value (mod 2^32).
  std::uint32_t first_sequence = 0;
  /// Most per-source requests made; more sources leave the walk truncated.
  std::uint32_t max_sources = 256;
  cmdmon_timing timing;
};

/// What a sources walk found.
struct cmdmon_sources_outcome {
  /// reply when every request was answered; else the failing query's kind.
  cmdmon_outcome_kind kind = cmdmon_outcome_kind::pending;
  std::error_code error;                      ///< the failing query's error
  std::optional<cmdmon::reply> failed_reply;  ///< the failing query's reply, if any
  std::optional<std::uint32_t> n_sources;     ///< from N_SOURCES
  /// One body per index answered, in index order (source_data, sourcestats or select_data).
  std::vector<cmdmon::reply_body> sources;
  bool truncated = false;  ///< n_sources was above max_sources
  std::uint32_t requests_sent = 0;
  std::uint8_t version = cmdmon::protocol_version;
  ignore_counts ignored;
};

/// Runs N_SOURCES and one query per source (session.hpp); stops at the first query that does
/// not end in a reply. errc::cmdmon_unsupported_command (bad_reply) for a per_source command
/// other than source_data, sourcestats and select_data.
class cmdmon_sources_walk {
 public:
  NTPKIT_API explicit cmdmon_sources_walk(const cmdmon_sources_plan& plan);
  NTPKIT_API session_action next(steady_time now);
  NTPKIT_API void on_sent(const sent_meta& m);
  NTPKIT_API void on_send_failed(std::error_code ec);
  NTPKIT_API void on_datagram(std::span<const std::uint8_t> bytes, const datagram_meta& m);
  NTPKIT_API void on_transport_error(std::error_code ec);
  bool done() const noexcept { return outcome_.kind != cmdmon_outcome_kind::pending; }
  const cmdmon_sources_outcome& outcome() const noexcept { return outcome_; }

 private:
  void start(const cmdmon::request& r);
  void advance();
  cmdmon_sources_plan plan_;
  cmdmon_sources_outcome outcome_;
  std::optional<cmdmon_query> query_;
  std::uint32_t next_sequence_;
  std::uint32_t index_ = 0;
};

/// A walk over chronyd's client log (chronyc `clients`): CLIENT_ACCESSES_BY_INDEX3 pages from
/// first_index, following next_index, until a page has fewer than 8 clients or next_index
/// reaches n_indices (chronyc's rule), bounded by max_records and max_requests.
struct cmdmon_clients_plan {
  std::uint32_t first_index = 0;
  std::uint32_t min_hits = 0;  ///< chronyc -p
  /// Reset the counters of the reported clients (chronyc -r): changes chronyd's state, so
  /// only when asked for.
  bool reset = false;
  std::uint32_t first_sequence = 0;  ///< as in cmdmon_sources_plan
  std::size_t max_records = 65536;
  std::uint32_t max_requests = 8192;
  cmdmon_timing timing;
};

/// Why a clients walk stopped.
enum class cmdmon_clients_stop : std::uint8_t {
  pending,
  complete,      ///< chronyc's end: a short page, or next_index >= n_indices
  max_records,   ///< the records limit was reached first
  max_requests,  ///< the requests limit was reached first
  no_progress,   ///< chronyd's next_index did not advance (errc::cmdmon_no_progress)
  failed,        ///< a query did not end in a reply (see kind)
};

/// "pending", "complete", "max_records", "max_requests", "no_progress", "failed".
NTPKIT_API std::string_view cmdmon_clients_stop_name(cmdmon_clients_stop s) noexcept;

/// What a clients walk found.
struct cmdmon_clients_outcome {
  cmdmon_outcome_kind kind = cmdmon_outcome_kind::pending;  ///< as in cmdmon_sources_outcome
  cmdmon_clients_stop stop = cmdmon_clients_stop::pending;
  std::error_code error;
  std::optional<cmdmon::reply> failed_reply;
  /// The valid records with an address (chronyc skips family unspec; so do we).
  std::vector<cmdmon::client_access> clients;
  std::uint32_t skipped_unspec = 0;
  std::uint32_t n_indices = 0;   ///< from the last page
  std::uint32_t next_index = 0;  ///< where a continuation would start
  std::uint32_t requests_sent = 0;
  std::uint8_t version = cmdmon::protocol_version;
  ignore_counts ignored;
};

/// Pages through the client log (session.hpp).
class cmdmon_clients_walk {
 public:
  NTPKIT_API explicit cmdmon_clients_walk(const cmdmon_clients_plan& plan);
  NTPKIT_API session_action next(steady_time now);
  NTPKIT_API void on_sent(const sent_meta& m);
  NTPKIT_API void on_send_failed(std::error_code ec);
  NTPKIT_API void on_datagram(std::span<const std::uint8_t> bytes, const datagram_meta& m);
  NTPKIT_API void on_transport_error(std::error_code ec);
  bool done() const noexcept { return outcome_.stop != cmdmon_clients_stop::pending; }
  const cmdmon_clients_outcome& outcome() const noexcept { return outcome_; }

 private:
  void start();
  void advance();
  cmdmon_clients_plan plan_;
  cmdmon_clients_outcome outcome_;
  std::optional<cmdmon_query> query_;
  std::uint32_t next_sequence_;
  std::uint32_t requests_ = 0;
};

}  // namespace ntpkit::proto
