#include "ntpkit/report/ntp_plugin.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

#include "ntpkit/proto/refid.hpp"
#include "support/report_fixture.hpp"

using namespace ntpkit;
using report::nagios_range;
using report::parse_nagios_range;
using report::plugin_state;

namespace {

nagios_range range(std::string_view text) {
  auto r = parse_nagios_range(text);
  REQUIRE(r);
  return *r;
}

// One target with one address holding the fixture's good sample: offset 9.875 s, delay
// 0.25 s, processing 0.25 s, stratum 2, refid 192.0.2.1, root distance 0.625244140625 s.
model::ntp_run one_good(proto::leap_indicator leap = proto::leap_indicator::none) {
  model::ntp_run r;
  auto t = test::target_of("127.0.0.1:11123", "127.0.0.1", 11123);
  auto a = test::located("127.0.0.1", 11123);
  a.samples.push_back(test::good_sample());
  a.samples.back().reply.leap = leap;
  model::conclude(a, {});
  t.addresses.push_back(a);
  r.targets.push_back(t);
  return r;
}

model::ntp_run silent(model::error_kind kind) {
  model::ntp_run r;
  auto t = test::target_of("127.0.0.1:9", "127.0.0.1", 9);
  auto a = test::located("127.0.0.1", 9);
  a.requests = 1;
  // The way each kind of failure comes from a query's end (model::end_error).
  const auto cause = kind == model::error_kind::timeout       ? model::error_cause::no_reply
                     : kind == model::error_kind::unreachable ? model::error_cause::port_unreachable
                     : kind == model::error_kind::kiss        ? model::error_cause::kissed_earlier
                     : kind == model::error_kind::auth ? model::error_cause::no_authenticated_reply
                     : kind == model::error_kind::unsynchronised ? model::error_cause::leap_alarm
                                                                 : model::error_cause::checks_failed;
  auto e = model::failure(kind, cause);
  e.waited = std::chrono::milliseconds(2000);
  e.kiss_code = "DENY";
  model::conclude(a, e);
  t.addresses.push_back(a);
  r.targets.push_back(t);
  return r;
}

}  // namespace

// The monitoring-plugins guidelines (doc/developer-guidelines, "Threshold and ranges"): a
// plain number N is 0..N and alerts outside it, "N:" has no upper end, "~" is minus
// infinity, and "@" inverts the test to alert inside the range, ends included.
TEST_CASE("a plain number is the range 0..N and alerts outside it, ends included") {
  const auto r = range("10");
  CHECK(!r.alerts(0));
  CHECK(!r.alerts(10));
  CHECK(!r.alerts(5.5));
  CHECK(r.alerts(10.0001));
  CHECK(r.alerts(-0.0001));
}

TEST_CASE("N: has no upper end, ~:N no lower end") {
  const auto lower = range("10:");
  CHECK(lower.alerts(9.99));
  CHECK(!lower.alerts(10));
  CHECK(!lower.alerts(1e12));
  const auto upper = range("~:10");
  CHECK(!upper.alerts(-1e12));
  CHECK(!upper.alerts(10));
  CHECK(upper.alerts(10.5));
}

TEST_CASE("@ alerts inside the range, ends included") {
  const auto r = range("@10:20");
  CHECK(!r.alerts(9.9));
  CHECK(r.alerts(10));
  CHECK(r.alerts(15));
  CHECK(r.alerts(20));
  CHECK(!r.alerts(20.1));
}

TEST_CASE("negative and fractional bounds parse") {
  const auto r = range("-0.5:0.25");
  CHECK(!r.alerts(-0.5));
  CHECK(!r.alerts(0.25));
  CHECK(r.alerts(-0.51));
  CHECK(r.alerts(0.26));
}

TEST_CASE("malformed ranges are refused") {
  // Stricter than the monitoring-plugins' strtod-based parser, which reads "abc" as 0.
  for (std::string bad : {"", "@", "abc", "1:2:3", "10:5", "~", "1e400", "nan", "5x", "@~"}) {
    CAPTURE(bad);
    CHECK(!parse_nagios_range(bad));
  }
}

TEST_CASE("a bare colon is 0 to infinity, as the monitoring-plugins read it") {
  const auto r = range(":");
  CHECK(!r.alerts(0));
  CHECK(!r.alerts(1e300));
  CHECK(r.alerts(-1));
}

TEST_CASE("the range text is kept for perfdata") { CHECK(range("@1:2").text == "@1:2"); }

