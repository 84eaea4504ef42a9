#pragma once

// The shape of every conversation in proto (STYLE §2): a session object is fed bytes and times
// and answers what to do next: send these bytes, wait until then, or finished. It never
// touches a socket or reads a clock, so it is tested with scripted exchanges and fuzzed. One
// driver in net (net/drive.hpp) runs any session over a socket (Boost.MySQL's
// `next_action resume(...)`, ntpd-rs's `NtpSourceAction`).
//
// A session S offers:
//   session_action next(steady_time now);            what to do now
//   void on_sent(const sent_meta&);                   a send_bytes went out
//   void on_send_failed(std::error_code);             it could not be sent
//   void on_datagram(std::span<const std::uint8_t>, const datagram_meta&);
//   void on_transport_error(std::error_code);         ICMP unreachable, socket error
// and optionally
//   void on_transmit_time(std::uint32_t tag, sys_nanoseconds);  the kernel's send time
//   void on_vetoed(std::string_view reason);          the driver's gate refused a send

#include <chrono>
#include <cstdint>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/proto/timestamp.hpp"

namespace ntpkit::proto {

/// Steady (monotonic) time, for deadlines and pacing. Supplied by the caller, never read here.
using steady_time = std::chrono::steady_clock::time_point;

/// Where a local timestamp came from.
enum class time_source : std::uint8_t {
  user,    ///< the system clock read in user space around the system call
  kernel,  ///< the kernel's software timestamp of the datagram (SO_TIMESTAMPING)
};

/// "user" or "kernel".
NTPKIT_API std::string_view time_source_name(time_source s) noexcept;

/// Send `bytes` to the session's peer; `tag` comes back in sent_meta.
struct send_bytes {
  std::vector<std::uint8_t> bytes;
  std::uint32_t tag = 0;
};

/// Nothing to send now: wait for a datagram until `deadline`, then call next() again (also
/// when nothing came).
struct wait_until {
  steady_time deadline;
};

/// The conversation is over; the session's outcome is complete.
struct finished {};

/// What a session asks its driver to do next.
using session_action = std::variant<send_bytes, wait_until, finished>;

/// What the driver knows of a send it made.
struct sent_meta {
  std::uint32_t tag = 0;
  sys_nanoseconds time{};                  ///< system clock right before the send system call
  time_source source = time_source::user;  ///< of `time`; a kernel time may follow later
  steady_time at{};                        ///< steady clock at the send, for deadlines
};

/// What the driver knows of a datagram it received.
struct datagram_meta {
  bool from_peer = true;    ///< it came from the session's peer address and port
  bool truncated = false;   ///< it was longer than the driver's buffer (the bytes are cut)
  sys_nanoseconds time{};   ///< kernel receive time, or the system clock right after
  time_source source = time_source::user;
  steady_time at{};         ///< steady clock when it was read
};

/// Why a session did not take a datagram: counted, reported, never fatal.
enum class ignore_reason : std::uint8_t {
  source,       ///< from another address or port than the peer
  oversized,    ///< longer than any datagram the protocol allows
  malformed,    ///< does not parse
  origin,       ///< NTP: its origin matches no request of ours
  duplicate,    ///< a second answer to a request already answered; mode 6: a repeated fragment
  mode,         ///< not the mode that answers ours (mode 6: not a control message)
  mac,          ///< the MAC does not verify
  mac_missing,  ///< a key was used and the reply has no MAC
  mac_key_id,   ///< the MAC names another key
  mac_length,   ///< the MAC trailer has an impossible length
  crypto_nak,   ///< a crypto-NAK (key id without digest)
  over_limit,   ///< more than the session keeps (broadcast listening)
  version,      ///< cmdmon: another protocol version than the request's
  not_reply,    ///< cmdmon: not a reply (pkt_type, or res1/res2 not zero)
  command,      ///< cmdmon: the echo of another command
  sequence,     ///< cmdmon, mode 6: answers another request (another sequence number)
  truncated,    ///< cmdmon: shorter than its reply code needs (the request is sent again)
  // Mode 6 (RFC 9327): proto/control.hpp, proto/mru.hpp.
  not_response,    ///< a control message without the response bit (a request)
  opcode,          ///< a response to another opcode than the one asked
  empty_fragment,  ///< a fragment with count 0 and the more bit set
  late,            ///< arrived after the response was complete (or the session was over)
  // NTS (RFC 8915)
  nts_missing,    ///< NTS: a reply without an NTS Authenticator field
  nts_auth,       ///< NTS: the authenticator is malformed, not last, or does not verify
  nts_unique_id,  ///< NTS: the Unique Identifier is missing or not our request's
  // New reasons go above this line; ignore_reason_count follows the last one.
};

/// Number of ignore_reason values (for loops over all of them).
inline constexpr std::size_t ignore_reason_count = static_cast<std::size_t>(ignore_reason::nts_unique_id) + 1;

/// The snake_case name of a reason, as JSON's `ignored` object keys it ("origin", ...).
NTPKIT_API std::string_view ignore_reason_name(ignore_reason r) noexcept;

/// Datagrams a session did not take, by reason, in the order the reasons first occurred.
class ignore_counts {
 public:
  /// Adds `n` to the count of `r`.
  void add(ignore_reason r, std::uint32_t n = 1) {
    for (auto& [reason, count] : counts_) {
      if (reason == r) {
        count += n;
        return;
      }
    }
    counts_.emplace_back(r, n);
  }
  /// The count of `r`.
  std::uint32_t count(ignore_reason r) const noexcept {
    for (const auto& [reason, count] : counts_) {
      if (reason == r) return count;
    }
    return 0;
  }
  /// Sum over all reasons.
  std::uint32_t total() const noexcept {
    std::uint32_t n = 0;
    for (const auto& c : counts_) n += c.second;
    return n;
  }
  bool empty() const noexcept { return counts_.empty(); }
  auto begin() const noexcept { return counts_.begin(); }
  auto end() const noexcept { return counts_.end(); }
  friend bool operator==(const ignore_counts&, const ignore_counts&) = default;

 private:
  std::vector<std::pair<ignore_reason, std::uint32_t>> counts_;
};

}  // namespace ntpkit::proto
