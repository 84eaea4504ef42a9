#include "ntpkit/proto/timestamp.hpp"

#include <cmath>
#include <limits>

namespace ntpkit::proto {
namespace {

__extension__ typedef __int128 i128;

constexpr std::int64_t ns_per_s = 1'000'000'000;

// A date as one signed 32.32 number of seconds since 1900 (96 significant bits).
i128 to_fixed(date d) { return (static_cast<i128>(d.seconds()) << 32) | d.fraction(); }

date from_fixed(i128 v) {
  // Arithmetic shift keeps the floor for dates before 1900.
  return date::from_parts(static_cast<std::int64_t>(v >> 32),
                          static_cast<std::uint32_t>(v & 0xffff'ffff));
}

}  // namespace

date date::from_sys_time(sys_nanoseconds t) noexcept {
  const std::int64_t ns = t.time_since_epoch().count();
  std::int64_t s = ns / ns_per_s;
  std::int64_t rem = ns % ns_per_s;
  if (rem < 0) {  // floor division for instants before 1970
    rem += ns_per_s;
    --s;
  }
  return date(s + unix_epoch_offset_s, fraction_from_ns(static_cast<std::uint32_t>(rem)));
}

sys_nanoseconds date::to_sys_time() const noexcept {
  const i128 ns = static_cast<i128>(seconds_ - unix_epoch_offset_s) * ns_per_s +
                  ns_from_fraction(fraction_);
  constexpr auto lo = std::numeric_limits<std::int64_t>::min();
  constexpr auto hi = std::numeric_limits<std::int64_t>::max();
  const std::int64_t clamped = ns < lo ? lo : ns > hi ? hi : static_cast<std::int64_t>(ns);
  return sys_nanoseconds{std::chrono::nanoseconds{clamped}};
}

date resolve_near(timestamp ts, date near) noexcept {
  // The wrapping difference picks the era that puts ts within ±2^31 s of `near`.
  return from_fixed(to_fixed(near) + (ts - near.to_timestamp()).bits());
}

date resolve_from(timestamp ts, date window_start) noexcept {
  const std::uint64_t ahead = ts.bits() - window_start.to_timestamp().bits();
  return from_fixed(to_fixed(window_start) + static_cast<i128>(ahead));
}

sys_nanoseconds to_sys_time(timestamp ts, sys_nanoseconds pivot) noexcept {
  return resolve_from(ts, date::from_sys_time(pivot)).to_sys_time();
}

}  // namespace ntpkit::proto