TEST_CASE("an answering server without thresholds is OK with six perfdata values") {
  const auto out = report::evaluate_plugin(one_good(), {});
  CHECK(out.state == plugin_state::ok);
  CHECK(out.line.starts_with("NTP OK: 127.0.0.1:11123 offset +9.875000000 s, delay "
                             "0.250000000 s, stratum 2, refid 192.0.2.1|"));
  // Signed offset, whole ranges (none here), units, min/max where defined.
  CHECK(out.line.find("'offset'=9.875000000s;;;;") != std::string::npos);
  CHECK(out.line.find("'delay'=0.250000000s;;;0;") != std::string::npos);
  CHECK(out.line.find("'stratum'=2;;;0;16") != std::string::npos);
  CHECK(out.line.find("'root_distance'=0.625244141s;;;0;") != std::string::npos);
  CHECK(out.line.find("'processing'=0.250000000s;;;0;") != std::string::npos);
  CHECK(out.line.find("'jitter'=0.000000000s;;;0;") != std::string::npos);
  CHECK(out.line.back() == '\n');
}

TEST_CASE("offset thresholds judge the absolute offset, and the worst range wins") {
  report::plugin_policy p;
  p.offset.warning = range("5");
  p.offset.critical = range("20");
  auto out = report::evaluate_plugin(one_good(), p);
  CHECK(out.state == plugin_state::warning);
  CHECK(out.line.find("; |offset| 9.875000000 outside warning range 5") != std::string::npos);
  CHECK(out.line.find("'offset'=9.875000000s;5;20;;") != std::string::npos);
  p.offset.critical = range("9");
  out = report::evaluate_plugin(one_good(), p);
  CHECK(out.state == plugin_state::critical);
  CHECK(out.line.find("outside critical range 9") != std::string::npos);
}

TEST_CASE("a negative offset is judged by its size but reported with its sign") {
  auto r = one_good();
  auto& s = r.targets[0].addresses[0].samples[0];
  s.measured.offset = -s.measured.offset;
  report::plugin_policy p;
  p.offset.warning = range("5");
  const auto out = report::evaluate_plugin(r, p);
  CHECK(out.state == plugin_state::warning);
  CHECK(out.line.find("'offset'=-9.875000000s;5;;;") != std::string::npos);
}

