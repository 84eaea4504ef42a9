#include "ntpkit/report/format.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>

#include "support/test_support.hpp"

using namespace ntpkit;
using ntpkit::test::utc;

TEST_CASE("ntp_hex writes ntpq's raw form with all 16 digits") {
  // ntpq -c rv shows reftime as "0xe5f663a8.761dde48" (DESIGN.md / STYLE.md §6); the
  // value is ntpd-rs's captured client transmit timestamp.
  CHECK(report::ntp_hex(proto::timestamp::from_bits(0xe5f6'63a8'761d'de48u)) ==
        "0xe5f663a8.761dde48");
  CHECK(report::ntp_hex(proto::timestamp{}) == "0x00000000.00000000");
  CHECK(report::ntp_hex(proto::timestamp::from_parts(1, 0xa)) == "0x00000001.0000000a");
}

TEST_CASE("iso8601 writes UTC with truncated fractional digits") {
  const auto t = utc(2026, 11, 26, 4, 0, 0, 123'456'789);
  CHECK(report::iso8601(t) == "2026-11-26T04:00:00.123456789Z");
  CHECK(report::iso8601(t, 3) == "2026-11-26T04:00:00.123Z");
  CHECK(report::iso8601(t, 6) == "2026-11-26T04:00:00.123456Z");
  CHECK(report::iso8601(t, 0) == "2026-11-26T04:00:00Z");
  // Truncated, not rounded: .999999999 with 3 digits is .999, never the next second.
  CHECK(report::iso8601(utc(2026, 12, 31, 23, 59, 59, 999'999'999), 3) ==
        "2026-12-31T23:59:59.999Z");
  // Leading zeros of the fraction are digits too.
  CHECK(report::iso8601(utc(2000, 1, 2, 3, 4, 5, 6'000), 9) == "2000-01-02T03:04:05.000006000Z");
}

TEST_CASE("iso8601 handles instants before 1970 and the ends of sys_nanoseconds") {
  // Before the Unix epoch the day must be floored, so the time of day stays positive.
  CHECK(report::iso8601(utc(1969, 12, 31, 23, 59, 59, 999'999'999)) ==
        "1969-12-31T23:59:59.999999999Z");
  CHECK(report::iso8601(utc(1900, 1, 1)) == "1900-01-01T00:00:00.000000000Z");
  CHECK(report::iso8601(utc(1899, 12, 31, 12, 0, 0), 0) == "1899-12-31T12:00:00Z");
  // The limits of a 64-bit nanosecond clock (±2^63 ns around 1970), as date(1) prints them.
  CHECK(report::iso8601(proto::sys_nanoseconds::min()) == "1677-09-21T00:12:43.145224192Z");
  CHECK(report::iso8601(proto::sys_nanoseconds::max()) == "2262-04-11T23:47:16.854775807Z");
}

TEST_CASE("signed_seconds always shows a sign; seconds only a minus") {
  CHECK(report::signed_seconds(0.000012345) == "+0.000012345");
  CHECK(report::signed_seconds(-1.5, 3) == "-1.500");
  CHECK(report::signed_seconds(0.0) == "+0.000000000");
  CHECK(report::seconds(0.00003125) == "0.000031250");
  CHECK(report::seconds(-0.25, 2) == "-0.25");
}

TEST_CASE("leap, mode and refid kind names") {
  using proto::association_mode;
  using proto::leap_indicator;
  CHECK(report::leap_name(leap_indicator::none) == "none");
  CHECK(report::leap_name(leap_indicator::add_second) == "add_second");
  CHECK(report::leap_name(leap_indicator::del_second) == "del_second");
  CHECK(report::leap_name(leap_indicator::unsynchronised) == "unsynchronised");
  CHECK(report::mode_name(association_mode::reserved) == "reserved");
  CHECK(report::mode_name(association_mode::symmetric_active) == "symmetric_active");
  CHECK(report::mode_name(association_mode::symmetric_passive) == "symmetric_passive");
  CHECK(report::mode_name(association_mode::client) == "client");
  CHECK(report::mode_name(association_mode::server) == "server");
  CHECK(report::mode_name(association_mode::broadcast) == "broadcast");
  CHECK(report::mode_name(association_mode::control) == "control");
  CHECK(report::mode_name(association_mode::private_use) == "private");
  CHECK(report::refid_kind_name(proto::refid_kind::none) == "none");
  CHECK(report::refid_kind_name(proto::refid_kind::kiss_code) == "kiss_code");
  CHECK(report::refid_kind_name(proto::refid_kind::reference_source) == "reference_source");
  CHECK(report::refid_kind_name(proto::refid_kind::ipv4) == "ipv4");
  CHECK(report::refid_kind_name(proto::refid_kind::ipv6_hash) == "ipv6_hash");
}

TEST_CASE("refid_hex writes the four bytes as one hex number") {
  CHECK(report::refid_hex({0x7f, 0x7f, 0x01, 0x01}) == "0x7f7f0101");
  CHECK(report::refid_hex({0x00, 0x00, 0x00, 0x00}) == "0x00000000");
  CHECK(report::refid_hex({'R', 'A', 'T', 'E'}) == "0x52415445");
}

TEST_CASE("seconds and signed_seconds write exactly what printf's %.*f and %+.*f write") {
  // They use std::to_chars (much cheaper); its result is specified as printf's, and this
  // holds them to it over random values of every magnitude, the halfway cases and the
  // special values.
  const auto printf_of = [](const char* format, int decimals, double v) {
    char buf[512];
    std::snprintf(buf, sizeof buf, format, decimals, v);
    return std::string(buf);
  };
  std::mt19937_64 rng(20261126);
  std::vector<double> values{0.0, -0.0, 0.5, 1.5, 2.5, -2.5, 0.125, 1e-9, 5e-10, 0.0000005,
                             1e300, -1e300, std::numeric_limits<double>::denorm_min(),
                             std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity(),
                             std::numeric_limits<double>::quiet_NaN()};
  for (int i = 0; i < 20000; ++i) {
    const double mantissa = std::uniform_real_distribution<double>(-1, 1)(rng);
    values.push_back(std::ldexp(mantissa, static_cast<int>(rng() % 80) - 60));
  }
  for (const double v : values) {
    for (const int decimals : {0, 1, 2, 3, 6, 9, 12}) {
      CAPTURE(v);
      CAPTURE(decimals);
      REQUIRE(report::seconds(v, decimals) == printf_of("%.*f", decimals, v));
      REQUIRE(report::signed_seconds(v, decimals) == printf_of("%+.*f", decimals, v));
    }
  }
}

TEST_CASE("iso8601 writes what the printf-based form wrote, over the whole range") {
  using namespace std::chrono;
  std::mt19937_64 rng(1677);
  for (int i = 0; i < 20000; ++i) {
    const auto t = proto::sys_nanoseconds(nanoseconds(static_cast<std::int64_t>(rng())));
    const std::int64_t ns_per_day = 86'400'000'000'000;
    std::int64_t day_count = t.time_since_epoch().count() / ns_per_day;
    std::int64_t in_day = t.time_since_epoch().count() % ns_per_day;
    if (in_day < 0) {
      in_day += ns_per_day;
      --day_count;
    }
    const year_month_day ymd{sys_days{days{day_count}}};
    const std::int64_t secs = in_day / 1'000'000'000;
    char expected[64];
    std::snprintf(expected, sizeof expected, "%04d-%02u-%02uT%02d:%02d:%02d.%09lldZ",
                  int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day()),
                  int(secs / 3600), int(secs / 60 % 60), int(secs % 60),
                  static_cast<long long>(in_day % 1'000'000'000));
    REQUIRE(report::iso8601(t) == expected);
    std::string no_fraction(expected, std::strchr(expected, '.'));
    REQUIRE(report::iso8601(t, 0) == no_fraction + "Z");
  }
}
