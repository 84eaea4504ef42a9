#include "ntpkit/report/sample.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "support/report_fixture.hpp"

using namespace ntpkit;
using report::address_report;
using report::conclude;
using report::error_kind;

namespace {

constexpr std::int64_t one_s = std::int64_t{1} << 32;

// A sample with the given verdict, offset and delay (in 2^-32 s units).
report::sample make(proto::verdict v, std::int64_t offset, std::int64_t delay) {
  report::sample s;
  s.reply.mode = proto::association_mode::server;
  s.reply.stratum = 2;
  s.assessed.result = v;
  s.measured.offset = proto::duration::from_bits(offset);
  s.measured.delay = proto::duration::from_bits(delay);
  return s;
}

report::sample kiss(const char* code) {
  auto s = make(proto::verdict::kiss, 0, 0);
  s.reply.stratum = 0;
  s.assessed.kiss_code = code;
  return s;
}

}  // namespace

TEST_CASE("conclude selects the least delay among the ok samples, by index into all samples") {
  // The insane sample has the least delay of all and must not be chosen; the index is into
  // address_report::samples, not into the list of good ones.
  address_report a;
  a.samples = {make(proto::verdict::insane, 100 * one_s, 1), make(proto::verdict::ok, 0, 500),
               make(proto::verdict::ok, one_s, 400), make(proto::verdict::ok, one_s, 400)};
  conclude(a, {});
  REQUIRE(a.selected.has_value());
  CHECK(*a.selected == 2);  // first of the two equal delays
  CHECK_FALSE(a.error);
  CHECK(a.ok());
  CHECK(&a.best() == &a.samples[2]);
  // Jitter over the ok samples only: offsets 0, 1, 1 s around the selected 1 s:
  // sqrt((1 + 0) / 2) s; the insane sample's 100 s would make it about 70 s.
  CHECK(a.jitter.to_seconds() == doctest::Approx(0.7071067811865476));
}

TEST_CASE("conclude: a kiss makes the address fail even beside a good sample") {
  // DESIGN.md: a KoD is a failed target (exit 1) and the code is named.
  address_report a;
  a.samples = {make(proto::verdict::ok, 0, 100), kiss("RATE")};
  conclude(a, {});
  CHECK(a.error.kind == error_kind::kiss);
  CHECK(a.error.kiss_code == "RATE");
  CHECK(a.error.message ==
        "kiss-o'-death RATE (rate exceeded: the server has reduced the poll interval); no further requests sent");
  CHECK_FALSE(a.ok());
}

TEST_CASE("conclude: a kiss drawn by another query of the run fails the address too") {
  // The same address under two names: one query's good sample, then the other query's kiss
  // stopped this one before its next request (integration test_kod.py).
  address_report a;
  a.samples = {make(proto::verdict::ok, 0, 100)};
  conclude(a, {error_kind::kiss, "no further requests sent: it sent kiss-o'-death RATE", "RATE"});
  CHECK(a.error.kind == error_kind::kiss);
  CHECK(a.error.kiss_code == "RATE");
  CHECK_FALSE(a.ok());
  REQUIRE(a.selected.has_value());
}

TEST_CASE("conclude names why the last sample failed when none is ok") {
  address_report unsync16;
  unsync16.samples = {make(proto::verdict::unsynchronised, 0, 0)};
  unsync16.samples[0].reply.stratum = 16;
  conclude(unsync16, {});
  CHECK(unsync16.error.kind == error_kind::unsynchronised);
  CHECK(unsync16.error.message == "server unsynchronised (stratum 16)");
  CHECK_FALSE(unsync16.selected.has_value());

  address_report alarm;
  alarm.samples = {make(proto::verdict::unsynchronised, 0, 0)};
  alarm.samples[0].reply.leap = proto::leap_indicator::unsynchronised;
  conclude(alarm, {});
  CHECK(alarm.error.message == "server unsynchronised (leap indicator 3)");

  address_report insane;
  insane.samples = {make(proto::verdict::insane, 0, 0)};
  auto& checks = insane.samples[0].assessed.checks;
  checks.set(proto::check::mode, true);
  checks.set(proto::check::round_trip, false);
  checks.set(proto::check::receive, false);
  conclude(insane, {});
  CHECK(insane.error.kind == error_kind::sanity);
  CHECK(insane.error.message == "reply failed sanity checks: receive, round_trip");

  address_report mac;
  mac.samples = {make(proto::verdict::bad_mac, 0, 0)};
  conclude(mac, {});
  CHECK(mac.error.kind == error_kind::auth);
}

TEST_CASE("conclude without samples reports the transport error, or a timeout") {
  address_report unreachable;
  conclude(unreachable, {error_kind::unreachable, "ICMP port unreachable", {}});
  CHECK(unreachable.error.kind == error_kind::unreachable);
  CHECK(unreachable.error.message == "ICMP port unreachable");

  address_report silent;
  conclude(silent, {});
  CHECK(silent.error.kind == error_kind::timeout);
  CHECK(silent.error.message == "no reply");
}

