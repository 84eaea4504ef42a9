// proto/ntp_query.hpp with an NTS plan (RFC 8915 §5), by scripted exchanges: requests sealed
// with C2S and carrying one cookie each (never one twice) and placeholders for the rest,
// answers taken only when their authenticator opens with S2C and echoes our unique
// identifier, new cookies counted and reused, and the NTS NAK ending the query. The scripted
// server below plays the part of an NTS server from the request's own fields.

#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <vector>

#include "ntpkit/proto/errc.hpp"
#include "ntpkit/proto/ntp_query.hpp"
#include "ntpkit/proto/nts_ef.hpp"
#include "ntpkit/proto/packet.hpp"
#include "support/test_support.hpp"

using namespace ntpkit;
using namespace std::chrono_literals;
using proto::ignore_reason;
using proto::ntp_query_end;
using proto::nts_ef_type;
using bytes = std::vector<std::uint8_t>;

namespace {

bytes filled(std::size_t n, std::uint8_t first) {
  bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(first + i);
  return b;
}

const proto::nts_keys keys{proto::aead_algorithm::aes_siv_cmac_256, filled(32, 0x40),
                           filled(32, 0x80)};

// Cookies c0, c1, ...: 100 bytes of one value each, so that the request shows which it used.
bytes cookie(std::uint8_t n) { return bytes(100, n); }

proto::nts_plan plan_with(std::size_t cookies) {
  proto::nts_plan p{keys, {}, 8};
  for (std::size_t i = 0; i < cookies; ++i)
    p.cookies.push_back(cookie(static_cast<std::uint8_t>(i)));
  return p;
}

// What a request carried, as an NTS server reads it.
struct seen_request {
  proto::packet packet;
  bytes unique_id;
  bytes cookie;
  std::size_t placeholders = 0;
  bool authentic = false;  // the authenticator opens with C2S
};

seen_request read_request(const bytes& datagram) {
  seen_request r;
  auto p = proto::parse_packet(datagram);
  REQUIRE(p);
  r.packet = *p;
  std::size_t at = proto::header_size;
  for (const auto& f : p->extensions) {
    if (f.type == 0x0104) r.unique_id = f.value;
    if (f.type == 0x0204) r.cookie = f.value;
    if (f.type == 0x0304) ++r.placeholders;
    if (f.type == 0x0404) {
      auto a = proto::parse_nts_authenticator(f.value);
      REQUIRE(a);
      r.authentic = proto::aead_open(keys.aead, keys.c2s, a->nonce, std::span(datagram).first(at),
                                     a->ciphertext)
                        .has_value();
    }
    at += 4 + f.value.size();
  }
  return r;
}

struct nts_script {
  explicit nts_script(proto::ntp_query_plan plan)
      : q(std::move(plan), [this] { return next_random++; }) {}
  proto::ntp_query q;
  proto::steady_time now{};
  proto::sys_nanoseconds wall = test::utc(2026, 12, 3, 12);
  std::uint64_t next_random = 0x0123'4567'89ab'0000u;
  std::uint8_t next_cookie = 0x80;  // new cookies the server hands out: 0x80, 0x81, ...

  seen_request send() {
    auto a = q.next(now);
    auto* s = std::get_if<proto::send_bytes>(&a);
    REQUIRE(s != nullptr);
    q.on_sent({s->tag, wall, proto::time_source::user, now});
    // The answer comes 2 ms later; the server's T2 and T3 lie between.
    now += 2ms;
    wall += 2ms;
    return read_request(s->bytes);
  }
  bool finished() { return std::holds_alternative<proto::finished>(q.next(now)); }
  void deliver(const bytes& b) {
    q.on_datagram(b, {true, false, wall, proto::time_source::user, now});
  }

  // The server's answer: header, the echoed unique identifier, then an authenticator sealed
  // with `key` holding one new cookie per cookie and placeholder.
  bytes answer(const seen_request& r, const std::function<void(proto::packet&)>& edit = {},
               const bytes& key = keys.s2c, std::optional<bytes> uid = std::nullopt) {
    proto::packet p;
    p.mode = proto::association_mode::server;
    p.stratum = 2;
    p.precision = -20;
    p.refid = {192, 0, 2, 1};
    p.origin = r.packet.transmit;
    p.receive = proto::from_sys_time(wall - 1ms);
    p.transmit = proto::from_sys_time(wall - 990us);
    p.reference = proto::from_sys_time(wall - 10s);
    p.extensions.push_back({0x0104, uid.value_or(r.unique_id)});
    if (edit) edit(p);
    auto d = proto::serialize_packet(p);
    std::vector<proto::extension_field> inner;
    for (std::size_t i = 0; i < 1 + r.placeholders; ++i) {
      inner.push_back({0x0204, cookie(next_cookie++)});
    }
    REQUIRE(proto::append_nts_authenticator(d, keys.aead, key, filled(16, 0x33),
                                            proto::encode_extension_fields(inner)));
    return d;
  }

