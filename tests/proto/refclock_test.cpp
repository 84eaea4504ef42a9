// Tests of proto/refclock.hpp. Truth:
// - NTPsec 1.2.2 ntpd's READCLOCK answers for an SHM, an NMEA and a PARSE (Meinberg DCF77
//   PZF5xx, subtype 0) clock fed by tests/tools/mode6_feed.py, with what `ntpq -c cv` printed
//   (tests/proto/data/mode6_captures.hpp);
// - for the Meinberg GPS variables, which need a GPS receiver's binary protocol we could not
//   feed: the example ntp.org documents for driver 8 (nwtime/ntpwww
//   content/en/documentation/drivers/driver8.md, "cv 19557 ..."; the page wraps the output
//   for display, the strings below are unwrapped), and the format strings of ntp.org's
//   refclock_parse.c (gps16x_message, parsestate, l_mktime) where no example exists.

#include "ntpkit/proto/refclock.hpp"

#include <doctest/doctest.h>

#include "ntpkit/proto/control.hpp"
#include "ntpkit/proto/errc.hpp"
#include "proto/data/mode6_captures.hpp"
#include "support/test_support.hpp"

using namespace ntpkit::proto;
using ntpkit::test::from_hex;
namespace cap = ntpkit::test::mode6;

namespace {

variable_list clock_variables(const std::vector<cap::datagram>& grams) {
  control_reassembler r(2, control_opcode::read_clock);
  for (const auto& g : grams) REQUIRE(r.feed(from_hex(g.hex)));
  REQUIRE(r.complete());
  return parse_variables(r.response().data);
}

std::string text_of(const variable_list& l, std::string_view name) {
  const auto* v = find_variable(l, name);
  REQUIRE(v != nullptr);
  const auto t = v->text();
  REQUIRE(t);
  return *t;
}

}  // namespace

TEST_CASE("the SHM clock's generic variables are what ntpq printed") {
  // cv-shm: name="SHM", timecode="1796318324.012052608", poll=6, noreply=0, badformat=0,
  // baddata=0, stratum=0, refid=SHM7, flags=0, device="SHM/Shared memory interface".
  const auto g = decode_refclock_generic(clock_variables({cap::cv_shm[3]}));
  CHECK(g.name == "SHM");
  CHECK(g.timecode == "1796318324.012052608");
  CHECK(g.poll == 6u);
  CHECK(g.noreply == 0u);
  CHECK(g.badformat == 0u);
  CHECK(g.baddata == 0u);
  CHECK(g.stratum == 0);
  CHECK(g.refid == "SHM7");
  CHECK(g.flags == 0u);
  CHECK(g.device == "SHM/Shared memory interface");
  CHECK_FALSE(g.fudgetime1_ms);
  CHECK_FALSE(g.type);
  CHECK(g.malformed.empty());
}

TEST_CASE("the Meinberg clock's generic variables include the driver's fudge time1 in ms") {
  // cv-parse: fudgetime1=1.968, refid=DCFp, device="Meinberg DCF PZF 535/509 / TCXO".
  const auto list = clock_variables({cap::cv_parse[3]});
  const auto g = decode_refclock_generic(list);
  CHECK(g.name == "MEINBERG_5XX");
  REQUIRE(g.fudgetime1_ms);
  CHECK(*g.fudgetime1_ms == doctest::Approx(1.968));
  CHECK(g.refid == "DCFp");
  CHECK(g.device == "Meinberg DCF PZF 535/509 / TCXO");
  // ntpd escapes the control characters of the time code itself: \x02 ... \x03 as text.
  CHECK(g.timecode == "\\x02D:03.12.26;T:4;U:18.18.54;    \\x03");
  CHECK(text_of(list, "refclock_format") == "Meinberg Standard");
}

TEST_CASE("a generic variable of the wrong form is named, not guessed") {
  const auto g = decode_refclock_generic(
      parse_variables(std::string_view("poll=x, stratum=1, name=\"NMEA, fudgetime2=1e")));
  CHECK_FALSE(g.poll);
  CHECK(g.stratum == 1);
  CHECK(g.malformed == std::vector<std::string>{"poll", "name"});
}