TEST_CASE("conclude counts ignored datagrams into the error message, in first-seen order") {
  address_report a;
  a.ignore("origin");
  a.ignore("truncated");
  a.ignore("origin");
  REQUIRE(a.ignored.size() == 2);
  CHECK(a.ignored[0].reason == "origin");
  CHECK(a.ignored[0].count == 2);
  conclude(a, {});
  CHECK(a.error.message == "no reply (ignored: 2 origin, 1 truncated)");

  // With a usable answer there is no error to annotate.
  address_report fine;
  fine.ignore("origin");
  fine.samples = {make(proto::verdict::ok, 0, 1)};
  conclude(fine, {});
  CHECK_FALSE(fine.error);
}

TEST_CASE("conclude starts over: a second call does not keep the first call's state") {
  address_report a;
  a.samples = {make(proto::verdict::ok, 0, 1)};
  conclude(a, {error_kind::timeout, "no reply", {}});
  CHECK(a.ok());  // an answer beats an earlier timeout
  a.samples.clear();
  conclude(a, {});
  CHECK_FALSE(a.selected.has_value());
  CHECK(a.jitter.bits() == 0);
  CHECK(a.error.message == "no reply");
}

TEST_CASE("a target is ok only when it resolved and every address is ok") {
  report::target_report t;
  CHECK_FALSE(t.ok());  // no address at all
  address_report good;
  good.samples = {make(proto::verdict::ok, 0, 1)};
  conclude(good, {});
  t.addresses = {good};
  CHECK(t.ok());
  address_report bad;
  conclude(bad, {});
  t.addresses.push_back(bad);
  CHECK_FALSE(t.ok());

  report::probe_report r;
  CHECK(r.ok());  // vacuously
  r.targets = {t};
  CHECK_FALSE(r.ok());
}

TEST_CASE("error kinds and time sources have the snake_case names JSON uses") {
  CHECK(report::error_kind_name(error_kind::none) == "none");
  CHECK(report::error_kind_name(error_kind::resolve) == "resolve");
  CHECK(report::error_kind_name(error_kind::timeout) == "timeout");
  CHECK(report::error_kind_name(error_kind::unreachable) == "unreachable");
  CHECK(report::error_kind_name(error_kind::network) == "network");
  CHECK(report::error_kind_name(error_kind::kiss) == "kiss");
  CHECK(report::error_kind_name(error_kind::unsynchronised) == "unsynchronised");
  CHECK(report::error_kind_name(error_kind::sanity) == "sanity");
  CHECK(report::error_kind_name(error_kind::auth) == "auth");
  CHECK(report::error_kind_name(error_kind::usage) == "usage");
  CHECK(report::time_source_name(report::time_source::user) == "user");
  CHECK(report::time_source_name(report::time_source::kernel) == "kernel");
}

// auth_status names what the replies did when every one was refused, so that an operator can
// tell a wrong secret (bad_mac) from a server that does not sign (no_mac) or uses another key.
TEST_CASE("auth_status: from the reasons replies were refused, in a fixed order") {
  report::address_report a;
  CHECK(report::auth_status(a).empty());  // no key used
  a.key = report::key_use{5, "SHA256", 20, 4};
  CHECK(report::auth_status(a) == "no_reply");
  a.ignore("crypto_nak");
  CHECK(report::auth_status(a) == "crypto_nak");
  a.ignore("mac_key_id");
  CHECK(report::auth_status(a) == "unknown_key");
  a.ignore("mac_missing");
  CHECK(report::auth_status(a) == "no_mac");
  a.ignore("mac");
  CHECK(report::auth_status(a) == "bad_mac");
  a.samples.push_back(test::good_sample());
  report::conclude(a, {});
  CHECK(report::auth_status(a) == "authenticated");
}

// RFC 5905 §7.3: a server synchronised to an IPv6 upstream sends the first 32 bits of the MD5
// of that address as its refid. Only a known candidate tells it from an IPv4 address.
TEST_CASE("match_ipv6_refids names the IPv6 upstream whose hash the refid is") {
  report::target_report t;
  auto& a = t.addresses.emplace_back();
  a.samples.push_back(test::good_sample());  // stratum 2
  std::array<std::uint8_t, 16> loopback{};
  loopback[15] = 1;
  a.samples[0].reply.refid = proto::refid_of_ipv6(std::span<const std::uint8_t, 16>(loopback));

  report::ipv6_refid_table table;
  CHECK(!report::add_ipv6_refid(table, "192.0.2.1"));
  CHECK(!report::add_ipv6_refid(table, "not an address"));
  CHECK(report::add_ipv6_refid(table, "2001:db8::1"));
  report::match_ipv6_refids(t, table);
  CHECK(a.samples[0].refid_ipv6.empty());
  CHECK(report::describe_refid(a.samples[0]).kind == proto::refid_kind::ipv4);

  CHECK(report::add_ipv6_refid(table, "::1"));
  report::match_ipv6_refids(t, table);
  CHECK(a.samples[0].refid_ipv6 == "::1");
  const auto info = report::describe_refid(a.samples[0]);
  CHECK(info.kind == proto::refid_kind::ipv6_hash);
  CHECK(info.text == "::1");

  // Stratum 1 refids are source names, never hashes.
  a.samples[0].refid_ipv6.clear();
  a.samples[0].reply.stratum = 1;
  report::match_ipv6_refids(t, table);
  CHECK(a.samples[0].refid_ipv6.empty());
}
