#pragma once

// The reply model shared by fuzz_reply (classifier) and fuzz_report (classifier and formatters):
// an input is a 26-byte prefix that stands for what the client knows (T1, T4, the origin it
// expects, ...) followed by the datagram. The datagram goes through parse_packet,
// assess_reply, measure and root_distance; one or more samples of it are concluded into an
// address report, which fuzz_report also renders with the text and JSON formatters.
//
// Prefix (big-endian):
//   0..7    T1, our transmit time as wire timestamp bits
//   8..11   T4 - T1, signed, in 2^-16 s (about ±9 h: our clock may step between the two)
//   12..19  the transmit field of our request: the origin a reply must carry
//   20      flags: 0x01 expect the reply's own origin (the common case) instead of 12..19
//                  0x02 the datagram came from another address or port
//                  0x0c MAC: 0 no key used, 1 verified, 2 failed, 3 no key used
//                  0x10 we sent symmetric active (mode 1), not client (mode 3)
//                  0x20 a second sample of the same reply, received at T4 + spacing
//                  0x40 T1 and T4 are kernel timestamps, not user-space clock readings
//                  0x80 the exchange ended with ICMP unreachable rather than a timeout
//   21      local precision: -(byte % 33)
//   22      T1's era, signed: T1's date is era × 2^32 s + T1, so that extreme eras reach the
//           saturation at the ends of sys_time<nanoseconds> (years 1677 and 2262)
//   23      datagrams ignored before this one ("origin")
//   24..25  spacing, signed, in 2^-20 s: a negative one gives the second sample less delay
//   26..    the datagram
//
// Invariants: a reply whose origin is not the one expected (or from the wrong source, or in
// the wrong mode) is not_for_us; kiss only at stratum 0 and always at stratum 0 once a reply
// is for us and authentic; an ok reply passed every check; the on-wire values satisfy RFC 5905
// §8 exactly (in wrapping arithmetic); conclude selects the ok sample with the least delay
// and reports a kiss when there was one; the formatters never throw, the text of a reply has
// no control characters, and the JSON parses back with nlohmann and says what was measured.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <span>
#include <string>

#include "fuzz_check.hpp"
#include "ntpkit/proto/bytes.hpp"
#include "ntpkit/proto/exchange.hpp"
#include "ntpkit/proto/ntp_query.hpp"
#include "ntpkit/proto/packet.hpp"
#include "ntpkit/proto/refid.hpp"
#include "ntpkit/report/json.hpp"
#include "ntpkit/model/ntp.hpp"
#include "ntpkit/report/text.hpp"
#include "reply_json_check.hpp"

