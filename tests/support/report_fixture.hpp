#pragma once

// A hand-built probe_report with round numbers, shared by the JSON and text tests. Every value
// the formatters print is derived by hand in the comments here, not taken from their output.
//
// Target 0 "127.0.0.1:11123": one good sample. T1 = 2026-11-26T04:00:00Z (NTP 0xeeb22d40),
//   T2 = T1 + 10 s, T3 = T1 + 10.25 s, T4 = T1 + 0.5 s, so offset = (10 + 9.75) / 2 = 9.875 s,
//   delay = 0.5 - 0.25 = 0.25 s, processing 0.25 s; dispersion set to 2^-12 s; root delay
//   0.5 s, root dispersion 0.25 s, so root distance = (0.5 + 0.25) / 2 + 0.25 + 2^-12
//   = 0.625244140625 s; reference time T1 - 64 s = 03:58:56Z (0xeeb22d00); refid 192.0.2.1;
//   2 requests, 1 reply.
// Target 1 "nosuch.invalid": a resolve error.
// Target 2 "localhost:11124": [::1] timed out after 3 requests with one datagram ignored for
//   its origin; 127.0.0.1 answered with a KoD RATE (stratum 0, LI 3, reference zero, origin =
//   receive = transmit = our transmit bits, as NTPsec sends it).

#include <chrono>

#include "ntpkit/proto/exchange.hpp"
#include "ntpkit/model/ntp.hpp"
#include "support/test_support.hpp"

namespace ntpkit::test {

inline constexpr std::int64_t one_s_bits = std::int64_t{1} << 32;

/// 2026-11-26T04:00:00Z plus `ns`.
inline proto::date fixture_date(std::int64_t ns = 0) {
  return proto::date::from_sys_time(utc(2026, 11, 26, 4, 0, 0) + std::chrono::nanoseconds{ns});
}

inline model::sample good_sample() {
  using namespace proto;
  model::sample s;
  s.t1_date = fixture_date();
  s.t4_date = fixture_date(500'000'000);
  const timestamp t1 = s.t1_date.to_timestamp();
  s.times = {t1, t1 + duration::from_bits(10 * one_s_bits),
             t1 + duration::from_bits(10 * one_s_bits + one_s_bits / 4), s.t4_date.to_timestamp()};
  s.t1_source = proto::time_source::kernel;
  s.t4_source = proto::time_source::user;
  const auto sent = timestamp::from_bits(0x0123'4567'89ab'cdefu);
  auto& p = s.reply;
  p.leap = leap_indicator::none;
  p.version = 4;
  p.mode = association_mode::server;
  p.stratum = 2;
  p.poll = 6;
  p.precision = -20;
  p.root_delay = short_duration::from_bits(0x0000'8000);
  p.root_dispersion = short_duration::from_bits(0x0000'4000);
  p.refid = {192, 0, 2, 1};
  p.reference = t1 + duration::from_bits(-64 * one_s_bits);
  p.origin = sent;
  p.receive = s.times.t2;
  p.transmit = s.times.t3;
  s.measured.offset = duration::from_bits(9 * one_s_bits + 7 * one_s_bits / 8);
  s.measured.delay = duration::from_bits(one_s_bits / 4);
  s.measured.processing = duration::from_bits(one_s_bits / 4);
  s.measured.dispersion = duration::from_bits(one_s_bits >> 12);
  reply_expectation e;
  e.sent_transmit = sent;
  s.assessed = assess_reply(p, s.times.t1, s.times.t4, e);
  return s;
}

inline model::sample kiss_sample() {
  using namespace proto;
  model::sample s;
  s.t1_date = fixture_date(1'000'000'000);
  s.t4_date = fixture_date(1'000'100'000);
  const auto sent = timestamp::from_bits(0x64ef'10b6'df8e'ce83u);
  s.times = {s.t1_date.to_timestamp(), sent, sent, s.t4_date.to_timestamp()};
  auto& p = s.reply;
  p.leap = leap_indicator::unsynchronised;
  p.version = 4;
  p.mode = association_mode::server;
  p.stratum = 0;
  p.refid = {'R', 'A', 'T', 'E'};
  p.origin = sent;
  p.receive = sent;
  p.transmit = sent;
  reply_expectation e;
  e.sent_transmit = sent;
  s.assessed = assess_reply(p, s.times.t1, s.times.t4, e);
  return s;
}

/// A resolver error whose message is "Host not found", as the fixture's unresolved name has.
inline std::error_code host_not_found_code() {
  struct category final : std::error_category {
    const char* name() const noexcept override { return "test.resolver"; }
    std::string message(int) const override { return "Host not found"; }
  };
  static const category instance;
  return {1, instance};
}

/// An address result at `numeric:port`, located as net would locate it.
inline model::ntp_address located(const char* numeric, std::uint16_t port,
                                  model::family f = model::family::ipv4) {
  model::ntp_address a;
  a.locate(numeric, port, f);
  return a;
}

inline model::ntp_target target_of(const char* spec, const char* host, std::uint16_t port) {
  model::ntp_target t;
  t.spec = spec;
  t.host = host;
  t.port = port;
  return t;
}

inline model::ntp_run fixture_report() {
  using namespace model;
  ntp_run r;
  r.started = fixture_date();

  auto ok = target_of("127.0.0.1:11123", "127.0.0.1", 11123);
  auto a = located("127.0.0.1", 11123);
  a.requests = 2;
  a.samples.push_back(good_sample());
  conclude(a, {});
  ok.addresses.push_back(a);
  r.targets.push_back(ok);

  auto unresolved = target_of("nosuch.invalid", "nosuch.invalid", 123);
  unresolved.error = failure(error_kind::resolve, error_cause::host_not_found);
  unresolved.error.code = host_not_found_code();
  r.targets.push_back(unresolved);

  auto two = target_of("localhost:11124", "localhost", 11124);
  auto v6 = located("::1", 11124, family::ipv6);
  v6.requests = 3;
  v6.ignored.add(proto::ignore_reason::origin);
  conclude(v6, {});
  two.addresses.push_back(v6);
  auto kissed = located("127.0.0.1", 11124);
  kissed.requests = 1;
  kissed.samples.push_back(kiss_sample());
  conclude(kissed, {});
  two.addresses.push_back(kissed);
  r.targets.push_back(two);
  return r;
}

}  // namespace ntpkit::test
