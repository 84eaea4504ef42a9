#pragma once

// The NTP client: one address queried with pacing, retries and every sanity test, and many
// targets at once with bounded concurrency.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/net/resolve.hpp"
#include "ntpkit/proto/mac.hpp"
#include "ntpkit/report/sample.hpp"

namespace ntpkit::net {

/// How to query one address.
struct query_options {
  unsigned samples = 1;                       ///< answered requests wanted
  unsigned retries = 0;                       ///< extra requests after a timeout, per sample
  std::chrono::milliseconds timeout{2000};    ///< wait for a reply to each request
  std::chrono::milliseconds interval{2000};   ///< least time between requests to one address
  std::uint8_t version = 4;                   ///< NTP version of our requests (1..4)
  /// Sign every request with this key and take only replies whose MAC verifies with it.
  std::optional<proto::symmetric_key> key;
  proto::mac_policy mac;                      ///< digest length and NTPv3 fallback for `key`
  /// RFC 9769 interleaved client/server mode: from the second request on, ask the server for
  /// the kernel transmit time of its previous answer (chrony does this), which completes the
  /// previous exchange with an exact T3.
  bool interleaved = false;
};

/// What a run remembers per server address: it spaces requests to the same address by at
/// least `interval` across every coroutine (RFC 5905's 2 s guard by default), and after a
/// Kiss-o'-Death it sends that address nothing more.
class NTPKIT_API pacer {
 public:
  explicit pacer(std::chrono::milliseconds interval) : interval_(interval) {}
  /// Waits until a request to `to` is allowed and books it.
  asio::awaitable<void> wait_turn(const udp::endpoint& to);
  /// Records that a request to `to` has just left: the next one waits a full interval from
  /// now, even when this one was sent late after its turn (a busy machine).
  void sent(const udp::endpoint& to);
  /// Remembers that `from` sent the kiss code `code`.
  void kissed(const udp::endpoint& from, std::string code) { kisses_[from] = std::move(code); }
  /// The kiss code `to` sent earlier in this run, if any.
  const std::string* kiss_of(const udp::endpoint& to) const {
    const auto it = kisses_.find(to);
    return it == kisses_.end() ? nullptr : &it->second;
  }

 private:
  std::chrono::milliseconds interval_;
  std::map<udp::endpoint, std::chrono::steady_clock::time_point> next_;
  std::map<udp::endpoint, std::string> kisses_;
};

/// Queries `server`: up to `samples` rounds of up to 1 + `retries` requests. Replies from
/// elsewhere, with a foreign origin, duplicates and malformed datagrams are counted in
/// `ignored` and waited past. A Kiss-o'-Death ends all sending to the address. Never throws;
/// every failure is in the report's error.
NTPKIT_API asio::awaitable<report::address_report> query(udp::endpoint server,
                                                         const query_options& options,
                                                         pacer& pace);

/// How to probe many targets.
struct probe_options {
  query_options query;
  family address_family = family::any;
  std::size_t concurrency = 0;  ///< addresses in flight at once; 0 = default_concurrency()
  /// IPv6 addresses whose refid hash to recognise in replies, besides every IPv6 address the
  /// run itself resolves (a server synchronised to one of them names it by that hash).
  std::vector<std::string> refid_candidates;
  /// False: each target's report is released as soon as on_done has seen it, so that memory
  /// does not grow with the number of targets; probe() then returns empty reports.
  bool keep_reports = true;
};

/// Addresses in flight by default: what RLIMIT_NOFILE allows with room to spare, at most 512.
NTPKIT_API std::size_t default_concurrency() noexcept;

/// Called once per target as soon as all its addresses are done, with the target's index.
using target_done = std::function<void(std::size_t index, const report::target_report&)>;

/// Resolves and queries every target; the result keeps the order of `targets`.
NTPKIT_API asio::awaitable<std::vector<report::target_report>> probe(
    std::vector<target> targets, probe_options options, target_done on_done = {});

/// probe() on an io_context of its own, for callers without one.
NTPKIT_API std::vector<report::target_report> probe_blocking(std::vector<target> targets,
                                                             const probe_options& options,
                                                             target_done on_done = {});

}  // namespace ntpkit::net
