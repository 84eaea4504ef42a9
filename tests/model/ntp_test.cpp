#include "ntpkit/model/ntp.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "ntpkit/report/describe.hpp"
#include "support/report_fixture.hpp"

using namespace ntpkit;
using model::ntp_address;
using model::conclude;
using model::error_cause;
using model::error_kind;
using report::address_error_text;

namespace {

constexpr std::int64_t one_s = std::int64_t{1} << 32;

// A sample with the given verdict, offset and delay (in 2^-32 s units).
model::sample make(proto::verdict v, std::int64_t offset, std::int64_t delay) {
  model::sample s;
  s.reply.mode = proto::association_mode::server;
  s.reply.stratum = 2;
  s.assessed.result = v;
  s.measured.offset = proto::duration::from_bits(offset);
  s.measured.delay = proto::duration::from_bits(delay);
  return s;
}

model::sample kiss(const char* code) {
  auto s = make(proto::verdict::kiss, 0, 0);
  s.reply.stratum = 0;
  s.assessed.kiss_code = code;
  return s;
}

}  // namespace

TEST_CASE("conclude selects the least delay among the ok samples, by index into all samples") {
  // The insane sample has the least delay of all and must not be chosen; the index is into
  // address_report::samples, not into the list of good ones.
  ntp_address a;
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
  ntp_address a;
  a.samples = {make(proto::verdict::ok, 0, 100), kiss("RATE")};
  conclude(a, {});
  CHECK(a.error.kind == error_kind::kiss);
  CHECK(a.error.kiss_code == "RATE");
  CHECK(a.error.cause == error_cause::kiss_received);
  CHECK(address_error_text(a) ==
        "kiss-o'-death RATE (rate exceeded: the client must send less often); no further requests sent");
  CHECK_FALSE(a.ok());
}

TEST_CASE("conclude: a kiss drawn by another query of the run fails the address too") {
  // The same address under two names: one query's good sample, then the other query's kiss
  // stopped this one before its next request (integration test_kod.py).
  ntp_address a;
  a.samples = {make(proto::verdict::ok, 0, 100)};
  auto elsewhere = model::failure(error_kind::kiss, error_cause::kissed_earlier);
  elsewhere.kiss_code = "RATE";
  elsewhere.requests_before = 1;
  conclude(a, elsewhere);
  CHECK(address_error_text(a) ==
        "no further requests: it sent kiss-o'-death RATE earlier in this run");
  CHECK(a.error.kind == error_kind::kiss);
  CHECK(a.error.kiss_code == "RATE");
  CHECK_FALSE(a.ok());
  REQUIRE(a.selected.has_value());
}

TEST_CASE("conclude names why the last sample failed when none is ok") {
  ntp_address unsync16;
  unsync16.samples = {make(proto::verdict::unsynchronised, 0, 0)};
  unsync16.samples[0].reply.stratum = 16;
  conclude(unsync16, {});
  CHECK(unsync16.error.kind == error_kind::unsynchronised);
  CHECK(unsync16.error.cause == error_cause::stratum_unsynchronised);
  CHECK(unsync16.error.stratum == 16);
  CHECK(address_error_text(unsync16) == "server unsynchronised (stratum 16)");
  CHECK_FALSE(unsync16.selected.has_value());

  ntp_address alarm;
  alarm.samples = {make(proto::verdict::unsynchronised, 0, 0)};
  alarm.samples[0].reply.leap = proto::leap_indicator::unsynchronised;
  conclude(alarm, {});
  CHECK(alarm.error.cause == error_cause::leap_alarm);
  CHECK(address_error_text(alarm) == "server unsynchronised (leap indicator 3)");

  ntp_address insane;
  insane.samples = {make(proto::verdict::insane, 0, 0)};
  auto& checks = insane.samples[0].assessed.checks;
  checks.set(proto::check::mode, true);
  checks.set(proto::check::round_trip, false);
  checks.set(proto::check::receive, false);
  conclude(insane, {});
  CHECK(insane.error.kind == error_kind::sanity);
  CHECK(insane.error.cause == error_cause::checks_failed);
  CHECK(insane.error.checks.failed(proto::check::receive));
  CHECK(address_error_text(insane) == "reply failed sanity checks: receive, round_trip");

  ntp_address mac;
  mac.samples = {make(proto::verdict::bad_mac, 0, 0)};
  conclude(mac, {});
  CHECK(mac.error.kind == error_kind::auth);
  CHECK(address_error_text(mac) == "reply MAC does not verify");
}

