#pragma once

// One NTP query as a sans-I/O session (session.hpp): rounds of requests with retries, each
// request carrying 64 random bits as its transmit timestamp, replies matched by origin (and in
// interleaved mode by the echoed receive field), duplicates, foreign and malformed datagrams
// counted and waited past, MACs signed and verified, and no request after a Kiss-o'-Death.
// The caller (net's drive()) supplies times, randomness and the wire.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/proto/exchange.hpp"
#include "ntpkit/proto/mac.hpp"
#include "ntpkit/proto/nts_ef.hpp"
#include "ntpkit/proto/packet.hpp"
#include "ntpkit/proto/session.hpp"
#include "ntpkit/proto/timestamp.hpp"

namespace ntpkit::proto {

/// NTS (RFC 8915) for a query: what NTS-KE established.
struct nts_plan {
  nts_keys keys;  ///< AEAD, C2S and S2C keys
  /// Unused cookies, oldest first. Each request takes the first, never one twice; answers add
  /// the cookies they carry.
  std::vector<std::vector<std::uint8_t>> cookies;
  /// How many cookies to hold: each request asks, with Cookie Placeholders, for as many as
  /// bring the pool back to this number (chrony's and NTS-KE's 8).
  std::size_t cookies_wanted = 8;
};

/// How to query one address.
struct ntp_query_plan {
  unsigned samples = 1;                     ///< answered requests wanted (rounds)
  unsigned retries = 0;                     ///< extra requests after a timeout, per round
  std::chrono::milliseconds timeout{2000};  ///< wait for a reply to each request
  std::uint8_t version = 4;                 ///< NTP version of our requests (1..4)
  /// Sign every request with this key and take only replies whose MAC verifies with it.
  std::optional<symmetric_key> key;
  mac_policy mac;  ///< digest length and NTPv3 fallback for `key`
  /// RFC 9769 interleaved client/server mode: from the second request on, ask the server for
  /// its transmit time of the previous answer, which completes the previous exchange.
  bool interleaved = false;
  std::int8_t local_precision = -20;  ///< our clock's precision, log2 s
  /// NTS: seal every request (unique identifier, a cookie, placeholders, authenticator) and
  /// take only replies that verify with the S2C key, or an NTS NAK. Not with `key`.
  std::optional<nts_plan> nts;
};

/// One answered request, or one broadcast heard.
struct ntp_sample {
  packet reply;
  exchange_times times;  ///< T1..T4 as wire timestamps
  date t1_date;          ///< T1 and T4 with their era, from the local clock
  date t4_date;
  time_source t1_source = time_source::user;
  time_source t4_source = time_source::user;
  measurement measured;
  assessment assessed;
  std::uint32_t attempt = 0;  ///< which request of its round this answers (0 = first)
  bool broadcast = false;     ///< a mode 5 packet heard, not an answer: T1 and T2 are unset
  /// RFC 9769 interleaved: the exchange of the previous request, completed by this answer's
  /// transmit timestamp. `reply` then holds this answer's header with receive = the previous
  /// T2 and transmit = the exact T3.
  bool interleaved = false;
  /// NTS: the reply's authenticator verified with the S2C key (false for an NTS NAK).
  bool nts_authenticated = false;
  /// NTS: the new cookies the reply carried inside its authenticator.
  std::uint32_t nts_new_cookies = 0;
};

/// How a query ended.
enum class ntp_query_end : std::uint8_t {
  running,           ///< not finished yet
  completed,         ///< every round ran; the last request was answered
  timed_out,         ///< every round ran; the last request was not answered
  kissed,            ///< a reply was a Kiss-o'-Death: nothing more is sent
  kissed_elsewhere,  ///< the address kissed another query of the run (on_vetoed)
  send_failed,       ///< a request could not be sent (`error`)
  transport_failed,  ///< ICMP or the socket reported an error (`error`)
  sign_failed,       ///< a request could not be signed or sealed (`error`)
  nts_no_cookies,    ///< NTS: no unused cookie was left for the next request
};

/// What a query found.
struct ntp_query_outcome {
  std::vector<ntp_sample> samples;  ///< every reply taken, in order
  std::uint32_t requests = 0;       ///< requests sent
  ignore_counts ignored;
  ntp_query_end end = ntp_query_end::running;
  std::error_code error;  ///< for send_failed, transport_failed, sign_failed
  std::string kiss_code;  ///< for kissed and kissed_elsewhere
  /// Every request was answered exactly once, nothing else came and nothing failed: the
  /// socket may serve another address (nothing more is expected on it).
  bool clean = false;
  /// NTS: what happened to the cookies.
  struct nts_counts {
    std::uint32_t cookies_sent = 0;       ///< requests sent, each with one cookie
    std::uint32_t placeholders_sent = 0;  ///< Cookie Placeholders sent, all requests together
    std::uint32_t cookies_received = 0;   ///< new cookies in the replies taken
    bool nak = false;                     ///< an NTS NAK came for one of our requests
    friend bool operator==(const nts_counts&, const nts_counts&) = default;
  } nts;
  /// NTS: the unused cookies when the query ended (a later query may go on with them).
  std::vector<std::vector<std::uint8_t>> nts_cookies;
};

/// Source of the 64 random bits each request's transmit field carries.
using random_source = std::function<std::uint64_t()>;

/// The conversation with one address (session.hpp's contract, with on_transmit_time and
/// on_vetoed).
class NTPKIT_API ntp_query {
 public:
  ntp_query(ntp_query_plan plan, random_source random);

