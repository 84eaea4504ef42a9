// Tests of proto/cmdmon.hpp: chrony's Float, Timespec and IPAddr, the codes' names, request
// encoding and lengths, the reply header. Truth: chrony's candm.h and util.c (4.3..4.8, read in
// source), and the requests chronyc 4.3 sent to chronyd 4.3 (cmdmon_captured.hpp).

#include "ntpkit/proto/cmdmon.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "ntpkit/proto/bytes.hpp"
#include "ntpkit/proto/errc.hpp"
#include "proto/cmdmon_captured.hpp"
#include "support/test_support.hpp"

using namespace ntpkit::proto;
using namespace ntpkit::proto::cmdmon;
using ntpkit::test::from_hex;
namespace cap = ntpkit::test::cmdmon_captured;

namespace {

using bytes = std::vector<std::uint8_t>;

// The Float's value by util.c's definition, computed independently of float32: the top 7 bits
// are the exponent, the low 25 the coefficient, both two's complement; coef × 2^(exp − 25).
double chrony_formula(std::uint32_t bits) {
  int exp = static_cast<int>(bits >> 25);
  if (exp >= 64) exp -= 128;
  std::int64_t coef = bits & 0x1ffffff;
  if (coef >= (1 << 24)) coef -= 1 << 25;
  return std::ldexp(static_cast<double>(coef), exp - 25);
}

bytes request_bytes(const cap::exchange& e, std::size_t n) {
  std::size_t seen = 0;
  for (const auto& d : e.datagrams) {
    if (!d.from_server && seen++ == n) return from_hex(d.hex);
  }
  FAIL("no such request");
  return {};
}

}  // namespace

// util.c UTI_FloatNetworkToHost: value = coef × 2^(exp − 25) with a 7-bit exponent and a
// 25-bit coefficient; these pin the sign extension of both fields.
TEST_CASE("float32 reads exponent and coefficient as 7- and 25-bit two's complement") {
  CHECK(float32::from_bits(0).to_double() == 0.0);
  CHECK(float32::from_parts(1, 25).to_double() == 1.0);
  CHECK(float32::from_parts(-1, 25).to_double() == -1.0);
  CHECK(float32::from_parts((1 << 24) - 1, 63).to_double() == std::ldexp((1 << 24) - 1, 38));
  CHECK(float32::from_parts(-(1 << 24), 63).to_double() == -std::ldexp(1.0, 62));
  CHECK(float32::from_parts(1, -64).to_double() == std::ldexp(1.0, -89));
  const auto f = float32::from_bits(0xff000001u);  // exponent -1, coefficient 0x1000001 - 2^25
  CHECK(f.exponent() == -1);
  CHECK(f.coefficient() == 1 - (1 << 24));
  CHECK(float32::from_parts(-3, -7).exponent() == -7);
  CHECK(float32::from_parts(-3, -7).coefficient() == -3);
}

// STYLE §7 property test: 10^5 random bit patterns agree with the formula and survive
// from_double(to_double(x)) with the same value; random doubles round to within half a unit of
// the 24-bit coefficient chronyd keeps.
TEST_CASE("float32 agrees with chrony's formula and round-trips through double") {
  const std::uint64_t seed = 0x636d646d6f6e3332;  // "cmdmon32"
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 100000; ++i) {
    const auto bits = static_cast<std::uint32_t>(rng());
    CAPTURE(bits);
    const auto f = float32::from_bits(bits);
    REQUIRE(f.to_double() == chrony_formula(bits));
    REQUIRE(float32::from_double(f.to_double()).to_double() == f.to_double());
  }
  for (int i = 0; i < 100000; ++i) {
    const int e = static_cast<int>(rng() % 140) - 80;  // 2^-80 .. 2^59
    const double x =
        std::ldexp(1.0 + static_cast<double>(rng() >> 12) * 0x1p-52, e) * (rng() & 1 ? -1.0 : 1.0);
    CAPTURE(x);
    const double y = float32::from_double(x).to_double();
    // 24 significant bits: the error is at most 2^(e - 24), half a unit of the last bit kept;
    // below 2^-66 the exponent stops at -64 and the unit is 2^-89.
    REQUIRE(std::fabs(y - x) <= std::max(std::ldexp(1.0, e - 24), std::ldexp(1.0, -90)));
  }
}

