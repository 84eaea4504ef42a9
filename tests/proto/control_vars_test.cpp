// Tests of proto/control_vars.hpp. Truth: the variable text NTPsec 1.2.2 ntpd sent
// (tests/proto/data/mode6_captures.hpp) and what NTPsec's ntpq printed for it in raw mode
// (`ntpq -c raw -c rv`, shown above each capture), which prints each value as received;
// ntpq's own requests for the name lists.

#include "ntpkit/proto/control_vars.hpp"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "ntpkit/proto/control.hpp"
#include "ntpkit/proto/errc.hpp"
#include "proto/data/mode6_captures.hpp"
#include "support/test_support.hpp"

using namespace ntpkit::proto;
using ntpkit::test::from_hex;
namespace cap = ntpkit::test::mode6;
using bytes = std::vector<std::uint8_t>;

namespace {

// The data of a response: the fragments' count bytes, joined by the reassembler.
bytes response_data(std::initializer_list<cap::datagram> grams) {
  std::optional<control_reassembler> r;
  for (const auto& g : grams) {
    const auto d = from_hex(g.hex);
    const auto h = parse_control_header(d);
    REQUIRE(h);
    if (!r) r.emplace(h->sequence, h->opcode);
    REQUIRE(r->feed(d));
  }
  REQUIRE(r->complete());
  return r->response().data;
}

std::string raw_of(const variable_list& l, std::string_view name) {
  const auto* v = find_variable(l, name);
  REQUIRE(v != nullptr);
  return std::string(v->raw());
}

}  // namespace

TEST_CASE("ntpd's system variables tokenize to what ntpq printed in raw mode, in order") {
  const auto list = parse_variables(response_data({cap::rv_raw[1]}));
  const std::vector<std::pair<std::string, std::string>> expected{
      {"leap", "0"},
      {"stratum", "10"},
      {"precision", "-23"},
      {"rootdelay", "0.000"},
      {"rootdisp", "0.000"},
      {"refid", "127.0.0.1"},
      {"reftime", "0xeebc22cc.02b1128b"},
      {"tc", "3"},
      {"peer", "0"},
      {"offset", "0.000000"},
      {"frequency", "0.000000"},
      {"sys_jitter", "2.310745"},
      {"clk_jitter", "0.000119"},
      {"clock", "0xeebc22e8.b356518b"},
      {"processor", "\"x86_64\""},
      {"system", "\"Linux/6.18.44-fc-v1252\""},
      {"version", "\"ntpd ntpsec-1.2.2\""},
      {"clk_wander", "0.000000"},
      {"mintc", "0"}};
  REQUIRE(list.size() == expected.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    CAPTURE(i);
    CHECK(list[i].first == expected[i].first);
    CHECK(list[i].second.raw() == expected[i].second);
    CHECK(list[i].second.present());
  }
}

TEST_CASE("typed readings of the system variables give ntpq's values") {
  const auto list = parse_variables(response_data({cap::rv_raw[1]}));
  CHECK(*find_variable(list, "stratum")->integer() == 10);
  CHECK(*find_variable(list, "precision")->integer() == -23);
  CHECK(*find_variable(list, "sys_jitter")->number() == doctest::Approx(2.310745));
  CHECK(*find_variable(list, "clk_jitter")->number() == doctest::Approx(0.000119));
  // ntpq (cooked) printed reftime=eebc22cc.02b1128b 2026-12-03T17:18:04.010Z.
  const auto reftime = find_variable(list, "reftime")->ntp_timestamp();
  REQUIRE(reftime);
  CHECK(reftime->seconds() == 0xeebc22cc);
  CHECK(reftime->fraction() == 0x02b1128b);
  CHECK(*find_variable(list, "version")->text() == "ntpd ntpsec-1.2.2");
  CHECK(*find_variable(list, "refid")->text() == "127.0.0.1");
  CHECK(find_variable(list, "nosuch") == nullptr);
}

TEST_CASE("a peer's variables across two fragments keep NTPsec's garbage bytes as they came") {
  // rv-up-raw: filtdisp holds a raw 0x04 byte (ntpq printed it as \x04); filtoffset has 16
  // values, not 8 (PEERS.md quirk 5). Nothing is lost, and the typed reading fails cleanly.
  const auto list = parse_variables(response_data({cap::rv_up_raw[3], cap::rv_up_raw[4]}));
  CHECK(list.size() == 30);
  CHECK(raw_of(list, "srcadr") == "10.66.6.1");
  CHECK(*find_variable(list, "reach")->hex() == 0xf);
  CHECK(*find_variable(list, "reach")->unsigned_integer() == 15);
  const auto rec = find_variable(list, "rec")->ntp_timestamp();
  REQUIRE(rec);
  CHECK(rec->bits() == 0xeebc22ebf3b9122eULL);
  CHECK(*find_variable(list, "ntscookies")->integer() == -1);
  CHECK(*find_variable(list, "flash")->hex() == 0);
  const std::string filtdisp = raw_of(list, "filtdisp");
  CHECK(filtdisp == std::string(" 0.05 0.02 0.03 0.03 0.0\x04 0.00 0.15 0.30 0.36 0.39 0.42 "
                                "0.45 0.48")
                        .substr(1));
  CHECK(find_variable(list, "filtdisp")->number().error() == errc::bad_variable_value);
  CHECK(raw_of(list, "filtoffset").size() == 16 * 5 - 1);
}