TEST_CASE("conclude without samples reports the transport error, or a timeout") {
  auto unreachable = test::located("192.0.2.1", 123);
  conclude(unreachable, model::transport_error(std::make_error_code(std::errc::connection_refused),
                                               false));
  CHECK(unreachable.error.kind == error_kind::unreachable);
  CHECK(unreachable.error.cause == error_cause::port_unreachable);
  CHECK(address_error_text(unreachable) ==
        "port unreachable: nothing listens on 192.0.2.1:123");

  ntp_address silent;
  conclude(silent, {});
  CHECK(silent.error.kind == error_kind::timeout);
  CHECK(silent.error.cause == error_cause::no_reply);
  CHECK(address_error_text(silent) == "no reply");
}

TEST_CASE("conclude counts ignored datagrams into the error message, in first-seen order") {
  ntp_address a;
  a.ignored.add(proto::ignore_reason::origin);
  a.ignored.add(proto::ignore_reason::malformed);
  a.ignored.add(proto::ignore_reason::origin);
  const std::vector<std::pair<proto::ignore_reason, std::uint32_t>> seen(a.ignored.begin(),
                                                                         a.ignored.end());
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].first == proto::ignore_reason::origin);
  CHECK(seen[0].second == 2);
  CHECK(a.ignored.total() == 3);
  conclude(a, {});
  CHECK(address_error_text(a) == "no reply (ignored: 2 origin, 1 malformed)");

  // With a usable answer there is no error to annotate.
  ntp_address fine;
  fine.ignored.add(proto::ignore_reason::origin);
  fine.samples = {make(proto::verdict::ok, 0, 1)};
  conclude(fine, {});
  CHECK_FALSE(fine.error);
}

TEST_CASE("conclude starts over: a second call does not keep the first call's state") {
  ntp_address a;
  a.samples = {make(proto::verdict::ok, 0, 1)};
  conclude(a, model::failure(error_kind::timeout, error_cause::no_reply));
  CHECK(a.ok());  // an answer beats an earlier timeout
  a.samples.clear();
  conclude(a, {});
  CHECK_FALSE(a.selected.has_value());
  CHECK_FALSE(a.shown.has_value());
  CHECK(a.jitter.bits() == 0);
  CHECK(a.root_distance.bits() == 0);
  CHECK(address_error_text(a) == "no reply");
}

TEST_CASE("a target is ok only when it resolved and every address is ok") {
  model::ntp_target t;
  CHECK_FALSE(t.ok());  // no address at all
  ntp_address good;
  good.samples = {make(proto::verdict::ok, 0, 1)};
  conclude(good, {});
  t.addresses = {good};
  CHECK(t.ok());
  ntp_address bad;
  conclude(bad, {});
  t.addresses.push_back(bad);
  CHECK_FALSE(t.ok());

  model::ntp_run r;
  CHECK(r.ok());  // vacuously
  r.targets = {t};
  CHECK_FALSE(r.ok());
}