namespace ntpkit::fuzz {
namespace {

using namespace ntpkit;
using proto::check;
using proto::verdict;

constexpr std::size_t prefix_size = 26;

__extension__ typedef __int128 i128;

struct client_state {
  proto::timestamp t1;
  proto::duration t4_after_t1;
  proto::reply_expectation expected;
  bool expect_reply_origin = false;
  unsigned extra_samples = 0;
  proto::time_source clock = proto::time_source::user;
  bool unreachable = false;
  proto::date t1_date;
  unsigned ignored = 0;
  proto::duration spacing;
};

client_state read_prefix(std::span<const std::uint8_t> in) {
  client_state c;
  c.t1 = proto::timestamp::from_bits(proto::load_be64(in, 0));
  const auto delta = static_cast<std::int32_t>(proto::load_be32(in, 8));
  c.t4_after_t1 = proto::duration::from_bits(std::int64_t{delta} * 65536);
  c.expected.sent_transmit = proto::timestamp::from_bits(proto::load_be64(in, 12));
  const std::uint8_t flags = in[20];
  c.expect_reply_origin = (flags & 0x01) != 0;
  c.expected.from_expected_source = (flags & 0x02) == 0;
  const unsigned mac = (flags >> 2) & 3u;
  if (mac == 1 || mac == 2) c.expected.mac_verified = mac == 1;
  c.expected.sent_mode =
      (flags & 0x10) ? proto::association_mode::symmetric_active : proto::association_mode::client;
  c.extra_samples = (flags >> 5) & 1u;
  if (flags & 0x40) c.clock = proto::time_source::kernel;
  c.unreachable = (flags & 0x80) != 0;
  c.expected.local_precision = static_cast<std::int8_t>(-(in[21] % 33));
  const std::int64_t era = static_cast<std::int8_t>(in[22]);
  c.t1_date =
      proto::date::from_parts(era * (std::int64_t{1} << 32) + c.t1.seconds(), c.t1.fraction());
  c.ignored = in[23];
  const auto spacing = static_cast<std::int16_t>(proto::load_be16(in, 24));
  c.spacing = proto::duration::from_bits(std::int64_t{spacing} * 4096);
  return c;
}

void check_assessment(const proto::packet& reply, const proto::reply_expectation& e,
                      const proto::assessment& a) {
  const auto& c = a.checks;
  for (std::size_t i = 0; i < proto::check_count; ++i) {
    const auto k = static_cast<check>(i);
    NTPKIT_FUZZ_CHECK(!c.failed(k) || c.ran(k));
  }
  NTPKIT_FUZZ_CHECK(c.first_failure().has_value() == !c.all_passed());
  NTPKIT_FUZZ_CHECK(c.ran(check::mac) == e.mac_verified.has_value());
  const bool wrong_mode = reply.mode != (e.sent_mode == proto::association_mode::symmetric_active
                                             ? proto::association_mode::symmetric_passive
                                             : proto::association_mode::server);
  const bool foreign = reply.origin != e.sent_transmit || !e.from_expected_source || wrong_mode;
  NTPKIT_FUZZ_CHECK(foreign == (a.result == verdict::not_for_us));
  if (!foreign && e.mac_verified == false) NTPKIT_FUZZ_CHECK(a.result == verdict::bad_mac);
  const bool judged = a.result != verdict::not_for_us && a.result != verdict::bad_mac;
  NTPKIT_FUZZ_CHECK((a.result == verdict::kiss) == (judged && reply.stratum == 0));
  if (a.result == verdict::kiss) {
    NTPKIT_FUZZ_CHECK(a.kiss_code == proto::decode_refid(reply.refid, 0).text);
  } else {
    NTPKIT_FUZZ_CHECK(a.kiss_code.empty());
  }
  if (a.result == verdict::ok) {
    NTPKIT_FUZZ_CHECK(c.all_passed());
    NTPKIT_FUZZ_CHECK(reply.stratum >= 1 && reply.stratum <= 15);
    NTPKIT_FUZZ_CHECK(reply.leap != proto::leap_indicator::unsynchronised);
  }
}

void check_measurement(const proto::exchange_times& t, const proto::measurement& m) {
  NTPKIT_FUZZ_CHECK(m.processing == t.t3 - t.t2);
  NTPKIT_FUZZ_CHECK(m.delay + m.processing == t.t4 - t.t1);
  // θ = ((T2 - T1) + (T3 - T4)) / 2 rounded down, exactly: the sum needs 65 bits.
  const i128 sum = static_cast<i128>((t.t2 - t.t1).bits()) + (t.t3 - t.t4).bits();
  const i128 floor_half = sum >= 0 ? sum / 2 : -((-sum + 1) / 2);
  NTPKIT_FUZZ_CHECK(m.offset.bits() == floor_half);
  NTPKIT_FUZZ_CHECK(m.dispersion.bits() > 0);
}

// The date `d` plus `bits` of 2^-32 s, as system time.
proto::sys_nanoseconds plus(proto::date d, std::int64_t bits) {
  return proto::resolve_near(d.to_timestamp() + proto::duration::from_bits(bits), d).to_sys_time();
}

// Drives the real query session through one request answered by `datagram`, received
// `extra_bits` after the usual T4: what it sent, what it took, how it ended.
proto::ntp_query_outcome run_session(std::span<const std::uint8_t> datagram,
                                     const client_state& c, proto::timestamp xmt,
                                     std::int64_t extra_bits) {
  proto::ntp_query_plan plan;
  plan.timeout = std::chrono::seconds(1);
  plan.local_precision = c.expected.local_precision;
  proto::ntp_query q(plan, [&] { return xmt.bits(); });
  const proto::steady_time start{};
  auto action = q.next(start);
  auto* request = std::get_if<proto::send_bytes>(&action);
  NTPKIT_FUZZ_CHECK(request != nullptr);
  // What goes on the wire is a client request carrying our bits and nothing of our clock.
  const auto sent = proto::parse_packet(request->bytes);
  NTPKIT_FUZZ_CHECK(sent && sent->transmit == xmt && sent->mode == proto::association_mode::client);
  NTPKIT_FUZZ_CHECK(sent->origin.is_zero() && sent->receive.is_zero() && sent->stratum == 0);
  const auto t1 = c.t1_date.to_sys_time();
  q.on_sent({request->tag, t1, c.clock, start});
  const auto t4 = plus(c.t1_date, c.t4_after_t1.bits() + extra_bits);
  q.on_datagram(datagram, {c.expected.from_expected_source, false, t4, c.clock, start});
  if (!q.done()) {
    if (c.unreachable) {
      q.on_transport_error(std::make_error_code(std::errc::connection_refused));
    } else {
      const auto late = q.next(start + std::chrono::seconds(1));  // the timeout
      NTPKIT_FUZZ_CHECK(std::holds_alternative<proto::finished>(late));
    }
  }
  NTPKIT_FUZZ_CHECK(q.done());
  NTPKIT_FUZZ_CHECK(q.outcome().requests == 1);
  return q.take_outcome();
}

// A sample the session took passed the checks that make a reply ours and is measured exactly.
void check_taken(const proto::ntp_sample& s, const proto::packet& reply, proto::timestamp xmt) {
  NTPKIT_FUZZ_CHECK(reply.origin == xmt);
  NTPKIT_FUZZ_CHECK(reply.mode == proto::association_mode::server);
  NTPKIT_FUZZ_CHECK(s.times.t2 == reply.receive && s.times.t3 == reply.transmit);
  check_measurement(s.times, s.measured);
  NTPKIT_FUZZ_CHECK(s.assessed.result != verdict::not_for_us);
  if (s.assessed.result == verdict::ok) {
    NTPKIT_FUZZ_CHECK(proto::root_distance(reply, s.measured).bits() >= 0);
  }
}

void check_conclusion(const model::ntp_address& a, const model::error_info& transport) {
  const model::sample* kiss = nullptr;
  bool any_ok = false;
  for (const auto& s : a.samples) {
    if (s.assessed.result == verdict::kiss) kiss = &s;
    if (s.assessed.result != verdict::ok) continue;
    any_ok = true;
    if (a.selected) NTPKIT_FUZZ_CHECK(a.best().measured.delay <= s.measured.delay);
  }
  NTPKIT_FUZZ_CHECK(a.selected.has_value() == any_ok);
  if (a.selected) NTPKIT_FUZZ_CHECK(a.best().assessed.result == verdict::ok);
  NTPKIT_FUZZ_CHECK(a.jitter.bits() >= 0);
  if (kiss) {
    NTPKIT_FUZZ_CHECK(a.error.kind == model::error_kind::kiss);
    NTPKIT_FUZZ_CHECK(a.error.kiss_code == kiss->assessed.kiss_code);
    NTPKIT_FUZZ_CHECK(kiss->reply.stratum == 0);
  } else if (any_ok) {
    NTPKIT_FUZZ_CHECK(!a.error);
  } else if (a.samples.empty()) {
    NTPKIT_FUZZ_CHECK(a.error.kind == transport.kind);
  }
  if (a.error.kind == model::error_kind::kiss) NTPKIT_FUZZ_CHECK(kiss != nullptr);
  NTPKIT_FUZZ_CHECK(a.ok() == (any_ok && !kiss));
}

// The reply's fields reach the text (refid, kiss code); none may put a control character on a
// user's terminal.
void check_printable(const std::string& text) {
  NTPKIT_FUZZ_CHECK(!text.empty() && text.back() == '\n');
  for (const char ch : text) {
    const auto b = static_cast<unsigned char>(ch);
    NTPKIT_FUZZ_CHECK(b == '\n' || (b >= 0x20 && b != 0x7f));
  }
}

void check_formatters(const model::ntp_run& r) {
  try {
    for (const bool verbose : {false, true}) {
      check_printable(report::target_text(r.targets[0], verbose));
    }
    (void)report::target_text(r.targets[1], false);
    const report::json_meta meta{"ntpprobe", "fuzz"};
    check_probe_json(report::probe_json(r, meta), r);
    // The line form differs from probe_json only in its framing: the second target suffices.
    check_json_line(report::target_json_line(r.targets[1], meta));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "exception: %s\n", e.what());
    fail("a formatter, or parsing its JSON, threw", __FILE__, __LINE__);
  }
}

}  // namespace

