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
#include "ntpkit/proto/packet.hpp"
#include "ntpkit/proto/refid.hpp"
#include "ntpkit/report/json.hpp"
#include "ntpkit/report/sample.hpp"
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
  report::time_source clock = report::time_source::user;
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
  if (flags & 0x40) c.clock = report::time_source::kernel;
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

report::sample make_sample(const proto::packet& reply, const client_state& c, std::uint32_t i) {
  report::sample s;
  s.reply = reply;
  s.attempt = i;
  s.t1_date = c.t1_date;
  const proto::timestamp t4 =
      c.t1 + c.t4_after_t1 + proto::duration::from_bits(c.spacing.bits() * std::int64_t{i});
  s.t4_date = proto::resolve_near(t4, c.t1_date);
  s.t1_source = c.clock;
  s.t4_source = c.clock;
  s.times = {c.t1, reply.receive, reply.transmit, t4};
  s.measured = proto::measure(s.times, reply.precision, c.expected.local_precision);
  s.assessed = proto::assess_reply(reply, c.t1, t4, c.expected);
  check_measurement(s.times, s.measured);
  check_assessment(reply, c.expected, s.assessed);
  if (s.assessed.result == verdict::ok) {
    NTPKIT_FUZZ_CHECK(proto::root_distance(reply, s.measured).bits() >= 0);
  }
  return s;
}

void check_conclusion(const report::address_report& a, const report::error_info& transport) {
  const report::sample* kiss = nullptr;
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
    NTPKIT_FUZZ_CHECK(a.error.kind == report::error_kind::kiss);
    NTPKIT_FUZZ_CHECK(a.error.kiss_code == kiss->assessed.kiss_code);
    NTPKIT_FUZZ_CHECK(kiss->reply.stratum == 0);
  } else if (any_ok) {
    NTPKIT_FUZZ_CHECK(!a.error);
  } else if (a.samples.empty()) {
    NTPKIT_FUZZ_CHECK(a.error.kind == transport.kind);
  }
  if (a.error.kind == report::error_kind::kiss) NTPKIT_FUZZ_CHECK(kiss != nullptr);
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

void check_formatters(const report::probe_report& r) {
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

  report::probe_report r;
  r.started = c.t1_date;
  auto& t = r.targets.emplace_back();
  t.spec = "ntp.example:123";
  t.host = "ntp.example";
  t.port = 123;
  auto& a = t.addresses.emplace_back();
  a.address = "2001:db8::123";
  a.ipv6 = true;
  a.port = 123;
  a.requests = 1 + c.extra_samples;
  for (unsigned i = 0; i < c.ignored; ++i) a.ignore("origin");

  const auto reply = proto::parse_packet(datagram);
  if (reply) {
    if (c.expect_reply_origin) c.expected.sent_transmit = reply->origin;
    for (std::uint32_t i = 0; i <= c.extra_samples; ++i) {
      a.samples.push_back(make_sample(*reply, c, i));
    }
  } else {
    a.ignore("malformed");
  }
  const report::error_info transport =
      c.unreachable ? report::error_info{report::error_kind::unreachable, "port unreachable", {}}
                    : report::error_info{report::error_kind::timeout, "no reply within 1 s", {}};
  report::conclude(a, transport);
  check_conclusion(a, transport);
  if (!formatters) return;

  // A second target named by the tail of the input, as a user might type any bytes: its text
  // reaches JSON, which must stay valid.
  auto& named = r.targets.emplace_back();
  const auto tail = datagram.last(std::min<std::size_t>(datagram.size(), 16));
  named.spec.assign(tail.begin(), tail.end());
  named.host = named.spec;
  named.error = {report::error_kind::resolve, "name does not resolve", {}};
  check_formatters(r);
}

}  // namespace ntpkit::fuzz
