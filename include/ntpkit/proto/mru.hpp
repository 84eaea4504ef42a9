#pragma once

// ntpd's MRU (most recently used) client list over mode 6: REQ_NONCE, then READ_MRU requests
// that walk the list oldest entry first, as ntpq's `mrulist` does (docs/PROTOCOLS.md §4; ntpd
// ntp_control.c read_mru_list; NTPsec pylib/packet.py mrulist). Pure: parsing, request text,
// and the walk as a sans-I/O session (session.hpp) that runs one control_query at a time.
//
// Wire facts (NTPsec 1.2.2, captured 2026-12-03, tests/proto/mru_test.cpp):
// - REQ_NONCE answers "nonce=<24 hex digits>\r\n". A READ_MRU without a valid nonce (ntpd
//   keeps them 16 s) gets no answer at all: it looks like a timeout.
// - READ_MRU data: "nonce=N, frags=F" (or "limit=L"), then filters (mincount=, mindrop=,
//   minscore=, maxlstint=, minlstint=, laddr=, resall=, resany=; NTPsec: recent=, on the first
//   request only), then, from the second request on, ", addr.0=A, last.0=T, addr.1=..." for
//   entries already received, newest first, as many as keep the data under 468 bytes.
// - The answer: "nonce=" (a fresh one, used for the next request), on continuations
//   "last.older=" and "addr.older=" (the entry it resumed after), rows `tag.index=value` with
//   tags addr, last, first, ct, mv, rs, sc, dr in random order plus a random 3-letter tag per
//   row (`kcx.0=45042`), indexes from 0 in each answer, oldest first; the last answer of the
//   walk ends with "now=" and, if it had rows, "last.newest=".
// - CERR_UNKNOWNVAR: none of the given prior entries is still unchanged (they were updated
//   meanwhile); CERR_BADVALUE: frags over 128 (MRU_FRAGS_LIMIT) or a bad limit.
//
// The walk adapts as NTPsec's ntpq does: frags starts at 32 (ntpq's MAXFRAGS) and grows by one
// after each answer, up to 32; on BADVALUE it switches to limit=96 rows, then lowers the limit
// by one per BADVALUE; on a timeout or an incomplete answer it halves frags (or the limit),
// never below 2, and fetches a new nonce. On UNKNOWNVAR it counts a restart and asks again
// without the priors it had sent (older ones are offered next; with none left it starts over
// from the oldest entry), giving up after `max_restarts` (ntpq: 8, "With high-traffic NTP
// servers, this can occur if the MRU list is limited to less than about 16 seconds' of
// entries"). Entries seen twice (updated during the walk) are merged by address, the latest
// `last` kept. Bounds: max_rows merged rows, max_duration for the whole walk, max_failures
// consecutive failed requests; each request is a control_query with its own bounded waits.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/proto/control_query.hpp"
#include "ntpkit/proto/control_vars.hpp"
#include "ntpkit/proto/timestamp.hpp"
#include "ntpkit/result.hpp"

