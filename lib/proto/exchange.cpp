#include "ntpkit/proto/exchange.hpp"

#include <cmath>
#include <cstdlib>

#include "ntpkit/proto/refid.hpp"

namespace ntpkit::proto {
namespace {

constexpr std::string_view name_of(check c) noexcept {
  switch (c) {
    case check::source: return "source";
    case check::mode: return "mode";
    case check::version: return "version";
    case check::origin: return "origin";
    case check::mac: return "mac";
    case check::transmit: return "transmit";
    case check::receive: return "receive";
    case check::server_order: return "server_order";
    case check::round_trip: return "round_trip";
    case check::leap: return "leap";
    case check::stratum: return "stratum";
    case check::root_distance: return "root_distance";
    case check::reference: return "reference";
  }
  return "unknown";
}

// RFC 5905 MAXDISP: 16 s.
constexpr duration max_dispersion = duration::from_bits(std::int64_t{16} << 32);

association_mode expected_reply_mode(association_mode sent) {
  return sent == association_mode::symmetric_active ? association_mode::symmetric_passive
                                                    : association_mode::server;
}

}  // namespace

std::string_view check_name(check c) noexcept { return name_of(c); }

std::optional<check> check_results::first_failure() const noexcept {
  for (std::size_t i = 0; i < check_count; ++i) {
    if (failed_ & (1u << i)) return static_cast<check>(i);
  }
  return std::nullopt;
}

std::string_view verdict_name(verdict v) noexcept {
  switch (v) {
    case verdict::ok: return "ok";
    case verdict::not_for_us: return "not_for_us";
    case verdict::bad_mac: return "bad_mac";
    case verdict::kiss: return "kiss";
    case verdict::unsynchronised: return "unsynchronised";
    case verdict::insane: return "insane";
  }
  return "unknown";
}

measurement measure(const exchange_times& t, std::int8_t server_precision,
                    std::int8_t local_precision) noexcept {
  measurement m;
  const duration forward = t.t2 - t.t1;   // T2 - T1
  const duration backward = t.t3 - t.t4;  // T3 - T4
  m.offset = midpoint(forward, backward);
  m.processing = t.t3 - t.t2;
  const duration round_trip = t.t4 - t.t1;
  m.delay = round_trip - m.processing;
  const std::int64_t rt_bits = round_trip.bits() < 0 ? 0 : round_trip.bits();
  m.dispersion = duration::from_log2(server_precision) + duration::from_log2(local_precision) +
                 duration::from_bits(rt_bits / 1'000'000 * phi_ppm +
                                     rt_bits % 1'000'000 * phi_ppm / 1'000'000);
  return m;
}

duration root_distance(const packet& reply, const measurement& m, duration jitter) noexcept {
  const duration delay = m.delay.bits() < 0 ? duration{} : m.delay;
  return midpoint(reply.root_delay.to_duration(), delay) + reply.root_dispersion.to_duration() +
         m.dispersion + jitter;
}

assessment assess_reply(const packet& reply, timestamp t1, timestamp t4,
                        const reply_expectation& e) {
  assessment a;
  auto& c = a.checks;
  c.set(check::source, e.from_expected_source);
  c.set(check::mode, reply.mode == expected_reply_mode(e.sent_mode));
  c.set(check::version, reply.version >= 1 && reply.version <= 4);
  c.set(check::origin, reply.origin == e.sent_transmit);
  if (e.mac_verified) c.set(check::mac, *e.mac_verified);
  c.set(check::transmit, !reply.transmit.is_zero());
  c.set(check::receive, !reply.receive.is_zero());
  const duration processing = reply.transmit - reply.receive;
  c.set(check::server_order, processing.bits() >= 0);
  const duration slack = duration::from_log2(reply.precision) + duration::from_log2(e.local_precision);
  c.set(check::round_trip, processing <= (t4 - t1) + slack);
  c.set(check::leap, reply.leap != leap_indicator::unsynchronised);
  c.set(check::stratum, reply.stratum >= 1 && reply.stratum <= 15);
  const duration root =
      midpoint(reply.root_delay.to_duration(), duration{}) + reply.root_dispersion.to_duration();
  c.set(check::root_distance, root < max_dispersion);
  // A kiss or an unsynchronised server may leave the reference time unset, so it is not judged.
  // A zero reference time means "never synchronised": an orphan-mode ntpd serves stratum 10
  // with it until it first selects a source, and ntpd, ntpdig and chrony all accept that (RFC
  // 5905 A.5.1.1 only rejects reftime > xmt). A zero must not reach the wrapping subtraction:
  // it would read as 2036-02-07 (era 1), after any T3 of this era.
  if (reply.stratum >= 1 && reply.stratum <= 15) {
    c.set(check::reference,
          reply.reference.is_zero() || (reply.transmit - reply.reference).bits() >= 0);
  }

  if (c.failed(check::source) || c.failed(check::mode) || c.failed(check::origin)) {
    a.result = verdict::not_for_us;
  } else if (c.failed(check::mac)) {
    a.result = verdict::bad_mac;
  } else if (reply.stratum == 0) {
    a.result = verdict::kiss;
    a.kiss_code = decode_refid(reply.refid, 0).text;
  } else if (c.failed(check::leap) || reply.stratum >= 16) {
    a.result = verdict::unsynchronised;
  } else if (!c.all_passed()) {
    a.result = verdict::insane;
  }
  return a;
}

measurement measure_broadcast(timestamp t3, timestamp t4, duration assumed_delay,
                              std::int8_t server_precision, std::int8_t local_precision) noexcept {
  measurement m;
  m.offset = (t3 - t4) + assumed_delay;
  m.delay = assumed_delay;
  const std::int64_t d = assumed_delay.bits() < 0 ? 0 : assumed_delay.bits();
  m.dispersion = duration::from_log2(server_precision) + duration::from_log2(local_precision) +
                 duration::from_bits(d / 1'000'000 * phi_ppm + d % 1'000'000 * phi_ppm / 1'000'000);
  return m;
}

assessment assess_broadcast(const packet& p, const reply_expectation& e) {
  assessment a;
  auto& c = a.checks;
  c.set(check::source, e.from_expected_source);
  c.set(check::mode, p.mode == association_mode::broadcast);
  c.set(check::version, p.version >= 1 && p.version <= 4);
  if (e.mac_verified) c.set(check::mac, *e.mac_verified);
  c.set(check::transmit, !p.transmit.is_zero());
  c.set(check::leap, p.leap != leap_indicator::unsynchronised);
  c.set(check::stratum, p.stratum >= 1 && p.stratum <= 15);
  const duration root =
      midpoint(p.root_delay.to_duration(), duration{}) + p.root_dispersion.to_duration();
  c.set(check::root_distance, root < max_dispersion);
  if (p.stratum >= 1 && p.stratum <= 15 && !p.reference.is_zero()) {
    c.set(check::reference, (p.transmit - p.reference).bits() >= 0);
  }
  if (c.failed(check::source) || c.failed(check::mode)) {
    a.result = verdict::not_for_us;
  } else if (c.failed(check::mac)) {
    a.result = verdict::bad_mac;
  } else if (c.failed(check::leap) || p.stratum == 0 || p.stratum >= 16) {
    a.result = verdict::unsynchronised;
  } else if (!c.all_passed()) {
    a.result = verdict::insane;
  }
  return a;
}

std::size_t select_min_delay(std::span<const measurement> samples) noexcept {
  std::size_t best = 0;
  for (std::size_t i = 1; i < samples.size(); ++i) {
    if (samples[i].delay < samples[best].delay) best = i;
  }
  return best;
}

duration offset_jitter(std::span<const measurement> samples, std::size_t selected) noexcept {
  if (samples.size() < 2) return {};
  // A statistic, not a wire value: long double keeps 64 bits of mantissa for the squares.
  long double sum = 0;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    if (i == selected) continue;
    // Subtract as long double: two offsets in ±2^31 s can differ by more than a 32.32
    // duration holds, and a wrapped difference would make a wild sample look close.
    const long double d = static_cast<long double>(samples[i].offset.bits()) -
                          static_cast<long double>(samples[selected].offset.bits());
    sum += d * d;
  }
  // std::sqrt is the x87 instruction here (this file is built with -fno-math-errno, see
  // lib/CMakeLists.txt), and the rounding below is std::llroundl's (half away from zero) for
  // this non-negative value: neither calls libm, which programs then need not load.
  const long double rms = std::sqrt(sum / static_cast<long double>(samples.size() - 1));
  constexpr long double max_bits = 9.2e18L;
  if (rms >= max_bits) return duration::from_bits(std::int64_t{9'200'000'000'000'000'000});
  auto bits = static_cast<std::int64_t>(rms);                  // toward zero
  if (rms - static_cast<long double>(bits) >= 0.5L) ++bits;    // exact: 64-bit mantissa
  return duration::from_bits(bits);
}

}  // namespace ntpkit::proto