TEST_CASE("error kinds and time sources have the snake_case names JSON uses") {
  CHECK(model::error_kind_name(error_kind::none) == "none");
  CHECK(model::error_kind_name(error_kind::resolve) == "resolve");
  CHECK(model::error_kind_name(error_kind::timeout) == "timeout");
  CHECK(model::error_kind_name(error_kind::unreachable) == "unreachable");
  CHECK(model::error_kind_name(error_kind::network) == "network");
  CHECK(model::error_kind_name(error_kind::kiss) == "kiss");
  CHECK(model::error_kind_name(error_kind::unsynchronised) == "unsynchronised");
  CHECK(model::error_kind_name(error_kind::sanity) == "sanity");
  CHECK(model::error_kind_name(error_kind::auth) == "auth");
  CHECK(model::error_kind_name(error_kind::usage) == "usage");
  CHECK(model::error_kind_name(error_kind::interrupted) == "interrupted");
  CHECK(proto::time_source_name(proto::time_source::user) == "user");
  CHECK(proto::time_source_name(proto::time_source::kernel) == "kernel");
}

// auth_status names what the replies did when every one was refused, so that an operator can
// tell a wrong secret (bad_mac) from a server that does not sign (no_mac) or uses another key.
TEST_CASE("conclude: auth from the reasons replies were refused, in a fixed order") {
  using model::auth_status;
  using proto::ignore_reason;
  model::ntp_address a;
  auto status = [&] {
    model::conclude(a, {});
    return a.auth;
  };
  CHECK(status() == auth_status::not_used);  // no key used
  CHECK(model::auth_status_name(a.auth).empty());
  a.key = model::key_use{5, proto::mac_algorithm::sha256, 20, 4};
  CHECK(status() == auth_status::no_reply);
  a.ignored.add(ignore_reason::crypto_nak);
  CHECK(status() == auth_status::crypto_nak);
  a.ignored.add(ignore_reason::mac_key_id);
  CHECK(status() == auth_status::unknown_key);
  a.ignored.add(ignore_reason::mac_missing);
  CHECK(status() == auth_status::no_mac);
  a.ignored.add(ignore_reason::mac);
  CHECK(status() == auth_status::bad_mac);
  CHECK(model::auth_status_name(a.auth) == "bad_mac");
  a.samples.push_back(test::good_sample());
  CHECK(status() == auth_status::authenticated);
  CHECK(model::auth_status_name(a.auth) == "authenticated");
}

// RFC 5905 §7.3: a server synchronised to an IPv6 upstream sends the first 32 bits of the MD5
// of that address as its refid. Only a known candidate tells it from an IPv4 address.
TEST_CASE("match_ipv6_refids names the IPv6 upstream whose hash the refid is") {
  model::ntp_target t;
  auto& a = t.addresses.emplace_back();
  a.samples.push_back(test::good_sample());  // stratum 2
  std::array<std::uint8_t, 16> loopback{};
  loopback[15] = 1;
  a.samples[0].reply.refid = proto::refid_of_ipv6(std::span<const std::uint8_t, 16>(loopback));

  model::ipv6_refid_table table;
  CHECK(!model::add_ipv6_refid(table, "192.0.2.1"));
  CHECK(!model::add_ipv6_refid(table, "not an address"));
  CHECK(model::add_ipv6_refid(table, "2001:db8::1"));
  model::match_ipv6_refids(t, table);
  CHECK(a.samples[0].refid_ipv6.empty());
  CHECK(model::describe_refid(a.samples[0]).kind == proto::refid_kind::ipv4);

  CHECK(model::add_ipv6_refid(table, "::1"));
  model::match_ipv6_refids(t, table);
  CHECK(a.samples[0].refid_ipv6 == "::1");
  const auto info = model::describe_refid(a.samples[0]);
  CHECK(info.kind == proto::refid_kind::ipv6_hash);
  CHECK(info.text == "::1");

  // Stratum 1 refids are source names, never hashes.
  a.samples[0].refid_ipv6.clear();
  a.samples[0].reply.stratum = 1;
  model::match_ipv6_refids(t, table);
  CHECK(a.samples[0].refid_ipv6.empty());
}
