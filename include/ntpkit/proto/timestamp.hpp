#pragma once

// NTP time values (RFC 5905 §6): the 64-bit timestamp (unsigned 32.32 seconds since the start
// of its era), the 32-bit short format (unsigned 16.16, root delay and dispersion), signed 32.32
// durations, and the era-aware 128-bit "date". Wire values stay integers; only report converts
// to double. Conversions from nanoseconds round the fraction up and back down, so every
// nanosecond value round-trips exactly.

#include <chrono>
#include <cmath>
#include <compare>
#include <cstdint>

#include "ntpkit/export.hpp"

namespace ntpkit::proto {

/// Seconds from 1900-01-01 (NTP prime epoch) to 1970-01-01 (Unix epoch).
inline constexpr std::int64_t unix_epoch_offset_s = 2'208'988'800;

/// 32-bit fraction of a second for `ns` nanoseconds (0 <= ns < 10^9), rounded up.
constexpr std::uint32_t fraction_from_ns(std::uint32_t ns) noexcept {
  return static_cast<std::uint32_t>(((std::uint64_t{ns} << 32) + 999'999'999u) / 1'000'000'000u);
}

/// Nanoseconds in a 32-bit fraction of a second, rounded down; always < 10^9.
constexpr std::uint32_t ns_from_fraction(std::uint32_t fraction) noexcept {
  return static_cast<std::uint32_t>((std::uint64_t{fraction} * 1'000'000'000u) >> 32);
}

/// A signed time difference in 32.32 fixed point (2^-32 s units).
class duration {
 public:
  constexpr duration() noexcept = default;
  static constexpr duration from_bits(std::int64_t bits) noexcept { return duration(bits); }
  /// `ns` nanoseconds; the fraction is rounded away from zero.
  static constexpr duration from_ns(std::int64_t ns) noexcept {
    const bool negative = ns < 0;
    const std::uint64_t mag = negative ? 0 - static_cast<std::uint64_t>(ns) : ns;
    const std::uint64_t bits = ((mag / 1'000'000'000u) << 32) +
                               fraction_from_ns(static_cast<std::uint32_t>(mag % 1'000'000'000u));
    return duration(negative ? -static_cast<std::int64_t>(bits) : static_cast<std::int64_t>(bits));
  }
  /// 2^exponent seconds, as in the precision field; 0 below 2^-32 s, saturated above 2^30 s.
  static constexpr duration from_log2(int exponent) noexcept {
    if (exponent < -32) return duration(0);
    if (exponent > 30) exponent = 30;
    return duration(std::int64_t{1} << (32 + exponent));
  }
  constexpr std::int64_t bits() const noexcept { return bits_; }
  /// Seconds as a double: bits × 2^-32 (not bits / UINT32_MAX). A multiplication by a power of
  /// two, exact like std::ldexp(bits, -32) but inline: ldexp would make programs load libm.
  constexpr double to_seconds() const noexcept { return static_cast<double>(bits_) * 0x1p-32; }
  /// Nanoseconds, rounded toward zero.
  constexpr std::int64_t to_ns() const noexcept {
    const bool negative = bits_ < 0;
    const std::uint64_t mag = negative ? 0 - static_cast<std::uint64_t>(bits_) : bits_;
    const std::uint64_t ns =
        (mag >> 32) * 1'000'000'000u + ns_from_fraction(static_cast<std::uint32_t>(mag));
    return negative ? -static_cast<std::int64_t>(ns) : static_cast<std::int64_t>(ns);
  }
  constexpr duration operator-() const noexcept {
    return duration(static_cast<std::int64_t>(0 - static_cast<std::uint64_t>(bits_)));
  }
  friend constexpr duration operator+(duration a, duration b) noexcept {
    return duration(static_cast<std::int64_t>(static_cast<std::uint64_t>(a.bits_) + b.bits_));
  }
  friend constexpr duration operator-(duration a, duration b) noexcept { return a + -b; }
  /// The mean of two durations, floor-rounded, without overflow (beevik's a + (b - a) / 2 idea).
  friend constexpr duration midpoint(duration a, duration b) noexcept {
    return duration((a.bits_ >> 1) + (b.bits_ >> 1) + (a.bits_ & b.bits_ & 1));
  }
  friend constexpr auto operator<=>(duration, duration) noexcept = default;

 private:
  constexpr explicit duration(std::int64_t bits) noexcept : bits_(bits) {}
  std::int64_t bits_ = 0;
};

/// RFC 5905 §6 short format: unsigned 16.16 seconds (root delay, root dispersion).
class short_duration {
 public:
  constexpr short_duration() noexcept = default;
  static constexpr short_duration from_bits(std::uint32_t bits) noexcept {
    return short_duration(bits);
  }
  constexpr std::uint32_t bits() const noexcept { return bits_; }
  /// Widened to 32.32 exactly.
  constexpr duration to_duration() const noexcept {
    return duration::from_bits(static_cast<std::int64_t>(std::uint64_t{bits_} << 16));
  }
  friend constexpr auto operator<=>(short_duration, short_duration) noexcept = default;

 private:
  constexpr explicit short_duration(std::uint32_t bits) noexcept : bits_(bits) {}
  std::uint32_t bits_ = 0;
};

/// RFC 5905 §6 timestamp: unsigned 32.32 seconds since the start of its era. The era is not
/// carried; see `date` for calendar time.
class timestamp {
 public:
  constexpr timestamp() noexcept = default;
  static constexpr timestamp from_bits(std::uint64_t bits) noexcept { return timestamp(bits); }
  static constexpr timestamp from_parts(std::uint32_t seconds, std::uint32_t fraction) noexcept {
    return timestamp((std::uint64_t{seconds} << 32) | fraction);
  }
  constexpr std::uint64_t bits() const noexcept { return bits_; }
  constexpr std::uint32_t seconds() const noexcept { return static_cast<std::uint32_t>(bits_ >> 32); }
  constexpr std::uint32_t fraction() const noexcept { return static_cast<std::uint32_t>(bits_); }
  /// All 64 bits zero: RFC 5905 uses this for "unknown/not set".
  constexpr bool is_zero() const noexcept { return bits_ == 0; }
  friend constexpr bool operator==(timestamp, timestamp) noexcept = default;

 private:
  constexpr explicit timestamp(std::uint64_t bits) noexcept : bits_(bits) {}
  std::uint64_t bits_ = 0;
};

/// Wrapping difference a - b: correct across an era boundary whenever |a - b| < 68 years.
constexpr duration operator-(timestamp a, timestamp b) noexcept {
  return duration::from_bits(static_cast<std::int64_t>(a.bits() - b.bits()));
}
/// a + d, wrapping into the 32-bit seconds field.
constexpr timestamp operator+(timestamp a, duration d) noexcept {
  return timestamp::from_bits(a.bits() + static_cast<std::uint64_t>(d.bits()));
}

using sys_nanoseconds = std::chrono::sys_time<std::chrono::nanoseconds>;

/// RFC 5905 §6 date: signed seconds since 1900-01-01T00:00:00Z (era × 2^32 + era offset) and a
/// 32-bit fraction. Covers every instant a sys_nanoseconds can hold (years 1678 to 2262).
class date {
 public:
  constexpr date() noexcept = default;
  static constexpr date from_parts(std::int64_t seconds, std::uint32_t fraction) noexcept {
    return date(seconds, fraction);
  }
  /// The date of a system-clock instant; the fraction is rounded up from the nanoseconds.
  NTPKIT_API static date from_sys_time(sys_nanoseconds t) noexcept;
  /// The instant as system time; the fraction is rounded down to nanoseconds. Saturates at the
  /// limits of sys_nanoseconds.
  NTPKIT_API sys_nanoseconds to_sys_time() const noexcept;

  constexpr std::int64_t seconds() const noexcept { return seconds_; }
  constexpr std::uint32_t fraction() const noexcept { return fraction_; }
  /// Era number: 0 for 1900-2036, 1 from 2036-02-07T06:28:16Z, -1 before 1900.
  constexpr std::int32_t era() const noexcept { return static_cast<std::int32_t>(seconds_ >> 32); }
  /// The timestamp carried on the wire for this date (the era is dropped).
  constexpr timestamp to_timestamp() const noexcept {
    return timestamp::from_parts(static_cast<std::uint32_t>(seconds_), fraction_);
  }
  friend constexpr auto operator<=>(date, date) noexcept = default;

 private:
  constexpr date(std::int64_t seconds, std::uint32_t fraction) noexcept
      : seconds_(seconds), fraction_(fraction) {}
  std::int64_t seconds_ = 0;
  std::uint32_t fraction_ = 0;
};

/// The date of `ts` nearest to `near` (within ±2^31 s): how a client places a server's
/// timestamps when it knows roughly what time it is (RFC 4330 §3).
NTPKIT_API date resolve_near(timestamp ts, date near) noexcept;
/// The first date of `ts` at or after `window_start` (a 136-year window).
NTPKIT_API date resolve_from(timestamp ts, date window_start) noexcept;
/// Calendar time of `ts` in the window that starts at `pivot` (default 1970: 1970 to 2106).
NTPKIT_API sys_nanoseconds to_sys_time(timestamp ts,
                                       sys_nanoseconds pivot = sys_nanoseconds{}) noexcept;
/// The wire timestamp of a system-clock instant (era dropped).
inline timestamp from_sys_time(sys_nanoseconds t) noexcept {
  return date::from_sys_time(t).to_timestamp();
}

}  // namespace ntpkit::proto
