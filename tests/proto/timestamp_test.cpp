#include "ntpkit/proto/timestamp.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <random>

#include "support/test_support.hpp"

using namespace ntpkit::proto;
using ntpkit::test::utc;
using std::chrono::seconds;

namespace {

constexpr std::uint64_t ns_per_s = 1'000'000'000;
constexpr std::int64_t era_s = std::int64_t{1} << 32;

// Seconds since 1900-01-01 of a calendar day, computed with <chrono> alone (not with the
// library), so that rows of RFC 5905 Figure 4 outside sys_nanoseconds' range can be checked.
std::int64_t seconds_since_1900(std::chrono::year_month_day ymd) {
  return std::int64_t{std::chrono::sys_days{ymd}.time_since_epoch().count()} * 86'400 +
         2'208'988'800;
}

}  // namespace

TEST_CASE("the 2036 era boundary is era 1, offset 0") {
  // RFC 5905 Figure 4 / RFC 4330 §3: era 1 begins 2036-02-07T06:28:16Z (Unix 2085978496).
  // Pins that the boundary instant belongs to the new era, not to the end of era 0.
  CHECK(utc(2036, 2, 7, 6, 28, 16).time_since_epoch() == seconds{2'085'978'496});
  const auto d = date::from_sys_time(utc(2036, 2, 7, 6, 28, 16));
  CHECK(d.era() == 1);
  CHECK(d.seconds() == era_s);
  CHECK(d.to_timestamp().bits() == 0);
}

TEST_CASE("the last instant of era 0 is 0xffffffff.fffffffc and does not round into era 1") {
  // One second before the boundary is era 0, offset 2^32 - 1 (ntpsec tests/pylib/test_packet.py
  // "the End of Time": 0xffffffff00000000 is Unix 2085978495). Rounding the fraction up from
  // 999999999 ns must stay inside the second: 0xfffffffc, not a carry into era 1.
  const auto last_second = date::from_sys_time(utc(2036, 2, 7, 6, 28, 15));
  CHECK(last_second.era() == 0);
  CHECK(last_second.to_timestamp().bits() == 0xffff'ffff'0000'0000u);
  const auto last_ns = date::from_sys_time(utc(2036, 2, 7, 6, 28, 15, 999'999'999));
  CHECK(last_ns.era() == 0);
  CHECK(last_ns.to_timestamp().bits() == 0xffff'ffff'ffff'fffcu);
}

TEST_CASE("1900-01-01 is era 0 offset 0 and the day before is era -1") {
  // RFC 5905 Figure 4 rows "1 Jan 1900" (era 0, offset 0) and "31 Dec 1899" (era -1,
  // offset 4,294,880,896). Pins floor semantics of the era for negative seconds.
  const auto epoch = date::from_sys_time(utc(1900, 1, 1));
  CHECK(epoch.era() == 0);
  CHECK(epoch.seconds() == 0);
  CHECK(epoch.to_timestamp().is_zero());  // the prime epoch's timestamp is also "unset"

  const auto day_before = date::from_sys_time(utc(1899, 12, 31));
  CHECK(day_before.era() == -1);
  CHECK(day_before.seconds() == -86'400);
  CHECK(day_before.to_timestamp().seconds() == 4'294'880'896u);

  // Half a second before 1900: era -1, the very last second of that era plus 0.5.
  const auto half = date::from_sys_time(utc(1899, 12, 31, 23, 59, 59, 500'000'000));
  CHECK(half.era() == -1);
  CHECK(half.to_timestamp().bits() == 0xffff'ffff'8000'0000u);
  CHECK(half.to_sys_time() == utc(1899, 12, 31, 23, 59, 59, 500'000'000));
}

TEST_CASE("dates before 1970 use floor division of the nanoseconds") {
  // Unix time is negative before 1970; the NTP fraction must still be the part of the second
  // after the floor, not a negative remainder.
  const auto d = date::from_sys_time(utc(1969, 12, 31, 23, 59, 59, 999'999'999));
  CHECK(d.seconds() == 2'208'988'799);
  CHECK(d.fraction() == 0xffff'fffcu);
  CHECK(d.to_sys_time() == utc(1969, 12, 31, 23, 59, 59, 999'999'999));

  // The most significant bit of the seconds is set from 1968-01-20T03:14:08Z, NTP second
  // 2^31 = Unix -61505152 (RFC 4330 §3's "1968-2036" range; checked with date(1)).
  CHECK(utc(1968, 1, 20, 3, 14, 8).time_since_epoch() == seconds{-61'505'152});
  const auto msb = date::from_sys_time(utc(1968, 1, 20, 3, 14, 8));
  CHECK(msb.era() == 0);
  CHECK(msb.to_timestamp().bits() == 0x8000'0000'0000'0000u);
}

TEST_CASE("2038-01-19T03:14:08Z (Unix 2^31) is era 1 offset 61505152") {
  // The 32-bit time_t rollover is in NTP era 1: 2^31 + 2208988800 - 2^32 = 61505152
  // = 0x03aa7e80. Pins that 2038 is not confused with the NTP era boundary.
  const auto d = date::from_sys_time(utc(2038, 1, 19, 3, 14, 8));
  CHECK(d.era() == 1);
  CHECK(d.to_timestamp().bits() == 0x03aa'7e80'0000'0000u);
  CHECK(to_sys_time(d.to_timestamp()) == utc(2038, 1, 19, 3, 14, 8));
}

TEST_CASE("RFC 5905 Figure 4 rows give their era and era offset") {
  // RFC 5905 §6 Figure 4 "Interesting Historic NTP Dates", proleptic Gregorian, transcribed.
  // Two errata (noted on the LEAPSECS list in 2016; recomputed with Python datetime):
  // the row "1 Jan 1" prints era offset 202,939,144 where the date gives 202,934,144 (5000 s
  // off; the corrected value is below), and the row "1 Jan 0" prints MJD -678,491 for
  // -678,941 (the MJD is not tested). The first row is Julian Day 0, Julian 1 Jan 4713 BCE,
  // which is proleptic Gregorian 24 Nov -4713 (astronomical year numbering, as <chrono>).
  using namespace std::chrono;
  struct row {
    year_month_day date;
    std::int32_t era;
    std::uint32_t offset;
  };
  const row rows[] = {
      {year{-4713} / November / 24, -49, 1'795'583'104},
      {year{-1} / January / 1, -14, 139'775'744},
      {year{0} / January / 1, -14, 171'311'744},
      {year{1} / January / 1, -14, 202'934'144},  // erratum: RFC prints 202,939,144
      {year{1582} / October / 4, -3, 2'873'647'488},
      {year{1582} / October / 15, -3, 2'874'597'888},
      {year{1899} / December / 31, -1, 4'294'880'896},
      {year{1900} / January / 1, 0, 0},
      {year{1970} / January / 1, 0, 2'208'988'800},
      {year{1972} / January / 1, 0, 2'272'060'800},
      {year{1999} / December / 31, 0, 3'155'587'200},
      {year{2036} / February / 8, 1, 63'104},
  };
  for (const auto& r : rows) {
    CAPTURE(static_cast<int>(r.date.year()));
    CAPTURE(static_cast<unsigned>(r.date.month()));
    const std::int64_t s = seconds_since_1900(r.date);
    const auto d = date::from_parts(s, 0);
    CHECK(d.era() == r.era);
    CHECK(d.to_timestamp().seconds() == r.offset);
    CHECK(s == std::int64_t{r.era} * era_s + r.offset);
    // Rows inside sys_nanoseconds' range (1678..2262) also go through the clock conversion.
    if (r.date.year() >= year{1678}) {
      const auto from_clock = date::from_sys_time(sys_days{r.date});
      CHECK(from_clock == d);
      CHECK(from_clock.to_sys_time() == sys_days{r.date});
    }
  }
}

TEST_CASE("published timestamp vectors convert to their calendar time") {
  // ntpsec tests/libntp/prettydate.c ConstantDate: cfba1ce0.80000000 is
  // 2010-06-09T14:00:00.500Z.
  CHECK(to_sys_time(timestamp::from_bits(0xcfba'1ce0'8000'0000u)) ==
        utc(2010, 6, 9, 14, 0, 0, 500'000'000));
  // An era 1 instant: 2040-03-01T00:00:00Z is NTP second 4423161600, on the wire 0x07a41700;
  // read with a 1900 pivot it would be 1904.
  CHECK(to_sys_time(timestamp::from_parts(0x07a4'1700, 0)) == utc(2040, 3, 1));
  CHECK(to_sys_time(timestamp::from_parts(0x07a4'1700, 0), utc(1900, 1, 1)) ==
        utc(1904, 1, 24, 17, 31, 44));
}

TEST_CASE("fraction conversion rounds up from ns and down to ns at the last bit") {
  // STYLE.md §4: frac = ceil(ns * 2^32 / 10^9), ns = floor(frac * 10^9 / 2^32).
  // 1 ns is 4.294967296 units: rounds up to 5; 5 units are 1.16 ns: down to 1.
  CHECK(fraction_from_ns(0) == 0u);
  CHECK(fraction_from_ns(1) == 5u);
  // ntpd-rs test_timestamp_from_seconds_nanos: half a second is 0x80000000.
  CHECK(fraction_from_ns(500'000'000) == 0x8000'0000u);
  CHECK(fraction_from_ns(999'999'999) == 0xffff'fffcu);  // 4294967291.705 rounds up
  CHECK(ns_from_fraction(0) == 0u);
  CHECK(ns_from_fraction(1) == 0u);
  CHECK(ns_from_fraction(4) == 0u);  // 0.93 ns
  CHECK(ns_from_fraction(5) == 1u);  // 1.16 ns
  CHECK(ns_from_fraction(0x8000'0000u) == 500'000'000u);
  CHECK(ns_from_fraction(0xffff'ffffu) == 999'999'999u);  // 999999999.77 never reaches 10^9
  // Through the calendar type: 1 ns after a whole second is fraction 5.
  CHECK(date::from_sys_time(utc(2024, 1, 1, 0, 0, 0, 1)).fraction() == 5u);
}

TEST_CASE("every nanosecond value survives ns -> fraction -> ns (seeded property)") {
  // The fraction is the least one at or above ns (rounded up) and reading it back floors to
  // exactly ns; any fraction reads back below 10^9.
  const std::uint64_t seed = 0x6e74'706b'6974'0001u;
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::uint32_t> any_ns(0, 999'999'999);
  std::uniform_int_distribution<std::uint32_t> any_fraction;
  for (int i = 0; i < 100'000; ++i) {
    constexpr std::array<std::uint32_t, 3> edges{0, 1, 999'999'999};
    const std::uint32_t ns = i < 3 ? edges[static_cast<std::size_t>(i)] : any_ns(rng);
    CAPTURE(ns);
    const std::uint32_t f = fraction_from_ns(ns);
    REQUIRE(ns_from_fraction(f) == ns);
    REQUIRE(std::uint64_t{f} * ns_per_s >= std::uint64_t{ns} << 32);  // rounded up
    const bool least = f == 0 || std::uint64_t{f - 1} * ns_per_s < std::uint64_t{ns} << 32;
    REQUIRE(least);

    const std::uint32_t fraction = i == 0 ? 0xffff'ffffu : any_fraction(rng);
    CAPTURE(fraction);
    const std::uint64_t back = ns_from_fraction(fraction);
    REQUIRE(back < ns_per_s);
    REQUIRE((back << 32) <= std::uint64_t{fraction} * ns_per_s);  // rounded down
    REQUIRE(std::uint64_t{fraction} * ns_per_s < ((back + 1) << 32));
  }
}

TEST_CASE("to_sys_time places a timestamp in the 136-year window that starts at the pivot") {
  // RFC 5905 §6 leaves the era to the reader; the default window 1970..2106 (beevik) puts 0
  // at the start of era 1, not at 1900. Pins the default pivot and the "at or after" rule.
  CHECK(to_sys_time(timestamp{}) == utc(2036, 2, 7, 6, 28, 16));
  CHECK(to_sys_time(timestamp::from_parts(2'208'988'800u, 0)) == utc(1970, 1, 1));
  // The last instant of the default window; 0xffffffff units read back as 999999999 ns.
  CHECK(to_sys_time(timestamp::from_parts(2'208'988'799u, 0xffff'ffffu)) ==
        utc(2106, 2, 7, 6, 28, 15, 999'999'999));

  const auto pivot_1900 = utc(1900, 1, 1);
  CHECK(to_sys_time(timestamp{}, pivot_1900) == utc(1900, 1, 1));
  CHECK(to_sys_time(timestamp::from_parts(0xffff'ffffu, 0), pivot_1900) ==
        utc(2036, 2, 7, 6, 28, 15));

  // With a 2000 pivot, 1999-12-31 (3155587200) is read one era later.
  const auto pivot_2000 = utc(2000, 1, 1);
  CHECK(to_sys_time(timestamp::from_parts(3'155'673'600u, 0), pivot_2000) == utc(2000, 1, 1));
  CHECK(to_sys_time(timestamp::from_parts(3'155'587'200u, 0), pivot_2000) ==
        utc(1999, 12, 31) + seconds{era_s});

  // A pivot inside a second: a timestamp half a second before it goes to the next era.
  const auto half_past_1970 = utc(1970, 1, 1, 0, 0, 0, 500'000'000);
  CHECK(to_sys_time(timestamp::from_parts(2'208'988'800u, 0x8000'0000u), half_past_1970) ==
        half_past_1970);
  CHECK(to_sys_time(timestamp::from_parts(2'208'988'800u, 0), half_past_1970) ==
        utc(2106, 2, 7, 6, 28, 16));

  // Beyond sys_nanoseconds (year 2262) the result saturates instead of wrapping.
  CHECK(to_sys_time(timestamp{}, utc(2200, 1, 1)) == sys_nanoseconds::max());
}

TEST_CASE("resolve_near picks the era within half an era of the reference date") {
  // RFC 4330 §3 style: a client near the 2036 rollover reads small server seconds as era 1,
  // and a client just after it reads large ones as era 0.
  const auto before = date::from_sys_time(utc(2036, 2, 7, 6, 28, 10));  // era 0, 0xfffffffa
  const auto r1 = resolve_near(timestamp::from_parts(5, 0), before);
  CHECK(r1.era() == 1);
  CHECK(r1.seconds() == era_s + 5);

  const auto after = date::from_parts(era_s + 10, 0);
  const auto r0 = resolve_near(timestamp::from_parts(0xffff'fff0u, 0x1234u), after);
  CHECK(r0.era() == 0);
  CHECK(r0.seconds() == 0xffff'fff0);
  CHECK(r0.fraction() == 0x1234u);

  // Near 1900 a large value lies in era -1 (before 1900).
  const auto r_neg = resolve_near(timestamp::from_parts(0xffff'fff0u, 0), date::from_parts(10, 0));
  CHECK(r_neg.era() == -1);
  CHECK(r_neg.seconds() == -16);

  // Exactly half an era ahead is ambiguous: the wrapping difference is INT64_MIN, so it is
  // placed half an era behind. One unit less is ahead.
  const auto origin = date::from_parts(0, 0);
  CHECK(resolve_near(timestamp::from_parts(0x8000'0000u, 0), origin).seconds() == -(era_s / 2));
  const auto just_ahead = resolve_near(timestamp::from_bits(0x7fff'ffff'ffff'ffffu), origin);
  CHECK(just_ahead.seconds() == era_s / 2 - 1);
  CHECK(just_ahead.fraction() == 0xffff'ffffu);
}

TEST_CASE("resolve_from gives the first date at or after the window start") {
  const auto era1 = date::from_parts(era_s, 0);
  CHECK(resolve_from(timestamp{}, era1).seconds() == era_s);
  CHECK(resolve_from(timestamp::from_bits(~std::uint64_t{0}), era1).seconds() ==
        era_s + 0xffff'ffff);

  // The window start's fraction counts: 0.0 is before 0.5, so it goes one era later.
  const auto half = date::from_parts(0, 0x8000'0000u);
  CHECK(resolve_from(timestamp{}, half).seconds() == era_s);
  CHECK(resolve_from(timestamp::from_parts(0, 0x8000'0000u), half) == half);

  // A window starting in era -1 (1800): 0 is 1900, 0xffffffff is 1899-12-31T23:59:59.
  const auto w1800 = date::from_sys_time(utc(1800, 1, 1));
  CHECK(w1800.era() == -1);
  CHECK(resolve_from(timestamp{}, w1800).to_sys_time() == utc(1900, 1, 1));
  CHECK(resolve_from(timestamp::from_parts(0xffff'ffffu, 0), w1800).to_sys_time() ==
        utc(1899, 12, 31, 23, 59, 59));
}

TEST_CASE("timestamp differences wrap across the era boundary") {
  // ntpd-rs time_types.rs test_timestamp_era_change: 0x1 - 0xffffffffffffffff = +2 units.
  const auto a = timestamp::from_bits(1);
  const auto b = timestamp::from_bits(~std::uint64_t{0});
  CHECK((a - b).bits() == 2);
  CHECK((b - a).bits() == -2);
  // Adding 2 s to the last second of era 0 wraps to second 1 of era 1.
  CHECK(timestamp::from_parts(0xffff'ffffu, 0) + duration::from_ns(2'000'000'000) ==
        timestamp::from_parts(1, 0));
}

TEST_CASE("duration from_ns rounds away from zero and to_ns toward zero, keeping the sign") {
  // The rounding is symmetric in the sign: -1 ns is -5 units, not -4 (floor of a two's
  // complement value would differ).
  CHECK(duration::from_ns(0).bits() == 0);
  CHECK(duration::from_ns(1).bits() == 5);
  CHECK(duration::from_ns(-1).bits() == -5);
  CHECK(duration::from_ns(1'500'000'000).bits() == (std::int64_t{1} << 32) + 0x8000'0000);
  CHECK(duration::from_ns(-1'500'000'000).bits() == -((std::int64_t{1} << 32) + 0x8000'0000));
  CHECK(duration::from_ns(-999'999'999).bits() == -0xffff'fffcLL);

  CHECK(duration::from_bits(5).to_ns() == 1);
  CHECK(duration::from_bits(-5).to_ns() == -1);
  CHECK(duration::from_bits(4).to_ns() == 0);
  CHECK(duration::from_bits(-4).to_ns() == 0);
  CHECK(duration::from_bits(-1).to_ns() == 0);
  CHECK(duration::from_bits(-(std::int64_t{1} << 32)).to_ns() == -1'000'000'000);
  CHECK(duration::from_bits(-(std::int64_t{1} << 32) - 1).to_ns() == -1'000'000'000);
  CHECK(duration::from_bits(std::numeric_limits<std::int64_t>::min()).to_ns() ==
        -(std::int64_t{1} << 31) * 1'000'000'000);
}

TEST_CASE("signed nanoseconds survive from_ns -> to_ns (seeded property)") {
  const std::uint64_t seed = 0x6e74'706b'6974'0002u;
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  // |ns| below 2^31 s: the range a 32.32 duration holds.
  const std::int64_t limit = ((std::int64_t{1} << 31) - 1) * 1'000'000'000;
  std::uniform_int_distribution<std::int64_t> any(-limit, limit);
  for (int i = 0; i < 100'000; ++i) {
    const std::int64_t ns = any(rng);
    CAPTURE(ns);
    const auto d = duration::from_ns(ns);
    REQUIRE(d.to_ns() == ns);
    REQUIRE((d.bits() < 0) == (ns < 0));
  }
}

TEST_CASE("midpoint is the floor of the mean without overflow at the extremes") {
  // RFC 5905 §8's offset is (a + b) / 2; a + b overflows 64 bits when both are large.
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  constexpr auto min = std::numeric_limits<std::int64_t>::min();
  const auto mid = [](std::int64_t a, std::int64_t b) {
    return midpoint(duration::from_bits(a), duration::from_bits(b)).bits();
  };
  CHECK(mid(max, max) == max);
  CHECK(mid(min, min) == min);
  CHECK(mid(max, min) == -1);  // floor(-0.5)
  CHECK(mid(min, max) == -1);
  CHECK(mid(max, max - 1) == max - 1);
  CHECK(mid(min, min + 1) == min);
  CHECK(mid(-1, 0) == -1);
  CHECK(mid(1, 0) == 0);
  CHECK(mid(3, 4) == 3);
  CHECK(mid(-3, -4) == -4);
  CHECK(mid(-3, -3) == -3);

  // Property: equal to floor((a + b) / 2) computed in 128 bits.
  const std::uint64_t seed = 0x6e74'706b'6974'0003u;
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 100'000; ++i) {
    const auto a = static_cast<std::int64_t>(rng());
    const auto b = static_cast<std::int64_t>(rng());
    CAPTURE(a);
    CAPTURE(b);
    __extension__ typedef __int128 i128;
    REQUIRE(mid(a, b) == static_cast<std::int64_t>((i128{a} + i128{b}) >> 1));
  }
}

TEST_CASE("short format widens to 32.32 exactly and stays unsigned") {
  // RFC 5905 §6 short format is unsigned 16.16: 0x00010000 is 1 s; 0xffffffff is just under
  // 65536 s and must not turn negative when widened.
  CHECK(short_duration::from_bits(0x0001'0000u).to_duration().bits() == std::int64_t{1} << 32);
  CHECK(short_duration::from_bits(0x0000'0001u).to_duration().bits() == std::int64_t{1} << 16);
  CHECK(short_duration::from_bits(0xffff'ffffu).to_duration().bits() == 0xffff'ffff'0000LL);
  CHECK(short_duration::from_bits(0x0000'8000u).to_duration().to_seconds() == 0.5);
}

TEST_CASE("to_seconds scales by 2^-32 and from_log2 saturates") {
  // ntpd-rs divides by u32::MAX and gets 1.000000000233 for 1 s; STYLE.md §4 forbids that.
  CHECK(duration::from_bits(std::int64_t{1} << 32).to_seconds() == 1.0);
  CHECK(duration::from_bits(-(std::int64_t{1} << 31)).to_seconds() == -0.5);
  CHECK(duration::from_log2(0).bits() == std::int64_t{1} << 32);
  CHECK(duration::from_log2(-20).bits() == std::int64_t{1} << 12);
  CHECK(duration::from_log2(-32).bits() == 1);
  CHECK(duration::from_log2(-33).bits() == 0);
  CHECK(duration::from_log2(30).bits() == std::int64_t{1} << 62);
  CHECK(duration::from_log2(127).bits() == std::int64_t{1} << 62);
}
