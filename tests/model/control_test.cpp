#include "ntpkit/model/control.hpp"

#include <doctest/doctest.h>

#include <string>

#include "ntpkit/proto/control_vars.hpp"

using namespace ntpkit;

namespace {

// NTPsec 1.2.2 ntpd, `refclock shm unit 0 refid SHM0 minpoll 1 maxpoll 1`, never fed: the peer
// variables as `ntpq -c raw -c "rv 17767"` printed them on 2026-12-04 (filt* garbage left out,
// PEERS.md). ntpq -p showed for it:
// " SHM(0)          .SHM0.           0 l    -    2    0   0.0000   0.0000   0.0001"
constexpr const char* shm_peer =
    "srcadr=127.127.28.0, srcport=123, dstadr=127.0.0.1, dstport=123, leap=3,\r\n"
    "hmode=3, stratum=0, ppoll=1, hpoll=1, precision=-30, rootdelay=0.000,\r\n"
    "rootdisp=0.000, refid=SHM0, reftime=0x00000000.00000000,\r\n"
    "rec=0x00000000.00000000, xmt=0xeebd92e3.ed291a26, reach=0x0, unreach=0,\r\n"
    "delay=0.000000, offset=0.000000, jitter=0.000060,\r\n"
    "dispersion=15937.500000, keyid=0, pmode=4,\r\n"
    "flash=0x1200, mode=0, headway=0, srchost=\"SHM(0)\", ntscookies=-1\r\n";

const proto::timestamp now = proto::timestamp::from_bits(0xeebd92e5'00000000ULL);

}  // namespace

TEST_CASE("summarize_peer reads an unfed SHM clock as ntpq -p does") {
  const auto vars = proto::parse_variables(std::string_view(shm_peer));
  const auto p = model::summarize_peer(17767, 0x801b, vars, now);
  CHECK(p.tally == ' ');
  CHECK(p.remote == "SHM(0)");
  CHECK(p.srcadr == "127.127.28.0");
  CHECK(p.refid == ".SHM0.");
  CHECK(p.stratum == 0);
  CHECK(p.type == 'l');
  CHECK(p.reference_clock);
  // rec 0 lies in the next era from 2026: "-", as ntpq shows it.
  CHECK_FALSE(p.when_s.has_value());
  CHECK(p.poll_s == 2);
  CHECK(p.reach == 0);
  CHECK(p.decimals == 4);
  REQUIRE(p.jitter_ms);
  CHECK(*p.jitter_ms == doctest::Approx(0.00006));
  CHECK_FALSE(p.jitter_is_dispersion);
}

TEST_CASE("summarize_peer takes the later of reftime and rec, and the NTS cookie count as type") {
  // An NTS server association (ntpq -p shows the cookie count in the t column, PEERS.md).
  const auto vars = proto::parse_variables(std::string_view(
      "srcadr=127.0.0.1, hmode=3, stratum=3, ppoll=4, hpoll=3, refid=127.0.0.1, "
      "reftime=0xeebd92d5.00000000, rec=0xeebd92e0.80000000, reach=0x7f, delay=0.123,"
      " offset=-0.05, dispersion=1.5, ntscookies=8"));
  const auto p = model::summarize_peer(5, 0x961a, vars, now);
  CHECK(p.tally == '*');
  CHECK(p.remote == "127.0.0.1");
  CHECK(p.refid == "127.0.0.1");
  CHECK(p.type == '8');
  REQUIRE(p.when_s);
  CHECK(*p.when_s == 4);  // 0xe5 - 0xe0.8 = 4.5 s, truncated
  CHECK(p.poll_s == 8);   // 2^min(4, 3)
  CHECK(p.reach == 0x7f);
  CHECK(p.decimals == 3);  // ntp.org's 3 decimals
  CHECK(p.jitter_is_dispersion);
  CHECK(*p.jitter_ms == doctest::Approx(1.5));
}

TEST_CASE("read_value types every form ntpd sends and keeps garbage as text") {
  auto v = [](const char* name, const char* raw) {
    return model::read_value(name, proto::variable_value(raw, true));
  };
  CHECK(v("stratum", "4").type == model::value_type::integer);
  CHECK(v("reach", "0x7f").integer == 0x7f);
  CHECK(v("offset", "-0.013541").number == doctest::Approx(-0.013541));
  CHECK(v("offset", "1").unit == "ms");
  CHECK(v("frequency", "1").unit == "ppm");
  const auto ts = v("reftime", "0xeebd92d5.80000000");
  CHECK(ts.type == model::value_type::timestamp);
  CHECK(ts.ntp_time.bits() == 0xeebd92d580000000ULL);
  CHECK(v("version", "\"ntpd ntpsec-1.2.2\"").text == "ntpd ntpsec-1.2.2");
  CHECK(v("refid", "SHM0").type == model::value_type::text);
  const auto f = v("filtdisp", "T\xc2\xbe 0.00 0\x04 16000.00");
  CHECK(f.type == model::value_type::numbers);
  REQUIRE(f.numbers.size() == 4);
  CHECK_FALSE(f.numbers[0]);
  CHECK(*f.numbers[1] == 0.0);
  CHECK_FALSE(f.numbers[2]);
  CHECK(*f.numbers[3] == 16000.0);
  CHECK(model::read_value("x", proto::variable_value("", false)).type == model::value_type::none);
}

TEST_CASE("failure_kind names PERMISSION as auth and other server errors as server_error") {
  model::control_read r;
  r.outcome = proto::control_outcome::server_error;
  r.server_error = proto::control_error::permission;
  CHECK(model::failure_kind(r) == "auth");
  r.server_error = proto::control_error::unknown_association;
  CHECK(model::failure_kind(r) == "server_error");
  r.outcome = proto::control_outcome::timeout;
  CHECK(model::failure_kind(r) == "timeout");
  r.ignored.add(proto::ignore_reason::mac);
  CHECK(model::failure_kind(r) == "auth");
  r.outcome = proto::control_outcome::response;
  CHECK(model::failure_kind(r).empty());
}