TEST_CASE("NMEA clock variables: the quoted time code with its commas is one value") {
  // cv-nmea: ntpq printed timecode="$GPRMC,171849.00,A,...,A*5A", refid=GPS, baddata=1.
  const auto list = parse_variables(response_data({cap::cv_nmea[3]}));
  REQUIRE(list.size() == 10);
  CHECK(list[0].first == "name");
  CHECK(*list[0].second.text() == "NMEA");
  CHECK(list[1].first == "timecode");
  CHECK(*list[1].second.text() ==
        "$GPRMC,171849.00,A,4807.038,N,01131.000,E,0.0,0.0,031226,,,A*5A");
  CHECK(raw_of(list, "refid") == "GPS");
  CHECK(*find_variable(list, "baddata")->unsigned_integer() == 1);
}

TEST_CASE("empty values and random tags of an ordered list are kept") {
  // reslist-md5: "flags.1=," is an empty value; ojj.0, kjf.1, sin.2 are the random 3-letter
  // tags ntpd adds to make clients ignore what they do not know.
  const auto list = parse_variables(response_data({cap::reslist_md5[1], cap::reslist_md5[2]}));
  const auto* flags1 = find_variable(list, "flags.1");
  REQUIRE(flags1 != nullptr);
  CHECK(flags1->present());
  CHECK(flags1->raw().empty());
  CHECK(*flags1->text() == "");
  CHECK(raw_of(list, "ojj.0") == "42303");
  CHECK(raw_of(list, "flags.3") == "noquery nomodify limited kod");
}

TEST_CASE("a bare name, blank items and stray separators are accepted") {
  // ntp_control.c ctl_putstr: "If the string value is empty, no "=" and no value literal is
  // written, just the bare tag".
  const auto list = parse_variables(std::string_view("a=1,, b ,\r\n\r\nc=\"x, y\" ,d=,\r\n"));
  REQUIRE(list.size() == 4);
  CHECK(list[1].first == "b");
  CHECK_FALSE(list[1].second.present());
  CHECK(*list[2].second.text() == "x, y");
  CHECK(list[3].second.present());
  CHECK(list[3].second.raw().empty());
  CHECK(parse_variables(std::string_view("")).empty());
  CHECK(parse_variables(std::string_view(",\r\n, ,")).empty());
}

TEST_CASE("an unterminated quote runs to the end and only its text reading fails") {
  const auto list = parse_variables(std::string_view("x=\"abc, y=2"));
  REQUIRE(list.size() == 1);
  CHECK(list[0].second.raw() == "\"abc, y=2");
  CHECK(list[0].second.text().error() == errc::bad_variable_value);
  CHECK(parse_variables(std::string_view("x=\"a\"b"))[0].second.text().error() ==
        errc::bad_variable_value);
}

TEST_CASE("typed readings refuse what is not of their form") {
  const auto v = [](std::string_view s) { return variable_value(std::string(s), true); };
  CHECK(v("0x7f").hex().value() == 0x7f);
  CHECK(v("0x").hex().error() == errc::bad_variable_value);
  CHECK(v("7f").hex().error() == errc::bad_variable_value);
  CHECK(v("0x11112222333344445").hex().error() == errc::bad_variable_value);
  CHECK(v("12a").integer().error() == errc::bad_variable_value);
  CHECK(v("").integer().error() == errc::bad_variable_value);
  CHECK(v("99999999999999999999").integer().error() == errc::bad_variable_value);
  CHECK(v("-1").unsigned_integer().error() == errc::bad_variable_value);
  CHECK(v("6e-05").number().value() == doctest::Approx(6e-05));
  CHECK(v("+1.5").number().value() == doctest::Approx(1.5));
  CHECK(v("inf").number().error() == errc::bad_variable_value);
  CHECK(v("nan").number().error() == errc::bad_variable_value);
  CHECK(v("0x1p3").number().error() == errc::bad_variable_value);
  CHECK(v("1.5 ").number().error() == errc::bad_variable_value);
  CHECK(v("0xeeb228c7.395e4309").ntp_timestamp()->bits() == 0xeeb228c7395e4309ULL);
  CHECK(v("0xeeb228c7").ntp_timestamp().error() == errc::bad_variable_value);
  CHECK(v("0xeeb228c7.").ntp_timestamp().error() == errc::bad_variable_value);
  CHECK(v("0x123456789.0").ntp_timestamp().error() == errc::bad_variable_value);
  CHECK(v("eeb228c7.395e4309").ntp_timestamp().error() == errc::bad_variable_value);
  CHECK(format_ntp_timestamp(timestamp::from_bits(0x00000001000000abULL)) == "0x00000001.000000ab");
}