TEST_CASE("stratum, delay, root distance and processing thresholds each raise their state") {
  struct row {
    const char* name;
    report::thresholds report::plugin_policy::*member;
    const char* ok_range;
    const char* bad_range;
  };
  const row rows[] = {
      {"stratum", &report::plugin_policy::stratum, "1:2", "1:1"},
      {"delay", &report::plugin_policy::delay, "0.25", "0.2"},
      {"root_distance", &report::plugin_policy::root_distance, "0.7", "0.6"},
      {"processing", &report::plugin_policy::processing, "0.3", "@0.2:0.3"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    report::plugin_policy p;
    (p.*r.member).critical = range(r.ok_range);
    CHECK(report::evaluate_plugin(one_good(), p).state == plugin_state::ok);
    (p.*r.member).critical = range(r.bad_range);
    const auto out = report::evaluate_plugin(one_good(), p);
    CHECK(out.state == plugin_state::critical);
    CHECK(out.line.find(std::string(r.name) + " ") != std::string::npos);
  }
}

TEST_CASE("an unexpected refid is CRITICAL, an expected one in any spelling is not") {
  report::plugin_policy p;
  p.expect_refid = {"GPS"};
  auto out = report::evaluate_plugin(one_good(), p);
  CHECK(out.state == plugin_state::critical);
  CHECK(out.line.find("refid 192.0.2.1 is not the expected one") != std::string::npos);
  p.expect_refid = {"GPS", "192.0.2.1"};
  CHECK(report::evaluate_plugin(one_good(), p).state == plugin_state::ok);
  p.expect_refid = {"0xC0000201"};
  CHECK(report::evaluate_plugin(one_good(), p).state == plugin_state::ok);
}

TEST_CASE("refid_matches accepts the IPv6 address whose hash the refid is") {
  // RFC 5905 §7.3: the refid of an IPv6 upstream is the first 32 bits of MD5 of its address.
  std::array<std::uint8_t, 16> v6{};
  v6[15] = 1;  // ::1
  const auto hashed = proto::refid_of_ipv6(std::span<const std::uint8_t, 16>(v6));
  CHECK(report::refid_matches(hashed, 2, "::1"));
  CHECK(!report::refid_matches(hashed, 2, "::2"));
}

TEST_CASE("a pending leap second is a WARNING unless --leap-ok") {
  auto out = report::evaluate_plugin(one_good(proto::leap_indicator::add_second), {});
  CHECK(out.state == plugin_state::warning);
  CHECK(out.line.find("leap second pending (add_second)") != std::string::npos);
  report::plugin_policy p;
  p.leap_ok = true;
  CHECK(report::evaluate_plugin(one_good(proto::leap_indicator::del_second), p).state ==
        plugin_state::ok);
}

TEST_CASE("no reply is UNKNOWN, or CRITICAL when asked") {
  CHECK(report::evaluate_plugin(silent(model::error_kind::timeout), {}).state ==
        plugin_state::unknown);
  CHECK(report::evaluate_plugin(silent(model::error_kind::unreachable), {}).state ==
        plugin_state::unknown);
  report::plugin_policy p;
  p.no_reply_critical = true;
  const auto out = report::evaluate_plugin(silent(model::error_kind::timeout), p);
  CHECK(out.state == plugin_state::critical);
  CHECK(out.line == "NTP CRITICAL: 127.0.0.1:9 no reply within 2 s\n");
}

TEST_CASE("a kiss, an unsynchronised server and a failed authentication are CRITICAL") {
  for (auto kind : {model::error_kind::kiss, model::error_kind::unsynchronised,
                    model::error_kind::auth, model::error_kind::sanity}) {
    CAPTURE(model::error_kind_name(kind));
    CHECK(report::evaluate_plugin(silent(kind), {}).state == plugin_state::critical);
  }
}

TEST_CASE("a kiss after a good answer is still CRITICAL, with the measured perfdata") {
  // ntpd answered the first request and kissed the second (integration test_kod.py).
  auto r = one_good();
  auto& a = r.targets.front().addresses.front();
  a.samples.push_back(test::kiss_sample());
  model::conclude(a, {});
  const auto out = report::evaluate_plugin(r, {});
  CHECK(out.state == plugin_state::critical);
  CHECK(out.line.starts_with("NTP CRITICAL: 127.0.0.1:11123 offset +9.875000000 s"));
  CHECK(out.line.find("; kiss-o'-death ") != std::string::npos);
  CHECK(out.line.find("|'offset'=9.875000000s;;;;") != std::string::npos);
}

TEST_CASE("with several servers the worst state wins and labels carry the address") {
  // The fixture: one good server, one name that does not resolve, a timeout and a KoD.
  const auto out = report::evaluate_plugin(test::fixture_report(), {});
  CHECK(out.state == plugin_state::critical);
  CHECK(out.line.starts_with("NTP CRITICAL: 1 of 4 servers OK; "));
  CHECK(out.line.find("nosuch.invalid name does not resolve") != std::string::npos);
  // 127.0.0.1 is an address of two targets (ports 11123 and 11124): its labels carry the port,
  // so that each is unique (ntpprobe issue: labels repeated when two targets share an address).
  CHECK(out.line.find("'127.0.0.1:11123 offset'=9.875000000s") != std::string::npos);
  CHECK(out.line.find("'127.0.0.1 offset'") == std::string::npos);
}

TEST_CASE("perfdata labels are unique: the address, then with its port, then with the target") {
  auto r = one_good();
  r.targets.push_back(r.targets[0]);  // the same address and port under another name
  r.targets[1].spec = "ntp.example:11123";
  r.targets[1].host = "ntp.example";
  auto a = test::located("::1", 123, model::family::ipv6);
  a.samples.push_back(test::good_sample());
  model::conclude(a, {});
  r.targets[1].addresses.push_back(a);
  const auto out = report::evaluate_plugin(r, {});
  const auto data = out.line.substr(out.line.find('|') + 1);
  CHECK(data.find("'127.0.0.1:11123 127.0.0.1:11123 offset'") != std::string::npos);
  CHECK(data.find("'ntp.example:11123 127.0.0.1:11123 offset'") != std::string::npos);
  CHECK(data.find("'::1 offset'") != std::string::npos);  // unique: the address alone
  std::set<std::string> labels;
  for (std::size_t at = data.find('\''); at != std::string::npos;
       at = data.find('\'', data.find('\'', at + 1) + 1)) {
    const auto end = data.find('\'', at + 1);
    CHECK(labels.insert(data.substr(at, end - at)).second);
  }
  CHECK(labels.size() == 18);  // three addresses, six metrics each
  // The same command line gives the same labels.
  CHECK(report::evaluate_plugin(r, {}).line == out.line);
}

TEST_CASE("--min-ok counts OK addresses") {
  const auto r = test::fixture_report();
  report::plugin_policy p;
  p.min_ok = 1;
  CHECK(report::evaluate_plugin(r, p).state == plugin_state::ok);
  p.min_ok = 2;
  const auto out = report::evaluate_plugin(r, p);
  CHECK(out.state == plugin_state::critical);
  CHECK(out.line.find("(at least 2 required)") != std::string::npos);
}