  // An NTS NAK (RFC 8915 §5.7): a kiss NTSN echoing the unique identifier, nothing sealed.
  bytes nak(const seen_request& r, std::optional<bytes> uid = std::nullopt) {
    proto::packet p;
    p.mode = proto::association_mode::server;
    p.stratum = 0;
    p.refid = {'N', 'T', 'S', 'N'};
    p.origin = r.packet.transmit;
    p.receive = proto::from_sys_time(wall - 1ms);
    p.transmit = proto::from_sys_time(wall - 990us);
    p.extensions.push_back({0x0104, uid.value_or(r.unique_id)});
    return proto::serialize_packet(p);
  }
};

proto::ntp_query_plan nts_plan(unsigned samples, std::size_t cookies) {
  proto::ntp_query_plan p;
  p.samples = samples;
  p.nts = plan_with(cookies);
  return p;
}

}  // namespace

TEST_CASE(
    "an NTS request carries a fresh unique identifier, one cookie and a sealed authenticator") {
  nts_script s(nts_plan(1, 8));
  const auto r = s.send();
  CHECK(r.authentic);  // what the server checks first
  CHECK(r.unique_id.size() == 32);
  CHECK(r.cookie == cookie(0));  // the oldest first
  CHECK(r.placeholders == 0);    // 7 left of the 8 wanted: one new cookie brings it back to 8
  CHECK(r.packet.mode == proto::association_mode::client);
  CHECK(r.packet.version == 4);
  CHECK_FALSE(r.packet.mac.has_value());
  // The transmit field still carries random bits, and the unique identifier others.
  CHECK(r.packet.transmit.bits() == 0x0123'4567'89ab'0000u);
  CHECK(r.unique_id != bytes(32, 0));
}

TEST_CASE("an authenticated answer is taken, marked, and its cookies join the pool") {
  nts_script s(nts_plan(3, 2));
  auto first = s.send();
  CHECK(first.cookie == cookie(0));
  CHECK(first.placeholders == 6);  // 1 left of 8 wanted: ask for 7 in all
  s.deliver(s.answer(first));
  const auto& o = s.q.outcome();
  REQUIRE(o.samples.size() == 1);
  CHECK(o.samples[0].nts_authenticated);
  CHECK(o.samples[0].nts_new_cookies == 7);
  CHECK(o.samples[0].assessed.result == proto::verdict::ok);
  CHECK(o.samples[0].assessed.checks.passed(proto::check::mac));  // authentication ran, passed
  s.now += 2s;
  s.wall += 2s;
  auto second = s.send();
  CHECK(second.cookie == cookie(1));  // the pool's oldest: c1, then the new ones
  CHECK(second.placeholders == 0);    // 7 new + c1 = 8; one used, one comes back
  CHECK(second.unique_id != first.unique_id);
  s.deliver(s.answer(second));
  s.now += 2s;
  s.wall += 2s;
  auto third = s.send();
  CHECK(third.cookie == cookie(0x80));  // the first new cookie, never one already sent
  s.deliver(s.answer(third));
  CHECK(s.finished());
  CHECK(o.end == ntp_query_end::completed);
  CHECK(o.nts.cookies_sent == 3);
  CHECK(o.nts.placeholders_sent == 6);
  CHECK(o.nts.cookies_received == 9);
  CHECK_FALSE(o.nts.nak);
  CHECK(o.nts_cookies.size() == 8);  // the pool, full again, handed back
  CHECK(o.clean);
}

TEST_CASE("an answer with a bad authenticator is ignored, and a good one still taken") {
  // As with a bad MAC: whoever forges an answer must not be able to answer first.
  nts_script s(nts_plan(1, 8));
  const auto r = s.send();
  s.deliver(s.answer(r, {}, keys.c2s));  // sealed with the wrong key
  s.deliver(s.answer(
      r, [](auto& p) { p.stratum = 3; }, filled(32, 0)));  // an unknown key
  auto tampered = s.answer(r);
  tampered[1] = 1;  // stratum changed after sealing: the header is associated data
  s.deliver(tampered);
  CHECK_FALSE(s.finished());
  CHECK(s.q.outcome().ignored.count(ignore_reason::nts_auth) == 3);
  CHECK(s.q.outcome().samples.empty());
  s.deliver(s.answer(r));
  CHECK(s.finished());
  REQUIRE(s.q.outcome().samples.size() == 1);
  CHECK(s.q.outcome().samples[0].nts_authenticated);
  CHECK_FALSE(s.q.outcome().clean);  // something else came first
}

TEST_CASE("an answer with another unique identifier or none is ignored") {
  nts_script s(nts_plan(1, 8));
  const auto r = s.send();
  s.deliver(s.answer(r, {}, keys.s2c, filled(32, 0)));
  s.deliver(s.answer(r, [](auto& p) { p.extensions.clear(); }));
  CHECK(s.q.outcome().ignored.count(ignore_reason::nts_unique_id) == 2);
  CHECK(s.q.outcome().samples.empty());
  CHECK_FALSE(s.finished());
}

TEST_CASE("an unauthenticated answer is ignored as missing its authenticator") {
  nts_script s(nts_plan(1, 8));
  const auto r = s.send();
  proto::packet p;
  p.mode = proto::association_mode::server;
  p.stratum = 2;
  p.origin = r.packet.transmit;
  p.receive = proto::from_sys_time(s.wall - 1ms);
  p.transmit = proto::from_sys_time(s.wall - 990us);
  p.extensions.push_back({0x0104, r.unique_id});
  s.deliver(proto::serialize_packet(p));
  p.extensions.clear();  // a plain NTP answer, as a server without NTS sends
  s.deliver(proto::serialize_packet(p));
  const auto& i = s.q.outcome().ignored;
  CHECK(i.count(ignore_reason::nts_missing) == 1);
  CHECK(i.count(ignore_reason::nts_unique_id) == 1);
  CHECK(s.q.outcome().samples.empty());
}

TEST_CASE("an NTS NAK for our request ends the query as a kiss NTSN") {
  nts_script s(nts_plan(4, 8));
  const auto r = s.send();
  s.deliver(s.nak(r, filled(32, 0)));  // not for this request
  CHECK(s.q.outcome().ignored.count(ignore_reason::nts_unique_id) == 1);
  CHECK_FALSE(s.finished());
  s.deliver(s.nak(r));
  CHECK(s.finished());
  const auto& o = s.q.outcome();
  CHECK(o.end == ntp_query_end::kissed);
  CHECK(o.kiss_code == "NTSN");
  CHECK(o.nts.nak);
  CHECK(o.requests == 1);
  REQUIRE(o.samples.size() == 1);
  CHECK_FALSE(o.samples[0].nts_authenticated);
  CHECK(o.samples[0].assessed.result == proto::verdict::kiss);
  CHECK_FALSE(o.samples[0].assessed.checks.ran(proto::check::mac));
}

TEST_CASE("a timeout costs the cookie: the retry carries the next one") {
  proto::ntp_query_plan plan = nts_plan(1, 3);
  plan.retries = 1;
  plan.timeout = 500ms;
  nts_script s(plan);
  const auto first = s.send();
  s.now += 500ms;
  s.wall += 500ms;
  const auto retry = s.send();
  CHECK(first.cookie == cookie(0));
  CHECK(retry.cookie == cookie(1));
  CHECK(retry.unique_id != first.unique_id);
  // The late answer to the first request is still good: its unique identifier is known.
  s.deliver(s.answer(first));
  CHECK(s.finished());
  CHECK(s.q.outcome().samples.size() == 1);
  CHECK(s.q.outcome().nts.cookies_sent == 2);
}

TEST_CASE("without cookies left the query ends, and says so") {
  // One cookie, and an answer that carries no new one (a server that sends none): the second
  // round has nothing to send.
  nts_script s(nts_plan(2, 1));
  const auto only = s.send();
  proto::packet a;
  a.mode = proto::association_mode::server;
  a.stratum = 2;
  a.origin = only.packet.transmit;
  a.receive = proto::from_sys_time(s.wall - 1ms);
  a.transmit = proto::from_sys_time(s.wall - 990us);
  a.extensions.push_back({0x0104, only.unique_id});
  auto d = proto::serialize_packet(a);
  REQUIRE(proto::append_nts_authenticator(d, keys.aead, keys.s2c, filled(16, 0), {}));
  s.deliver(d);
  REQUIRE(s.q.outcome().samples.size() == 1);
  CHECK(s.q.outcome().samples[0].nts_authenticated);
  CHECK(s.q.outcome().samples[0].nts_new_cookies == 0);
  s.now += 2s;
  CHECK(s.finished());
  CHECK(s.q.outcome().end == ntp_query_end::nts_no_cookies);
  CHECK(s.q.outcome().requests == 1);
  CHECK(s.q.outcome().nts_cookies.empty());
}

TEST_CASE("placeholders stop where the request would outgrow a 1500-byte datagram") {
  // Cookies of 200 bytes: 8 fields of 204 bytes would be 1632; at most 1200 are sent.
  proto::ntp_query_plan plan;
  plan.nts = plan_with(0);
  plan.nts->cookies.push_back(bytes(200, 1));
  nts_script s(plan);
  const auto r = s.send();
  CHECK(r.placeholders == 4);  // 5 × 204 = 1020 bytes
  CHECK(r.authentic);
}