  /// What to do now: send the next request, wait for its answer, or finished. A wait that has
  /// passed its deadline counts as a timeout of that request.
  session_action next(steady_time now);
  /// The request last handed out by next() left at `m.time` (steady `m.at`).
  void on_sent(const sent_meta& m);
  /// The kernel's transmit time of request `tag`, when the socket reports it (T1 then).
  void on_transmit_time(std::uint32_t tag, sys_nanoseconds t);
  /// The request last handed out could not be sent: the query ends.
  void on_send_failed(std::error_code ec);
  /// The driver will not send the request: the address sent `kiss_code` to another query of
  /// this run. The query ends.
  void on_vetoed(std::string_view kiss_code);
  /// A datagram arrived while waiting.
  void on_datagram(std::span<const std::uint8_t> bytes, const datagram_meta& m);
  /// ICMP unreachable or another socket error: the query ends.
  void on_transport_error(std::error_code ec);

  const ntp_query_outcome& outcome() const noexcept { return out_; }
  ntp_query_outcome take_outcome() { return std::move(out_); }
  bool done() const noexcept { return out_.end != ntp_query_end::running; }
  const ntp_query_plan& plan() const noexcept { return plan_; }

 private:
  // The local side of an answered exchange, kept so that an interleaved answer can complete it.
  struct exchange_record {
    date t1_date;
    time_source t1_source = time_source::user;
    date t4_date;
    time_source t4_source = time_source::user;
    timestamp t2;  // the server's receive timestamp, which the next request echoes
    std::uint32_t attempt = 0;
  };

  // One request on the wire, remembered until the query ends so that late answers are still
  // taken and replays are recognised.
  struct outstanding {
    timestamp transmit;
    std::uint32_t tag = 0;
    std::uint32_t attempt = 0;
    sys_nanoseconds t1{};
    time_source t1_source = time_source::user;
    bool sent = false;
    bool answered = false;
    // Interleaved requests: the random receive field the server echoes as origin when it answers
    // interleaved, and the exchange that answer completes.
    std::optional<timestamp> token;
    std::optional<exchange_record> previous;
    std::vector<std::uint8_t> unique_id;  // NTS: what the answer must echo
  };
  enum class state : std::uint8_t { need_send, send_pending, awaiting, done };

  session_action make_request();
  result<void> seal(std::vector<std::uint8_t>& bytes, outstanding& req);
  // NTS: verifies a reply to `req`; false (and counted as ignored) when it must not be taken.
  bool nts_accepts(std::span<const std::uint8_t> bytes, const packet& reply, const outstanding& req,
                   std::optional<nts_verified_response>& verified);
  void take_cookies(ntp_sample& s, nts_verified_response&& verified);
  void request_answered();
  void round_unanswered();
  void finish(ntp_query_end end);
  std::optional<ntp_sample> judge(const packet& reply, const outstanding& req,
                                  const datagram_meta& m, bool interleaved,
                                  std::optional<bool> authenticated);

  ntp_query_plan plan_;
  random_source random_;
  ntp_query_outcome out_;
  state state_ = state::need_send;
  unsigned round_ = 0;
  unsigned attempt_ = 0;
  steady_time deadline_{};
  std::uint32_t next_tag_ = 0;
  bool last_timed_out_ = false;
  std::vector<outstanding> sent_;
  std::vector<exchange_record> answered_;           // at most one: the latest answered exchange
  std::vector<std::vector<std::uint8_t>> cookies_;  // NTS: unused, oldest first
};

/// Judges a mode 5 packet heard at `m.time` as a broadcast sample (assumed one-way delay
/// added to the offset); nullopt with the reason when it is not one (malformed, other mode).
NTPKIT_API std::optional<ntp_sample> hear_broadcast(std::span<const std::uint8_t> bytes,
                                                    const datagram_meta& m, duration assumed_delay,
                                                    std::int8_t local_precision,
                                                    ignore_reason* why);

}  // namespace ntpkit::proto