namespace ntpkit::proto {

/// One client in the MRU list.
struct mru_entry {
  std::string address;             ///< addr.N: "ip:port" as ntpd writes it ("[::1]:123" for v6)
  timestamp last;                  ///< last.N: its latest packet (NTP time)
  timestamp first;                 ///< first.N: its first packet
  std::uint64_t count = 0;         ///< ct.N: packets seen
  std::uint8_t mode_version = 0;   ///< mv.N: version << 3 | mode of its latest packet
  std::uint32_t restrictions = 0;  ///< rs.N: the restrict flags that applied (ntpd's RES_*)
  std::optional<double> score;     ///< sc.N (NTPsec): the rate-limit score
  std::optional<std::uint64_t> dropped;  ///< dr.N (NTPsec): packets dropped
  /// Tags of this row we do not know (ntpd's random 3-letter tags), name and raw value.
  std::vector<std::pair<std::string, std::string>> other;
  friend bool operator==(const mru_entry&, const mru_entry&) = default;
};

/// One READ_MRU answer, read.
struct mru_response {
  std::optional<std::string> nonce;          ///< nonce=
  std::vector<mru_entry> entries;            ///< by index: oldest first
  std::optional<timestamp> now;              ///< now=: the walk is complete
  std::optional<timestamp> last_newest;      ///< last.newest=
  std::optional<std::string> older_address;  ///< addr.older=
  std::optional<timestamp> older_last;       ///< last.older=
  std::size_t malformed_rows = 0;    ///< rows without a valid addr and last, or with bad values
  std::vector<std::string> unknown;  ///< other names (without an index), kept
};

/// Reads a READ_MRU answer's variables generically by `tag.index=value` (any order, any
/// unknown tag). Never fails: what does not read is counted or kept.
NTPKIT_API mru_response parse_mru_response(const variable_list& list);

/// The nonce of a REQ_NONCE answer ("nonce=..."). Errors: errc::bad_mru_response (none, or
/// not hex digits).
NTPKIT_API result<std::string> parse_nonce(const variable_list& list);

/// How many entries an answer may carry.
struct mru_size {
  bool by_fragments = true;  ///< frags=count (true) or limit=count rows (false)
  unsigned count = 32;
};

/// A prior entry offered for continuation.
struct mru_prior {
  std::string address;
  timestamp last;
};

/// The data of a READ_MRU request, as NTPsec's ntpq writes it: "nonce=N, frags=F" (or
/// "limit=L"), then `parameters` (", name=value" each; "recent" only when `first`, and then
/// before the others), then ", addr.i=A, last.i=T" for `priors` in the given order (newest
/// first), as many as keep the total under 468 bytes; `*priors_used` receives how many.
/// (NTPsec's ntpq also writes a stray ", " after "recent=N" when there are no other
/// parameters; we do not.)
NTPKIT_API std::string build_mru_request(
    std::string_view nonce, mru_size size,
    const std::vector<std::pair<std::string, std::string>>& parameters, bool first,
    const std::vector<mru_prior>& priors, std::size_t* priors_used = nullptr);

/// How a walk ended.
enum class mru_outcome : std::uint8_t {
  complete,         ///< the server said now=: the list was read to its end
  row_limit,        ///< stopped at max_rows (the rows so far are kept)
  time_limit,       ///< stopped at max_duration
  restart_limit,    ///< more than max_restarts UNKNOWNVAR answers (errc::mru_restart_limit)
  timeout,          ///< max_failures requests in a row got no (complete) answer
  server_error,     ///< another server error (result().server_error)
  bad_response,     ///< an answer broke the rules (errc::fragment_overlap, bad_mru_response)
  transport_error,  ///< the driver reported a send or socket error
};

/// "complete", "row_limit", "time_limit", "restart_limit", "timeout", "server_error",
/// "bad_response", "transport_error".
NTPKIT_API std::string_view to_string(mru_outcome o) noexcept;

/// What to walk, and the bounds.
struct mru_walk_options {
  std::uint16_t sequence = 1;  ///< of the first request; each request uses the next number
  mru_size size;               ///< initial frags (ntpq: 32) or limit
  /// Filters sent with every request, in order (mincount, mindrop, minscore, maxlstint,
  /// minlstint, laddr, resall, resany, limit; "recent" is sent on the first request only).
  std::vector<std::pair<std::string, std::string>> parameters;
  std::chrono::milliseconds timeout{5000};           ///< per request, first fragment
  std::chrono::milliseconds fragment_timeout{3000};  ///< per request, later fragments
  unsigned retries = 1;                              ///< per request, as control_query
  std::optional<symmetric_key> key;                  ///< sign requests (not needed by ntpd)
  leap_indicator leap = leap_indicator::none;        ///< of requests (NTPsec's ntpq: 3)
  std::chrono::seconds nonce_max_age{12};  ///< fetch a new nonce when ours is older (ntpd: 16)
  unsigned max_restarts = 8;               ///< UNKNOWNVAR answers tolerated (ntpq: 8)
  unsigned max_failures = 4;               ///< consecutive requests without an answer
  std::size_t max_rows = 200000;           ///< merged entries kept
  std::chrono::seconds max_duration{300};  ///< for the whole walk
  /// Keep each merged entry's unknown tags (mru_entry::other: ntpd's random decoys); off,
  /// they are dropped, which halves the memory of a long list.
  bool keep_unknown_tags = false;
};

/// What a walk found.
struct mru_walk_result {
  mru_outcome outcome = mru_outcome::timeout;
  std::error_code error;
  std::optional<control_error> server_error;
  /// Merged by address (the latest `last` kept), ordered by `last`, oldest first, then address.
  std::vector<mru_entry> entries;
  std::optional<timestamp> now;    ///< the server's now= at the end of a complete walk
  unsigned requests = 0;           ///< datagrams sent (READ_MRU and REQ_NONCE, re-asks included)
  unsigned nonce_requests = 0;     ///< REQ_NONCE queries made
  unsigned restarts = 0;           ///< UNKNOWNVAR answers
  std::size_t rows_received = 0;   ///< rows in all answers, before merging
  std::size_t malformed_rows = 0;  ///< rows that did not read
  ignore_counts ignored;  ///< summed over every request
};

/// The MRU walk as a session (session.hpp): next(), on_sent(), on_send_failed(),
/// on_datagram(), on_transport_error(), as control_query.
class NTPKIT_API mru_walk {
 public:
  /// Prepares the walk; the first action is the REQ_NONCE request.
  mru_walk(mru_walk_options options, steady_time now);

  /// send_bytes, wait_until or finished.
  session_action next(steady_time now);
  void on_sent(const sent_meta& meta);
  void on_send_failed(std::error_code ec);
  void on_datagram(std::span<const std::uint8_t> bytes, const datagram_meta& meta);
  void on_transport_error(std::error_code ec);

  /// True once next() answers finished.
  bool done() const noexcept { return done_; }
  /// The outcome; final once done().
  const mru_walk_result& result() const noexcept { return result_; }

 private:
  enum class step : std::uint8_t { nonce, read };
  void start_nonce(steady_time now);
  void start_read(steady_time now);
  void handle(const control_query_result& r, steady_time now);
  void handle_nonce(const control_query_result& r, steady_time now);
  void handle_read(const control_query_result& r, steady_time now);
  void handle_failure(steady_time now);
  void take(const mru_response& m);
  void finish(mru_outcome o, std::error_code ec = {});
  control_query_options query_options(control_opcode op, std::vector<std::uint8_t> data) const;
  std::vector<mru_prior> priors() const;

  mru_walk_options options_;
  steady_time started_;
  std::uint16_t sequence_;
  step step_ = step::nonce;
  std::optional<control_query> query_;
  std::string nonce_;
  steady_time nonce_at_{};
  mru_size size_;
  unsigned row_limit_ = 96;  // the server's assumed row cap (ntpq: 3 * MAXFRAGS)
  bool first_read_ = true;
  unsigned failures_ = 0;
  std::size_t skip_priors_ = 0;      // newest received entries not to offer again (UNKNOWNVAR)
  std::size_t priors_sent_ = 0;      // priors in the READ_MRU being asked
  bool from_start_ = false;          // the next READ_MRU offers no priors (a restart)
  std::vector<mru_prior> received_;  // the latest rows in arrival order, for continuation
  std::map<std::string, mru_entry> merged_;
  bool done_ = false;
  mru_walk_result result_;
};

}  // namespace ntpkit::proto