TEST_CASE("refclock_status words decode to flags and capabilities, for each captured state") {
  struct row {
    std::vector<cap::datagram> d;
    std::uint32_t flags;
  };
  using f = parse_flag;
  const auto bits = [](std::initializer_list<parse_flag> l) {
    std::uint32_t b = 0;
    for (auto x : l) b |= static_cast<std::uint32_t>(x);
    return b;
  };
  // cv-parse: "TIME CODE; (LEAP INDICATION)"; cv-parse-dst ('S!'): "DST SWITCH WARNING; DST;
  // TIME CODE; (LEAP INDICATION)"; cv-parse-leap ('UA'): "UTC DISPLAY; LEAP ADD WARNING; TIME
  // CODE; (LEAP INDICATION)".
  for (const auto& [d, expected] :
       {row{{cap::cv_parse[3]}, bits({f::time_code})},
        row{{cap::cv_parse_dst[3]}, bits({f::dst_switch_warning, f::dst, f::time_code})},
        row{{cap::cv_parse_leap[3], cap::cv_parse_leap[4]},
            bits({f::utc_display, f::leap_add_warning, f::time_code})}}) {
    const auto list = clock_variables(d);
    const auto s = decode_parse_status(text_of(list, "refclock_status"));
    REQUIRE(s);
    CHECK(s->flags == expected);
    CHECK(s->capabilities == static_cast<std::uint32_t>(parse_capability::leap_indication));
    CHECK(s->unknown.empty());
  }
}

TEST_CASE("a two-fragment answer: not synchronised, and the FAULT state current") {
  // cv-parse-nosync ('#*'): refclock_status="NOT SYNCHRONIZED; TIME CODE NOT CONFIRMED; TIME
  // CODE; (LEAP INDICATION)", refclock_states="NOMINAL: 00:02:01 (85.81%); *FAULT: 00:00:20
  // (14.18%); running time: 00:02:21", status=0013 ("1 event, clk_fault").
  const auto list = clock_variables({cap::cv_parse_nosync[3], cap::cv_parse_nosync[4]});
  const auto s = decode_parse_status(text_of(list, "refclock_status"));
  REQUIRE(s);
  CHECK(s->has(parse_flag::not_synchronized));
  CHECK(s->has(parse_flag::time_code_not_confirmed));
  CHECK(s->has(parse_flag::time_code));
  CHECK_FALSE(s->has(parse_flag::dst));
  const auto st = decode_parse_states(text_of(list, "refclock_states"));
  REQUIRE(st);
  REQUIRE(st->states.size() == 2);
  CHECK(st->states[0].state == "NOMINAL");
  CHECK(st->states[0].seconds == 121);
  CHECK(st->states[0].percent_hundredths == 8581);
  CHECK_FALSE(st->states[0].current);
  CHECK(st->states[1].state == "FAULT");
  CHECK(st->states[1].seconds == 20);
  CHECK(st->states[1].percent_hundredths == 1418);
  REQUIRE(st->current() != nullptr);
  CHECK(st->current()->state == "FAULT");
  CHECK(st->running_seconds == 141);
}

TEST_CASE("a single nominal state at 100 percent") {
  const auto list = clock_variables({cap::cv_parse[3]});
  const auto st = decode_parse_states(text_of(list, "refclock_states"));
  REQUIRE(st);
  REQUIRE(st->states.size() == 1);
  CHECK(st->states[0].current);
  CHECK(st->states[0].percent_hundredths == 10000);
  CHECK(st->states[0].seconds == 53);
  CHECK(st->running_seconds == 53);
}

TEST_CASE("ntp.org's documented Meinberg GPS clock variables decode") {
  const auto s = decode_parse_status(
      "UTC DISPLAY; TIME CODE; PPS; POSITION; (LEAP INDICATION; PPS SIGNAL; POSITION)");
  REQUIRE(s);
  CHECK(s->has(parse_flag::utc_display));
  CHECK(s->has(parse_flag::pps));
  CHECK(s->has(parse_flag::position));
  CHECK(s->has(parse_capability::pps_signal));
  CHECK(s->has(parse_capability::position));
  CHECK_FALSE(s->has(parse_capability::callbit));
  const auto st = decode_parse_states(
      "*NOMINAL: 21:21:36 (99.99%); FAULT: 00:00:03 (0.00%); running time: 21:21:39");
  REQUIRE(st);
  CHECK(st->states[0].seconds == 21 * 3600 + 21 * 60 + 36);
  CHECK(st->states[1].percent_hundredths == 0);
  CHECK(st->running_seconds == 21 * 3600 + 21 * 60 + 39);
  const auto gps = decode_meinberg_gps_status("[0x0000] <OK>");
  REQUIRE(gps);
  CHECK(gps->ok);
  CHECK(gps->word == 0);
  CHECK(gps->flags == 0);
  const auto ant = decode_meinberg_antenna_status(
      "RECONNECTED on 2006-07-18 08:13:20.0000000 (+0000) UTC CORR, LOCAL TIME, reconnect "
      "clockoffset +0.0000000 s, disconnect time 0000-00-00 00:00:00.0000000 (+0000) ");
  CHECK(ant.state == antenna_state::reconnected);
  CHECK(ant.detail.starts_with("2006-07-18 08:13:20"));
  CHECK(ant.detail.ends_with("(+0000)"));
}

