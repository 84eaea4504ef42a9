#include "ntpkit/proto/timestamp.hpp"

#include <doctest/doctest.h>

using namespace ntpkit::proto;

TEST_CASE("the 2036 era boundary is era 1, offset 0") {
  // RFC 5905 Figure 4: 2036-02-07T06:28:16Z begins era 1.
  const auto t = sys_nanoseconds{std::chrono::seconds{2085978496}};
  const auto d = date::from_sys_time(t);
  CHECK(d.era() == 1);
  CHECK(d.to_timestamp().bits() == 0);
}
