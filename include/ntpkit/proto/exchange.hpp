#pragma once

// One client/server exchange: on-wire math (RFC 5905 §8), the sanity tests a reply must pass,
// and the choice among several samples. Pure functions of their arguments: the caller supplies
// T1 and T4 from its clocks.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ntpkit/export.hpp"
#include "ntpkit/proto/packet.hpp"
#include "ntpkit/proto/timestamp.hpp"

namespace ntpkit::proto {

/// The four timestamps of an exchange. T1 and T4 are the client's (send, receive), T2 and T3
/// the server's (receive, transmit).
struct exchange_times {
  timestamp t1;
  timestamp t2;
  timestamp t3;
  timestamp t4;
};

/// What one exchange measured. All values are exact 32.32 fixed point.
struct measurement {
  duration offset;      ///< θ = ((T2 - T1) + (T3 - T4)) / 2: server clock minus ours
  duration delay;       ///< δ = (T4 - T1) - (T3 - T2); negative values are kept, not clamped
  duration processing;  ///< T3 - T2: how long the server held the request
  duration dispersion;  ///< ε = 2^server_precision + 2^local_precision + PHI × (T4 - T1)
};

/// RFC 5905 PHI, the frequency tolerance: 15 ppm.
inline constexpr std::int64_t phi_ppm = 15;

/// Computes offset, delay, processing time and dispersion. Differences wrap, so a T4 in the
/// next era than T1 is handled as long as the exchange spans less than 68 years.
NTPKIT_API measurement measure(const exchange_times& t, std::int8_t server_precision,
                               std::int8_t local_precision) noexcept;

/// RFC 5905 §11.2 root synchronisation distance of a sample, as the client sees it:
/// (root_delay + max(δ, 0)) / 2 + root_dispersion + ε + jitter.
NTPKIT_API duration root_distance(const packet& reply, const measurement& m,
                                  duration jitter = {}) noexcept;

/// The sanity tests, in the order they are reported. Names as check_name() gives them.
enum class check : std::uint8_t {
  source,         ///< the datagram came from the address and port we sent to
  mode,           ///< the mode answers ours (server for client)
  version,        ///< version is 1..4
  origin,         ///< origin timestamp equals the transmit timestamp we sent
  mac,            ///< with a key: MAC present, for our key id, and it verifies
  transmit,       ///< T3 is not zero
  receive,        ///< T2 is not zero
  server_order,   ///< T3 >= T2
  round_trip,     ///< T3 - T2 fits inside T4 - T1 (delay >= -precision)
  leap,           ///< LI is not 3 (alarm)
  stratum,        ///< 1 <= stratum <= 15 (0 is a kiss, 16 and above unsynchronised)
  root_distance,  ///< root_delay / 2 + root_dispersion below 16 s (RFC 5905 MAXDISP)
  reference,      ///< reference time not after T3 (zero, "never synchronised", passes)
};
inline constexpr std::size_t check_count = 13;

/// Short snake_case name of a check ("origin", "server_order", ...).
NTPKIT_API std::string_view check_name(check c) noexcept;

/// Which checks ran and which of them failed.
class check_results {
 public:
  void set(check c, bool passed) noexcept {
    ran_ |= bit(c);
    if (passed) {
      failed_ &= ~bit(c);
    } else {
      failed_ |= bit(c);
    }
  }
  bool ran(check c) const noexcept { return (ran_ & bit(c)) != 0; }
  bool failed(check c) const noexcept { return (failed_ & bit(c)) != 0; }
  bool passed(check c) const noexcept { return ran(c) && !failed(c); }
  bool all_passed() const noexcept { return failed_ == 0; }
  /// The first failed check in report order, if any.
  std::optional<check> first_failure() const noexcept;
  friend bool operator==(const check_results&, const check_results&) = default;

 private:
  static constexpr std::uint32_t bit(check c) noexcept { return 1u << static_cast<unsigned>(c); }
  std::uint32_t ran_ = 0;
  std::uint32_t failed_ = 0;
};

/// What the client knows when a datagram arrives.
struct reply_expectation {
  timestamp sent_transmit;                         ///< the transmit field of our request
  association_mode sent_mode = association_mode::client;
  bool from_expected_source = true;                ///< net compares address and port
  std::optional<bool> mac_verified;                ///< set when a key was used
  std::int8_t local_precision = -20;
};

/// How a reply is judged, in the order a client decides.
enum class verdict {
  ok,              ///< every check passed
  not_for_us,      ///< wrong source, mode or origin: ignore it and keep waiting
  bad_mac,         ///< a key was used and the MAC is absent or wrong: ignore and keep waiting
  kiss,            ///< stratum 0: Kiss-o'-Death, see the kiss code
  unsynchronised,  ///< LI 3 or stratum >= 16
  insane,          ///< another sanity check failed (see check_results)
};

/// Short name of a verdict ("ok", "kiss", ...).
NTPKIT_API std::string_view verdict_name(verdict v) noexcept;

/// A reply's checks and verdict.
struct assessment {
  check_results checks;
  verdict result = verdict::ok;
  std::string kiss_code;  ///< set for verdict::kiss
};

/// Runs every sanity test on `reply`, received at `t4`, against what we sent.
NTPKIT_API assessment assess_reply(const packet& reply, timestamp t1, timestamp t4,
                                   const reply_expectation& expected);

/// A broadcast (mode 5) packet received at T4: the offset is T3 + `assumed_delay` - T4, since
/// the one-way delay cannot be measured without a request (RFC 5905 §8, ntpd's
/// `broadcastdelay`). delay is the assumed delay, processing zero.
NTPKIT_API measurement measure_broadcast(timestamp t3, timestamp t4, duration assumed_delay,
                                         std::int8_t server_precision,
                                         std::int8_t local_precision) noexcept;

/// The sanity tests that apply to a broadcast packet: mode (broadcast), version, MAC when a
/// key is used, transmit, leap, stratum, root_distance and reference; origin and receive are
/// zero in broadcasts and are not tested.
NTPKIT_API assessment assess_broadcast(const packet& p, const reply_expectation& expected);

/// Index of the sample with the smallest delay (the first of equals); requires a non-empty span.
NTPKIT_API std::size_t select_min_delay(std::span<const measurement> samples) noexcept;

/// RFC 5905 §10 peer jitter: RMS of the other samples' offsets from the selected one's;
/// zero for fewer than two samples.
NTPKIT_API duration offset_jitter(std::span<const measurement> samples,
                                  std::size_t selected) noexcept;

}  // namespace ntpkit::proto
