#pragma once

// Small helpers shared by the unit tests: calendar instants written the way a person reads
// them, and byte strings written as hex.

#include <cassert>
#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

#include "ntpkit/proto/timestamp.hpp"

namespace ntpkit::test {

/// The UTC instant y-mo-d h:mi:s plus ns nanoseconds (proleptic Gregorian, no leap seconds).
inline proto::sys_nanoseconds utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0,
                                  std::int64_t ns = 0) {
  using namespace std::chrono;
  return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s} +
         nanoseconds{ns};
}

/// Bytes from hex digits; spaces and newlines between bytes are ignored.
inline std::vector<std::uint8_t> from_hex(std::string_view hex) {
  std::vector<std::uint8_t> out;
  int high = -1;
  for (const char c : hex) {
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else {
      continue;
    }
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(high << 4 | v));
      high = -1;
    }
  }
  assert(high < 0);
  return out;
}

}  // namespace ntpkit::test
