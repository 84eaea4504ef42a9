#pragma once

// One mode 6 request and its answer as a sans-I/O session (session.hpp): READSTAT, READVAR,
// READCLOCK, READ_ORDLIST_A, ... with its sequence number, fragment reassembly
// (control_reassembler), bounded re-asks, optional MACs, and a typed outcome.
//
// What ntpq does, and what this session does:
// - ntpq (NTPsec pylib/packet.py doquery/getresponse; ntp.org ntpq.c doqueryex/getresponse)
//   waits DEFTIMEOUT (5 s) for the first fragment and DEFSTIMEOUT (3 s) after each later one.
//   On a timeout or an incomplete answer it sends the request once more and starts collecting
//   afresh; the fragments of the partial answer are thrown away. NTPsec's ntpq uses a new
//   sequence number for the second request; ntp.org's keeps it after a plain timeout and
//   bumps it after an incomplete answer "so we don't get confused about differing
//   fragments". A second failure is final.
// - control_query waits `timeout` for the first fragment and `fragment_timeout` after each
//   accepted one, re-asks at most `retries` times (default 1, as ntpq) and always with the
//   next sequence number, so that a late fragment of an earlier answer (whose values may
//   differ) is ignored as ignore_reason::sequence instead of being mixed in. Partial answers
//   are dropped, as ntpq drops them. Every wait is bounded: at most (1 + retries) requests,
//   each followed by at most timeout + max_fragments × fragment_timeout of waiting.
// - A server error (error bit) ends the query with outcome::server_error, without re-asking,
//   except UNKNOWNVAR for a list of several names when `on_unknown_variable` is ask_each: then
//   every name is asked alone, one request after the other (what ntpq's authinfo does:
//   "Unknown variable. Trying one at a time."), the answers are joined, and the names the
//   server does not know are listed in result().refused.
// - With a key, requests are signed (encode_control_request). Reply MACs are verified when
//   present (verify_control_mac); a fragment with a wrong MAC, another key id or a malformed
//   trailer is ignored (ignore_reason::mac, mac_key_id, mac_length) and never accepted. An
//   unsigned fragment is accepted unless `require_reply_mac` is set (then ignore_reason::
//   mac_missing); result().mac says whether every accepted fragment was verified.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/proto/control.hpp"
#include "ntpkit/proto/mac.hpp"
#include "ntpkit/proto/session.hpp"

namespace ntpkit::proto {

/// What to do when the server answers UNKNOWNVAR to a list of names.
enum class unknown_variable_policy : std::uint8_t {
  fail,      ///< end with outcome::server_error (control_error::unknown_variable)
  ask_each,  ///< ask each name alone and join the answers (READVAR, READCLOCK only)
};

/// One mode 6 request to make.
struct control_query_options {
  control_opcode opcode = control_opcode::read_variables;
  std::uint16_t association_id = 0;
  std::vector<std::uint8_t> data;  ///< request data (a name list: build_variable_request())
  std::uint16_t sequence = 1;      ///< of the first request; each later request uses the next
  std::chrono::milliseconds timeout{5000};           ///< for the first fragment (ntpq: 5 s)
  std::chrono::milliseconds fragment_timeout{3000};  ///< after each accepted fragment (3 s)
  unsigned retries = 1;              ///< re-asks after a timeout or an incomplete answer (ntpq: 1)
  std::optional<symmetric_key> key;  ///< sign requests, verify reply MACs
  digest_length digest = digest_length::truncate_20;  ///< see encode_control_request()
  bool require_reply_mac = false;                     ///< with a key: ignore unsigned fragments
  unknown_variable_policy on_unknown_variable = unknown_variable_policy::fail;
  control_limits limits;
  std::uint8_t version = control_default_version;
  leap_indicator leap = leap_indicator::none;
  /// Datagrams looked at per request; later ones are ignored as over_limit (a CPU bound: the
  /// waiting is bounded by time alone, which ignored datagrams never extend).
  std::size_t max_datagrams = 512;
};

/// How a query ended.
enum class control_outcome : std::uint8_t {
  response,         ///< a complete answer (result().response)
  server_error,     ///< the server answered with the error bit (response.error says which)
  timeout,          ///< nothing of an answer came to the last request (std::errc::timed_out)
  incomplete,       ///< part of an answer came (errc::missing_fragment, missing_last_fragment)
  bad_response,     ///< the answer broke the rules (errc::fragment_overlap, ..., see error)
  transport_error,  ///< the driver reported a send failure or a socket error
  bad_request,      ///< the request could not be made (errc::control_data_too_long, ...)
};

/// "response", "server_error", "timeout", "incomplete", "bad_response", "transport_error",
/// "bad_request".
NTPKIT_API std::string_view to_string(control_outcome o) noexcept;

/// Everything a query found out.
struct control_query_result {
  control_outcome outcome = control_outcome::timeout;
  control_response response;  ///< for response and server_error
  std::error_code error;      ///< why, for every outcome but response and server_error
  unsigned requests_sent = 0;
  /// Datagrams not taken, by reason (index: static_cast<std::size_t>(ignore_reason)).
  ignore_counts ignored;
  /// With a key: verified when every accepted fragment carried a valid MAC, else missing.
  control_mac_status mac = control_mac_status::missing;
  /// ask_each: names the server refused, with its error code.
  std::vector<std::pair<std::string, control_error>> refused;
  /// The number ignored for `r`.
  std::size_t ignored_for(ignore_reason r) const noexcept {
    return ignored.count(r);
  }
};

/// One mode 6 request and its answer (see the top of this header). Follows session.hpp.
class NTPKIT_API control_query {
 public:
  /// Prepares the first request; nothing is sent until next().
  control_query(control_query_options options, steady_time now);

  /// send_bytes (a request), wait_until (the current deadline) or finished.
  session_action next(steady_time now);
  /// A send_bytes went out at `meta.at`; the wait for its answer starts there.
  void on_sent(const sent_meta& meta);
  /// The request could not be sent: the query ends with outcome::transport_error.
  void on_send_failed(std::error_code ec);
  /// A datagram arrived.
  void on_datagram(std::span<const std::uint8_t> bytes, const datagram_meta& meta);
  /// ICMP unreachable or a socket error: the query ends with outcome::transport_error.
  void on_transport_error(std::error_code ec);

  /// True once next() answers finished.
  bool done() const noexcept { return state_ == state::done; }
  /// The outcome; final once done().
  const control_query_result& result() const noexcept { return result_; }

 private:
  enum class state : std::uint8_t { to_send, sent, waiting, done };
  void start_request(std::vector<std::uint8_t> data);
  void finish(control_outcome o, std::error_code ec = {});
  void ignore(ignore_reason r) { result_.ignored.add(r); }
  bool mac_acceptable(std::span<const std::uint8_t> bytes);
  void on_complete();
  void next_name();
  void timed_out(steady_time now);

  control_query_options options_;
  state state_ = state::to_send;
  std::uint16_t sequence_;
  std::vector<std::uint8_t> request_;  // the encoded request of the current sequence
  unsigned attempt_ = 0;               // sends of the current request
  std::uint32_t tag_ = 0;
  steady_time deadline_{};
  std::optional<control_reassembler> reassembler_;
  std::size_t seen_ = 0;  // datagrams looked at for the current request
  bool unsigned_accepted_ = false;
  // ask_each
  std::vector<std::string> names_;
  std::size_t name_index_ = 0;
  bool asking_each_ = false;
  std::vector<std::uint8_t> joined_;
  control_query_result result_;
};

}  // namespace ntpkit::proto
