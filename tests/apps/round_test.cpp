#include "round.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

using ntpkit::apps::round_ll;

TEST_CASE("round_ll agrees with std::llround: halves away from zero, near-halves, limits") {
  const double cases[] = {0.0,
                          -0.0,
                          0.5,
                          -0.5,
                          1.5,
                          -1.5,
                          2.5,
                          -2.5,
                          0.49999999999999994,  // the largest double below 0.5
                          -0.49999999999999994,
                          4503599627370495.5,  // 2^52 - 0.5: the last representable half
                          4503599627370497.0,
                          9007199254740993.0,
                          0x1p62,
                          -0x1p62,
                          0x1p63 - 1024.0,
                          -0x1p63};
  for (const double x : cases) {
    CAPTURE(x);
    CHECK(round_ll(x) == std::llround(x));
  }
  // Out of range and NaN: LLONG_MIN, as glibc's llround on x86-64.
  constexpr auto min = std::numeric_limits<long long>::min();
  CHECK(round_ll(0x1p63) == min);
  CHECK(round_ll(-0x1p64) == min);
  CHECK(round_ll(std::numeric_limits<double>::infinity()) == min);
  CHECK(round_ll(std::numeric_limits<double>::quiet_NaN()) == min);
}

TEST_CASE("round_ll agrees with std::llround over random magnitudes and halves") {
  std::mt19937_64 rng(20261126);
  std::uniform_int_distribution<int> exponent(-30, 62);
  std::uniform_real_distribution<double> mantissa(-1.0, 1.0);
  for (int i = 0; i < 200'000; ++i) {
    double x = std::ldexp(mantissa(rng), exponent(rng));
    if (i % 4 == 0) x = std::floor(x) + 0.5;  // exact halves where representable
    CAPTURE(x);
    REQUIRE(round_ll(x) == std::llround(x));
  }
}