/// Runs one input through the classifier and conclude(), and with `formatters` through the
/// text and JSON formatters too.
inline void run_reply_input(const std::uint8_t* data, std::size_t size, bool formatters) {
  if (size < prefix_size) return;
  const std::span<const std::uint8_t> in(data, size);
  client_state c = read_prefix(in);
  const auto datagram = in.subspan(prefix_size);

  model::ntp_run r;
  r.started = c.t1_date;
  auto& t = r.targets.emplace_back();
  t.spec = "ntp.example:123";
  t.host = "ntp.example";
  t.port = 123;
  auto& a = t.addresses.emplace_back();
  a.locate("2001:db8::123", 123, model::family::ipv6);
  a.ignored.add(proto::ignore_reason::origin, c.ignored);

  const auto reply = proto::parse_packet(datagram);
  // The classifier on its own, with every expectation the prefix can express (a MAC verified
  // or not, the source, symmetric mode), which the session does not reach.
  if (reply) {
    if (c.expect_reply_origin) c.expected.sent_transmit = reply->origin;
    const auto t4 = c.t1 + c.t4_after_t1;
    check_assessment(*reply, c.expected, proto::assess_reply(*reply, c.t1, t4, c.expected));
  }
  // The session, once per sample; the second answer arrives `spacing` later.
  const auto xmt = c.expected.sent_transmit;
  proto::ntp_query_outcome all;
  for (std::uint32_t i = 0; i <= c.extra_samples; ++i) {
    auto o = run_session(datagram, c, xmt, c.spacing.bits() * std::int64_t{i});
    NTPKIT_FUZZ_CHECK(o.samples.size() + o.ignored.total() == 1);
    for (auto& s : o.samples) {
      check_taken(s, *reply, xmt);
      s.attempt = i;
      all.samples.push_back(std::move(s));
    }
    for (const auto& [reason, n] : o.ignored) all.ignored.add(reason, n);
    all.requests += o.requests;
    all.end = o.end;
    all.error = o.error;
  }
  if (!reply && c.expected.from_expected_source) {
    NTPKIT_FUZZ_CHECK(all.ignored.count(proto::ignore_reason::malformed) > 0);
  }
  const auto transport = model::end_error(all, std::chrono::seconds(1));
  model::take_outcome(a, std::move(all), std::chrono::seconds(1));
  check_conclusion(a, transport);
  if (!formatters) return;

  // A second target named by the tail of the input, as a user might type any bytes: its text
  // reaches JSON, which must stay valid.
  auto& named = r.targets.emplace_back();
  const auto tail = datagram.last(std::min<std::size_t>(datagram.size(), 16));
  named.spec.assign(tail.begin(), tail.end());
  named.host = named.spec;
  named.error = model::failure(model::error_kind::resolve, model::error_cause::resolver_failed);
  check_formatters(r);
}

}  // namespace ntpkit::fuzz