TEST_CASE("Meinberg GPS flag words and antenna states as refclock_parse.c writes them") {
  // "[0x%04x] " then the words of the set status bits joined by ", ".
  const auto gps = decode_meinberg_gps_status("[0x0005] ANTENNA FAULTY, NO SYNC POWERUP");
  REQUIRE(gps);
  CHECK(gps->word == 5);
  CHECK_FALSE(gps->ok);
  CHECK(gps->flags == (static_cast<std::uint32_t>(meinberg_gps_flag::antenna_faulty) |
                       static_cast<std::uint32_t>(meinberg_gps_flag::no_sync_powerup)));
  const auto newer = decode_meinberg_gps_status("[0x0000] <OK> (incomplete: Almanachs)");
  REQUIRE(newer);
  CHECK(newer->ok);
  CHECK(newer->unknown == std::vector<std::string>{"(incomplete: Almanachs)"});
  CHECK(decode_meinberg_gps_status("0x0000 <OK>").error() == errc::bad_refclock_value);
  CHECK(decode_meinberg_gps_status("[0xZZ] <OK>").error() == errc::bad_refclock_value);
  CHECK(decode_meinberg_antenna_status("<OK>").state == antenna_state::ok);
  const auto dis = decode_meinberg_antenna_status("DISCONNECTED since 2006-07-18 08:13:20");
  CHECK(dis.state == antenna_state::disconnected);
  CHECK(dis.detail == "2006-07-18 08:13:20");
  CHECK(decode_meinberg_antenna_status("bad status 0x0007").state == antenna_state::bad_status);
  CHECK(decode_meinberg_antenna_status("weird").state == antenna_state::unknown);
}

TEST_CASE("older drivers' words, days in state times, and unknown words are kept") {
  // ntp.org 4.2.4's parsestate(): "ALTERNATE ANTENNA", capability "ANTENNA"; l_mktime()
  // writes "%ldd+" before HH:MM:SS after a day.
  const auto s = decode_parse_status("ALTERNATE ANTENNA; TIME CODE; FROB; (ANTENNA; CALLBIT)");
  REQUIRE(s);
  CHECK(s->has(parse_flag::alternate_antenna));
  CHECK(s->has(parse_capability::antenna));
  CHECK(s->has(parse_capability::callbit));
  CHECK(s->unknown == std::vector<std::string>{"FROB"});
  const auto st = decode_parse_states(
      "*NOMINAL: 1d+00:43:00 (99.54%); NO RESPONSE: 00:06:40 (0.45%); running time: "
      "1d+00:49:40");
  REQUIRE(st);
  CHECK(st->states[0].seconds == 86400 + 43 * 60);
  CHECK(st->states[1].state == "NO RESPONSE");
  CHECK(st->running_seconds == 86400 + 49 * 60 + 40);
  CHECK(decode_parse_status("").value().flags == 0);
  CHECK(decode_parse_status("(LEAP INDICATION)").value().capabilities != 0);
}

TEST_CASE("malformed status and state texts fail cleanly") {
  CHECK(decode_parse_status("TIME CODE; (LEAP").error() == errc::bad_refclock_value);
  CHECK(decode_parse_status("TIME CODE; (A) (B)").error() == errc::bad_refclock_value);
  CHECK(decode_parse_status("(A) TIME CODE").error() == errc::bad_refclock_value);
  CHECK(decode_parse_states("*NOMINAL: 00:00:53 (100.00%)").error() == errc::bad_refclock_value);
  CHECK(decode_parse_states("NOMINAL 00:00:53; running time: 00:00:53").error() ==
        errc::bad_refclock_value);
  CHECK(decode_parse_states("NOMINAL: 00:61:00 (1.00%); running time: 00:00:01").error() ==
        errc::bad_refclock_value);
  CHECK(decode_parse_states("running time: 00:00:01; NOMINAL: 00:00:01 (1.00%)").error() ==
        errc::bad_refclock_value);
  CHECK(decode_parse_states("NOMINAL: 00:00:01 (1.5%); running time: 00:00:01").error() ==
        errc::bad_refclock_value);
  CHECK(to_string(parse_flag::call_bit) == "CALL BIT");
  CHECK(to_string(parse_capability::leap_indication) == "LEAP INDICATION");
}
