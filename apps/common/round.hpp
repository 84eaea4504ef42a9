#pragma once

// std::llround without libm. glibc keeps llround in libm.so, and loading libm for it cost
// ntpprobe ~450 KiB of max RSS per run (its ifunc resolvers and tables are touched at start);
// nothing else the programs use needs libm.

#include <limits>

namespace ntpkit::apps {

/// std::llround(x): the nearest integer, halves away from zero. Out of range or NaN gives
/// LLONG_MIN, as glibc's llround does on x86-64.
constexpr long long round_ll(double x) noexcept {
  if (!(x > -0x1p63 && x < 0x1p63)) return std::numeric_limits<long long>::min();
  auto n = static_cast<long long>(x);                // toward zero
  const double rest = x - static_cast<double>(n);    // exact: the fraction, or 0 above 2^52
  if (rest >= 0.5) ++n;
  else if (rest <= -0.5) --n;
  return n;
}

}  // namespace ntpkit::apps