// util.c UTI_FloatHostToNetwork saturates above the largest value, flushes tiny values and NaN
// to zero; our from_double does the same.
TEST_CASE("float32::from_double saturates, flushes tiny values and NaN to zero") {
  CHECK(float32::from_double(1e300) == float32::from_parts((1 << 24) - 1, 63));
  CHECK(float32::from_double(-1e300) == float32::from_parts(-(1 << 24), 63));
  CHECK(float32::from_double(std::nan("")).bits() == 0);
  CHECK(float32::from_double(std::ldexp(1.0, -91)).bits() == 0);
  CHECK(float32::from_double(std::ldexp(1.0, -89)).to_double() == std::ldexp(1.0, -89));
  CHECK(float32::from_double(std::ldexp(1.5, -90)).to_double() == std::ldexp(1.0, -89));
  CHECK(float32::from_double(1.0).to_double() == 1.0);
  CHECK(float32::from_double(-0.000123).to_double() == doctest::Approx(-0.000123).epsilon(1e-7));
}

// candm.h Timespec and util.c UTI_TimespecNetworkToHost: sec_high 0x7fffffff is a 32-bit time_t
// (the high half is then zero), and nsec is clamped to 999999999.
TEST_CASE("timespec joins the halves, honours TV_NOHIGHSEC and clamps nanoseconds") {
  const cmdmon::timespec t{0, 1796318232u, 430082260u};
  CHECK(t.seconds() == 1796318232);
  CHECK(t.to_sys_time().time_since_epoch().count() == 1796318232430082260);
  CHECK(cmdmon::timespec{1, 5, 0}.seconds() == (std::int64_t{1} << 32) + 5);
  CHECK(cmdmon::timespec{no_high_seconds, 5, 0}.seconds() == 5);
  CHECK(cmdmon::timespec{0, 5, 1'500'000'000u}.nanoseconds() == 999'999'999u);
  CHECK(cmdmon::timespec::from_parts(-1, 7) == cmdmon::timespec{0xffffffffu, 0xffffffffu, 7});
  CHECK(cmdmon::timespec{0x7ffffffeu, 0, 0}.to_sys_time() == sys_nanoseconds::max());
}

// addressing.h IPAddr families 0..3 and util.c UTI_IPToString; an unresolved source (family 3,
// facebook/time and chrony_exporter#133 printed it as "0:1::") must come out typed.
TEST_CASE("ip_addr shows IPv4, IPv6 (RFC 5952), unresolved sources and unspec") {
  CHECK(to_string(ip_addr::from_in4(0x7f000001)) == "127.0.0.1");
  std::array<std::uint8_t, 16> v6{};
  v6[15] = 1;
  CHECK(to_string(ip_addr::from_in6(v6)) == "::1");
  const std::array<std::uint8_t, 16> doc{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                         0,    1,    0,    0,    0, 0, 0, 1};
  CHECK(to_string(ip_addr::from_in6(doc)) == "2001:db8::1:0:0:1");
  const std::array<std::uint8_t, 16> run{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                         0,    1,    0,    0,    0, 0, 0, 0};
  CHECK(to_string(ip_addr::from_in6(run)) == "2001:db8:0:0:1::");
  const std::array<std::uint8_t, 16> one{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1,
                                         0,    1,    0,    1,    0, 1, 0, 1};
  CHECK(to_string(ip_addr::from_in6(one)) == "2001:db8:0:1:1:1:1:1");
  const std::array<std::uint8_t, 16> mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4};
  CHECK(to_string(ip_addr::from_in6(mapped)) == "::ffff:1.2.3.4");
  const auto id = ip_addr::from_id(1);
  CHECK(id.is_unresolved());
  CHECK(id.kind() == address_family::id);
  CHECK(id.id() == 1);
  CHECK(to_string(id) == "unresolved source #1");
  CHECK(to_string(ip_addr{}) == "unspecified");
  ip_addr odd = ip_addr::from_in4(0x01020304);
  odd.family = 9;  // a family chrony does not define: chronyc treats it as unspec
  CHECK(odd.kind() == address_family::unspec);
  CHECK(to_string(odd) == "unspecified");
}

// candm.h STT_* values and their meaning in client.c's messages.
TEST_CASE("every STT_ status has its words, and only success-like ones count as success") {
  const std::pair<int, std::string_view> table[] = {{0, "success"},
                                                    {1, "failed"},
                                                    {2, "unauthorised"},
                                                    {3, "invalid"},
                                                    {4, "no such source"},
                                                    {5, "invalid timestamp"},
                                                    {6, "not enabled"},
                                                    {7, "bad subnet"},
                                                    {8, "access allowed"},
                                                    {9, "access denied"},
                                                    {10, "no host access"},
                                                    {11, "source already known"},
                                                    {12, "too many sources"},
                                                    {13, "no rtc"},
                                                    {14, "bad rtc file"},
                                                    {15, "inactive"},
                                                    {16, "bad sample"},
                                                    {17, "invalid address family"},
                                                    {18, "bad packet version"},
                                                    {19, "bad packet length"},
                                                    {21, "invalid name"},
                                                    {20, "unknown status"},
                                                    {99, "unknown status"}};
  for (const auto& [value, words] : table) {
    CAPTURE(value);
    CHECK(status_name(static_cast<status>(value)) == words);
  }
  CHECK(is_success(status::success));
  CHECK(is_success(status::access_allowed));
  CHECK(is_success(status::access_denied));
  CHECK_FALSE(is_success(status::unauthorised));
  CHECK_FALSE(is_success(status::bad_packet_version));
}

// candm.h REQ_* and RPY_* numbers; the names are chrony's.
TEST_CASE("command and reply code names follow candm.h's numbering") {
  CHECK(command_name(command::null) == "null");
  CHECK(command_name(command::tracking) == "tracking");
  CHECK(static_cast<int>(command::tracking) == 33);
  CHECK(command_name(command::client_accesses_by_index3) == "client_accesses_by_index3");
  CHECK(static_cast<int>(command::client_accesses_by_index3) == 68);
  CHECK(command_name(command::local3) == "local3");
  CHECK(command_name(static_cast<command>(75)) == "unknown");
  CHECK(reply_code_name(reply_code::server_stats3) == "server_stats3");
  CHECK(static_cast<int>(reply_code::server_stats3) == 24);
  CHECK(reply_code_name(reply_code::ntp_data2) == "ntp_data2");
  CHECK(static_cast<int>(reply_code::ntp_data2) == 26);
  CHECK(reply_code_name(static_cast<reply_code>(0)) == "unknown");
  CHECK(reply_code_name(static_cast<reply_code>(27)) == "unknown");
}

// pktlength.c: a version 6 request is as long as its reply. The lengths chronyc 4.3 sent
// (captured) are the truth where 4.3's reply is the longest; SERVER_STATS4 (4.4+) and
// NTP_DATA2 (4.6+) are longer, and the lengths for them are computed from candm.h at 4.8:
// 28 + 21 × 8 = 196 and 28 + 144 = 172; CLIENT_ACCESSES_BY_INDEX2 from 3.5's: 28 + 12 + 8 × 48.
TEST_CASE("request_length pads each command to its longest reply, version 5 not at all") {
  const std::pair<command, std::size_t> captured[] = {
      {command::tracking, cap::udp_tracking.datagrams[0].hex.size() / 2},
      {command::n_sources, cap::udp_sources.datagrams[0].hex.size() / 2},
      {command::source_data, cap::udp_sources.datagrams[2].hex.size() / 2},
      {command::sourcestats, cap::udp_sourcestats.datagrams[2].hex.size() / 2},
      {command::activity, cap::udp_activity.datagrams[0].hex.size() / 2},
      {command::manual_list, cap::udp_manual_list.datagrams[0].hex.size() / 2},
      {command::rtcreport, cap::udp_rtcdata_no_rtc.datagrams[0].hex.size() / 2},
      {command::smoothing, cap::udp_smoothing.datagrams[0].hex.size() / 2},
      {command::client_accesses_by_index3, cap::unix_clients.datagrams[0].hex.size() / 2},
      {command::auth_data, request_bytes(cap::unix_authdata, 3).size()},
      {command::select_data, cap::unix_selectdata.datagrams[2].hex.size() / 2},
  };
  for (const auto& [c, length] : captured) {
    CAPTURE(command_name(c));
    CHECK(request_length(c, 6) == length);
  }
  CHECK(request_length(command::tracking, 6) == 104);
  CHECK(request_length(command::null, 6) == 28);
  CHECK(request_length(command::ntp_source_name, 6) == 284);
  CHECK(request_length(command::server_stats, 6) == 196);
  CHECK(request_bytes(cap::unix_serverstats, 0).size() == 72);  // 4.3's own SERVER_STATS3
  CHECK(request_length(command::ntp_data, 6) == 172);
  CHECK(request_bytes(cap::unix_ntpdata, 3).size() == 152);  // 4.3's own NTP_DATA
  CHECK(request_length(command::client_accesses_by_index2, 6) == 424);
  CHECK(request_length(command::tracking, 5) == 20);
  CHECK(request_length(command::source_data, 5) == 24);
  CHECK(request_length(command::ntp_data, 5) == 40);
  CHECK(request_length(command::client_accesses_by_index3, 5) == 36);
  CHECK(request_length(command::burst, 6) == 0);
  CHECK(request_length(command::tracking, 4) == 0);
  CHECK_FALSE(is_supported(command::settime));
}

// The requests chronyc 4.3 sent, re-made by encode_request from their decoded fields: equal to
// the byte, except that SERVER_STATS and NTP_DATA are padded further (chronyc's bytes, then
// zeros), which chronyd 4.3 accepts (own_server_stats_of_196_bytes in cmdmon_reports_test).
TEST_CASE("encode_request makes chronyc 4.3's captured requests byte for byte") {
  int compared = 0;
  for (const auto* e : cap::all) {
    if (e->command.substr(0, 2) != "-c") continue;  // chronyc's own runs only
    for (const auto& d : e->datagrams) {
      if (d.from_server) continue;
      const bytes chronyc = from_hex(d.hex);
      CAPTURE(e->command);
      CAPTURE(d.hex);
      const auto decoded = decode_request(chronyc);
      REQUIRE(decoded);
      const auto ours = encode_request(decoded->body, decoded->header);
      REQUIRE(ours);
      REQUIRE(ours->size() >= chronyc.size());
      CHECK(bytes(ours->begin(), ours->begin() + static_cast<long>(chronyc.size())) == chronyc);
      CHECK(std::all_of(ours->begin() + static_cast<long>(chronyc.size()), ours->end(),
                        [](std::uint8_t b) { return b == 0; }));
      const bool longer =
          decoded->body.code == command::server_stats || decoded->body.code == command::ntp_data;
      CHECK((ours->size() > chronyc.size()) == longer);
      ++compared;
    }
  }
  CHECK(compared > 50);
}

// capture_cmdmon.py built its own requests with Python's struct from candm.h; where they are
// well formed, our encoder makes the same bytes from the same fields.
TEST_CASE("encode_request agrees with the independently built requests") {
  const struct {
    const cap::exchange& e;
    request r;
    request_header h;
  } cases[] = {
      {cap::own_null, {.code = command::null}, {6, 0, 0x6e6b0006}},
      {cap::own_source_data_index_99,
       {.code = command::source_data, .index = 99},
       {6, 0, 0x6e6b0007}},
      {cap::own_source_data_index_0_attempt_2,
       {.code = command::source_data, .index = 0},
       {6, 2, 0x6e6b0008}},
      {cap::own_server_stats_of_196_bytes, {.code = command::server_stats}, {6, 0, 0x6e6b000c}},
      {cap::own_ntp_data_of_172_bytes_for_127_0_0_1,
       {.code = command::ntp_data, .address = ip_addr::from_in4(0x7f000001)},
       {6, 0, 0x6e6b000d}},
      {cap::own_ntp_source_name_for_unresolved_source_1,
       {.code = command::ntp_source_name, .address = ip_addr::from_id(1)},
       {6, 0, 0x6e6b000f}},
      {cap::own_client_accesses_by_index3_from_0_min_hits_15,
       {.code = command::client_accesses_by_index3, .min_hits = 15},
       {6, 0, 0x6e6b0011}},
      {cap::own_client_accesses_by_index3_from_5_n_clients_3,
       {.code = command::client_accesses_by_index3, .first_index = 5, .n_clients = 3},
       {6, 0, 0x6e6b0012}},
      {cap::own_auth_data_for_127_0_0_4,
       {.code = command::auth_data, .address = ip_addr::from_in4(0x7f000004)},
       {6, 0, 0x6e6b0014}},
      {cap::own_select_data_index_4,
       {.code = command::select_data, .index = 4},
       {6, 0, 0x6e6b0015}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.e.command);
    const auto ours = encode_request(c.r, c.h);
    REQUIRE(ours);
    CHECK(*ours == from_hex(c.e.datagrams[0].hex));
    const auto back = decode_request(*ours);
    REQUIRE(back);
    CHECK(back->body == c.r);
    CHECK(back->header == c.h);
  }
}

// cmdmon.c read_from_cmd_socket's checks, which decode_request repeats for fake servers.
TEST_CASE("decode_request refuses what chronyd refuses, with typed errors") {
  CHECK(decode_request(bytes(19, 0)).error() == errc::truncated);
  CHECK(decode_request(from_hex(cap::own_pkt_type_2.datagrams[0].hex)).error() ==
        errc::cmdmon_not_request);
  CHECK(decode_request(from_hex(cap::own_res1_1.datagrams[0].hex)).error() ==
        errc::cmdmon_not_request);
  CHECK(decode_request(from_hex(cap::own_tracking_as_version_4.datagrams[0].hex)).error() ==
        errc::cmdmon_bad_version);
  CHECK(decode_request(from_hex(cap::own_tracking_of_28_bytes.datagrams[0].hex)).error() ==
        errc::cmdmon_bad_length);
  CHECK(decode_request(from_hex(cap::own_command_200.datagrams[0].hex)).error() ==
        errc::cmdmon_unsupported_command);
  CHECK(decode_request(from_hex(cap::own_client_accesses_by_index2.datagrams[0].hex)));
  // 4.3's SERVER_STATS request (72 bytes) is accepted although we send 196; 47 bytes are
  // shorter than any chronyd takes (3.x's SERVER_STATS reply, the shortest, needs 48).
  const bytes stats43 = request_bytes(cap::unix_serverstats, 0);
  CHECK(decode_request(stats43));
  CHECK(decode_request(std::span(stats43).first(47)).error() == errc::cmdmon_bad_length);
  const auto v5 = decode_request(from_hex(cap::own_tracking_as_version_5.datagrams[0].hex));
  REQUIRE(v5);  // version 5 needs no padding: 104 bytes are more than enough
  CHECK(v5->header.version == 5);
  bytes short_data(22, 0);  // SOURCE_DATA header and half an index
  short_data[0] = 6;
  short_data[1] = 1;
  short_data[5] = 15;
  CHECK(decode_request(short_data).error() == errc::truncated);
  CHECK(encode_request({.code = command::burst}, {}).error() == errc::cmdmon_unsupported_command);
  CHECK(encode_request({.code = command::tracking}, {.version = 7}).error() ==
        errc::cmdmon_bad_version);
}

// candm.h CMD_Reply header: 28 bytes; client.c drops datagrams shorter than that and those
// with another pkt_type or non-zero res1/res2.
TEST_CASE("decode_reply_header reads the 28 bytes and refuses non-replies") {
  const bytes r = from_hex(cap::udp_tracking.datagrams[1].hex);
  const auto h = decode_reply_header(r);
  REQUIRE(h);
  CHECK(h->version == 6);
  CHECK(h->pkt_type == 2);
  CHECK(h->cmd == command::tracking);
  CHECK(h->reply == reply_code::tracking);
  CHECK(h->status == status::success);
  CHECK(h->sequence == load_be32(from_hex(cap::udp_tracking.datagrams[0].hex), 8));
  bytes out(28);
  encode_reply_header(*h, out);
  CHECK(out == bytes(r.begin(), r.begin() + 28));
  for (std::size_t n = 0; n < 28; ++n) {
    CHECK(decode_reply_header(std::span(r).first(n)).error() == errc::truncated);
  }
  bytes request_like = r;
  request_like[1] = 1;
  CHECK(decode_reply_header(request_like).error() == errc::cmdmon_not_reply);
  bytes res = r;
  res[3] = 1;
  CHECK(decode_reply_header(res).error() == errc::cmdmon_not_reply);
}