TEST_CASE("build_variable_request writes ntpq's name lists byte for byte") {
  // sysstats' first request and authinfo's first request (15 names, 210 bytes).
  const std::vector<std::string> sysstats{"ss_uptime", "ss_numctlreq"};
  const auto first = from_hex(cap::sysstats[0].hex);
  CHECK(*build_variable_request(sysstats) == std::string(first.begin() + 12, first.begin() + 34));
  const auto authinfo = from_hex(cap::authinfo[0].hex);
  const std::string data(authinfo.begin() + 12, authinfo.begin() + 12 + 210);
  const auto names = split_variable_request(data);
  CHECK(names.size() == 15);
  CHECK(names.front() == "authreset");
  CHECK(names.back() == "authkexpired");
  CHECK(*build_variable_request(names) == data);
}

TEST_CASE("asking one name at a time after UNKNOWNVAR gives ntpq's follow-up requests") {
  // authinfo: UNKNOWNVAR for the list, then one READVAR per name, sequence 2..16.
  const auto authinfo = from_hex(cap::authinfo[0].hex);
  const auto names = split_variable_request(
      std::string_view(reinterpret_cast<const char*>(authinfo.data()) + 12, 210));
  for (std::size_t i = 0; i < names.size(); ++i) {
    CAPTURE(names[i]);
    const auto data = build_variable_request(std::span(&names[i], 1));
    REQUIRE(data);
    control_request r;
    r.leap = leap_indicator::unsynchronised;
    r.sequence = static_cast<std::uint16_t>(i + 2);
    r.data.assign(data->begin(), data->end());
    CHECK(*encode_control_request(r) == from_hex(cap::authinfo[2 + 2 * i].hex));
  }
}

TEST_CASE("name lists refuse separators in names and lengths over one datagram") {
  CHECK(build_variable_request(std::vector<std::string>{"a,b"}).error() ==
        errc::bad_variable_value);
  CHECK(build_variable_request(std::vector<std::string>{"a b"}).error() ==
        errc::bad_variable_value);
  CHECK(build_variable_request(std::vector<std::string>{"", "x", ""}).value() == "x");
  std::vector<std::string> many(100, "abcdefgh");  // 100 * 9 - 1 = 899 bytes
  CHECK(build_variable_request(many).error() == errc::control_data_too_long);
  const auto runs = pack_variable_requests(many);
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].size() == 52);  // 52 * 9 - 1 = 467 <= 468
  for (const auto& run : runs) CHECK(build_variable_request(run));
  CHECK(pack_variable_requests(std::vector<std::string>{std::string(500, 'x'), "y"}).size() == 2);
}

TEST_CASE("format_variables and parse_variables round-trip random well-formed lists") {
  const std::uint64_t seed = std::random_device{}();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const std::string name_chars = "abcxyz_.0123[]()";
  const std::string value_chars = "abc019.-:x\x01\xff\x7f=;()";
  for (int round = 0; round < 10000; ++round) {
    variable_list list;
    const int n = static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) {
      std::string name;
      for (int k = 1 + static_cast<int>(rng() % 8); k > 0; --k) {
        name += name_chars[rng() % name_chars.size()];
      }
      std::string value;
      for (int k = static_cast<int>(rng() % 10); k > 0; --k) {
        value += value_chars[rng() % value_chars.size()];
      }
      if (rng() % 3 == 0) value = "\"" + value + ", " + value + "\"";  // quoted, with a comma
      const bool present = rng() % 5 != 0;
      list.emplace_back(name, variable_value(present ? value : "", present));
    }
    const auto text = format_variables(list);
    CAPTURE(text);
    CHECK(parse_variables(text) == list);
  }
}

TEST_CASE("garbage with CR and LF inside a value does not split it: only commas separate") {
  // NTPsec 1.2.2's filtdelay carries raw bytes; seen in CI: a LF among them made the rest of
  // the value a bogus name where ntpq (which splits on commas only) had filtoffset.
  const std::string data =
      "flash=0x0, filtdelay=\x05\n\xd0_ 0.06 0.06\r 0.08,\r\nfiltoffset=0.01 0.02, pmode=4\r\n";
  const auto vars = parse_variables(data);
  REQUIRE(vars.size() == 4);
  CHECK(vars[0].first == "flash");
  CHECK(vars[1].first == "filtdelay");
  CHECK(vars[1].second.raw() == "\x05\n\xd0_ 0.06 0.06\r 0.08");
  CHECK(vars[2].first == "filtoffset");
  CHECK(vars[3].first == "pmode");
  CHECK(vars[3].second.raw() == "4");
  // Answers asked one name at a time end with CR LF and no comma: joined, they still split
  // (control_query joins them with a comma).
  CHECK(parse_variables("a=1\r\n,b=2\r\n").size() == 2);
}
