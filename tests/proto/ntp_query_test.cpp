// proto/ntp_query.hpp driven by scripted exchanges (Boost.MySQL's algo_test): bytes and times
// in, actions out, no socket. Each case pins one rule of the conversation: what a reply must be
// to be taken, when the query stops sending, and what it reports.

#include "ntpkit/proto/ntp_query.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <optional>
#include <vector>

#include "ntpkit/proto/mac.hpp"
#include "ntpkit/proto/packet.hpp"
#include "support/test_support.hpp"

using namespace ntpkit;
using namespace std::chrono_literals;
using proto::ignore_reason;
using proto::ntp_query_end;

namespace {

// A conversation with a scripted server: a fake steady clock, a fake wall clock, and random
// bits counting up from a known value.
struct script {
  explicit script(proto::ntp_query_plan plan = {})
      : q(std::move(plan), [this] { return next_random++; }) {}

  proto::ntp_query q;
  proto::steady_time now{};
  proto::sys_nanoseconds wall = test::utc(2026, 12, 3, 12);
  std::uint64_t next_random = 0x0123'4567'89ab'0000u;
  std::vector<proto::packet> requests;

  /// next() must ask to send; the request goes out at the current times.
  proto::packet send() {
    auto a = q.next(now);
    auto* s = std::get_if<proto::send_bytes>(&a);
    REQUIRE(s != nullptr);
    auto p = proto::parse_packet(s->bytes);
    REQUIRE(p);
    q.on_sent({s->tag, wall, proto::time_source::user, now});
    requests.push_back(*p);
    return *p;
  }
  /// next() must ask to wait; returns the deadline.
  proto::steady_time wait() {
    auto a = q.next(now);
    auto* w = std::get_if<proto::wait_until>(&a);
    REQUIRE(w != nullptr);
    return w->deadline;
  }
  bool finished() { return std::holds_alternative<proto::finished>(q.next(now)); }
  /// Time passes on both clocks.
  void pass(std::chrono::nanoseconds d) {
    now += d;
    wall += d;
  }
  void deliver(const std::vector<std::uint8_t>& bytes, bool from_peer = true) {
    q.on_datagram(bytes, {from_peer, false, wall, proto::time_source::user, now});
  }
};

// The server's answer to `req`, 1 ms after it was sent, held 10 µs; `edit` changes it.
std::vector<std::uint8_t> answer(const proto::packet& req, proto::sys_nanoseconds sent,
                                 const std::function<void(proto::packet&)>& edit = {}) {
  proto::packet p;
  p.version = 4;
  p.mode = proto::association_mode::server;
  p.stratum = 2;
  p.precision = -20;
  p.refid = {192, 0, 2, 1};
  p.origin = req.transmit;
  p.receive = proto::from_sys_time(sent + 1ms);
  p.transmit = proto::from_sys_time(sent + 1ms + 10us);
  p.reference = proto::from_sys_time(sent - 10s);
  if (edit) edit(p);
  return proto::serialize_packet(p);
}

proto::symmetric_key key(std::uint32_t id, std::uint8_t fill) {
  const std::vector<std::uint8_t> secret(16, fill);
  return proto::symmetric_key::make(id, proto::mac_algorithm::sha1, secret).value();
}

}  // namespace

TEST_CASE("a query sends a client request carrying only random bits, and takes the answer") {
  script s;
  const auto t1 = s.wall;
  const auto req = s.send();
  // chrony's client request: everything zero but version, mode and the random transmit bits.
  CHECK(req.mode == proto::association_mode::client);
  CHECK(req.version == 4);
  CHECK(req.transmit.bits() == 0x0123'4567'89ab'0000u);
  CHECK(req.origin.is_zero());
  CHECK(req.receive.is_zero());
  CHECK(req.reference.is_zero());
  CHECK(req.stratum == 0);
  CHECK(s.wait() == s.now + 2s);  // the default timeout, from the send
  s.pass(2ms);
  s.deliver(answer(req, t1));
  CHECK(s.finished());
  const auto& o = s.q.outcome();
  CHECK(o.end == ntp_query_end::completed);
  CHECK(o.requests == 1);
  CHECK(o.clean);
  REQUIRE(o.samples.size() == 1);
  const auto& x = o.samples[0];
  CHECK(x.assessed.result == proto::verdict::ok);
  CHECK(x.times.t1 == proto::from_sys_time(t1));
  CHECK(x.times.t4 == proto::from_sys_time(t1 + 2ms));
  // Server clock 0.005 ms ahead of the midpoint: offset ((1) + (1.01 - 2)) / 2 ms = 0.005 ms.
  CHECK(x.measured.offset.to_ns() == doctest::Approx(5'000).epsilon(0.001));
  CHECK(x.measured.delay.to_ns() == doctest::Approx(1'990'000).epsilon(0.001));
}

TEST_CASE("a reply from another address or port is counted and waited past") {
  script s;
  const auto t1 = s.wall;
  const auto req = s.send();
  s.deliver(answer(req, t1), /*from_peer=*/false);
  CHECK_FALSE(s.finished());
  CHECK(s.q.outcome().ignored.count(ignore_reason::source) == 1);
  s.deliver(answer(req, t1));
  CHECK(s.finished());
  CHECK(s.q.outcome().samples.size() == 1);
  CHECK_FALSE(s.q.outcome().clean);  // something else came on the socket
}

TEST_CASE("a reply with a foreign origin, in the wrong mode, cut short or malformed is ignored") {
  script s;
  const auto t1 = s.wall;
  const auto req = s.send();
  s.deliver(answer(req, t1, [](auto& p) { p.origin = proto::timestamp::from_bits(42); }));
  s.deliver(answer(req, t1, [](auto& p) { p.mode = proto::association_mode::broadcast; }));
  s.deliver(std::vector<std::uint8_t>(47, 0x24));
  s.q.on_datagram(answer(req, t1), {true, true, s.wall, proto::time_source::user, s.now});
  CHECK_FALSE(s.finished());
  const auto& i = s.q.outcome().ignored;
  CHECK(i.count(ignore_reason::origin) == 1);
  CHECK(i.count(ignore_reason::mode) == 1);
  CHECK(i.count(ignore_reason::malformed) == 1);
  CHECK(i.count(ignore_reason::oversized) == 1);
  CHECK(s.q.outcome().samples.empty());
}

TEST_CASE("a duplicate reply is counted and not taken a second time") {
  proto::ntp_query_plan plan;
  plan.samples = 2;
  script s(plan);
  const auto t1 = s.wall;
  const auto first = s.send();
  const auto reply = answer(first, t1);
  s.deliver(reply);
  s.pass(2s);
  const auto second = s.send();
  CHECK(second.transmit != first.transmit);
  s.deliver(reply);  // replayed while the second request waits
  CHECK(s.q.outcome().ignored.count(ignore_reason::duplicate) == 1);
  CHECK(s.q.outcome().samples.size() == 1);
  s.deliver(answer(second, s.wall));
  CHECK(s.finished());
  CHECK(s.q.outcome().samples.size() == 2);
  CHECK(s.q.outcome().end == ntp_query_end::completed);
}

TEST_CASE("with a key, replies with a bad, missing or foreign MAC are refused and a good one taken") {
  // RFC 5905: a reply that fails authentication is dropped; an attacker on the path must not
  // be able to answer first.
  proto::ntp_query_plan plan;
  plan.key = key(7, 0x11);
  script s(plan);
  const auto t1 = s.wall;
  const auto req = s.send();
  auto signed_with = [&](const proto::symmetric_key& k) {
    auto bytes = answer(req, t1);
    REQUIRE(proto::append_mac(bytes, k));
    return bytes;
  };
  s.deliver(signed_with(key(7, 0x22)));  // right id, wrong secret
  s.deliver(answer(req, t1));            // no MAC at all
  s.deliver(signed_with(key(8, 0x11)));  // another key id
  CHECK_FALSE(s.finished());
  const auto& i = s.q.outcome().ignored;
  CHECK(i.count(ignore_reason::mac) == 1);
  CHECK(i.count(ignore_reason::mac_missing) == 1);
  CHECK(i.count(ignore_reason::mac_key_id) == 1);
  CHECK(s.q.outcome().samples.empty());
  s.deliver(signed_with(*plan.key));
  CHECK(s.finished());
  REQUIRE(s.q.outcome().samples.size() == 1);
  CHECK(s.q.outcome().samples[0].assessed.checks.passed(proto::check::mac));
}

TEST_CASE("requests are signed with the key: the server side verifies them") {
  proto::ntp_query_plan plan;
  plan.key = key(7, 0x11);
  script s(plan);
  auto a = s.q.next(s.now);
  const auto& bytes = std::get<proto::send_bytes>(a).bytes;
  CHECK(bytes.size() == 48 + 4 + 20);
  CHECK(proto::verify_mac(*plan.key, bytes));
  CHECK_FALSE(proto::verify_mac(key(7, 0x22), bytes));
}

TEST_CASE("no request after a Kiss-o'-Death, whatever samples were asked for") {
  proto::ntp_query_plan plan;
  plan.samples = 3;
  script s(plan);
  const auto t1 = s.wall;
  const auto req = s.send();
  // NTPsec's KoD RATE: stratum 0, refid RATE, LI 3.
  s.deliver(answer(req, t1, [](auto& p) {
    p.stratum = 0;
    p.refid = {'R', 'A', 'T', 'E'};
    p.leap = proto::leap_indicator::unsynchronised;
  }));
  s.pass(10s);
  CHECK(s.finished());
  CHECK(s.finished());  // and stays so
  const auto& o = s.q.outcome();
  CHECK(o.requests == 1);
  CHECK(o.end == ntp_query_end::kissed);
  CHECK(o.kiss_code == "RATE");
  REQUIRE(o.samples.size() == 1);
  CHECK(o.samples[0].assessed.result == proto::verdict::kiss);
  CHECK_FALSE(o.clean);
}

TEST_CASE("a timeout resends up to --retries times, and a late answer to an earlier try counts") {
  proto::ntp_query_plan plan;
  plan.retries = 2;
  plan.timeout = 500ms;
  script s(plan);
  const auto t1 = s.wall;
  const auto first = s.send();
  CHECK(s.wait() == s.now + 500ms);
  s.pass(500ms);
  const auto second = s.send();  // the retry
  CHECK(second.transmit != first.transmit);
  s.pass(100ms);
  s.deliver(answer(first, t1));  // the first request's answer, late
  CHECK(s.finished());
  const auto& o = s.q.outcome();
  CHECK(o.requests == 2);
  REQUIRE(o.samples.size() == 1);
  CHECK(o.samples[0].attempt == 0);
  CHECK(o.end == ntp_query_end::completed);
  CHECK_FALSE(o.clean);  // the retry was never answered
}

TEST_CASE("every round runs after an unanswered one; the end says whether the last was answered") {
  proto::ntp_query_plan plan;
  plan.samples = 2;
  plan.timeout = 1s;
  script s(plan);
  s.send();
  s.pass(1s);
  const auto t1 = s.wall;
  const auto second = s.send();
  s.deliver(answer(second, t1));
  CHECK(s.finished());
  CHECK(s.q.outcome().end == ntp_query_end::completed);
  CHECK(s.q.outcome().samples.size() == 1);

  script silent(plan);
  silent.send();
  silent.pass(1s);
  silent.send();
  silent.pass(1s);
  CHECK(silent.finished());
  CHECK(silent.q.outcome().end == ntp_query_end::timed_out);
  CHECK(silent.q.outcome().requests == 2);
}

TEST_CASE("interleaved: the next request echoes T2 and a token; its answer completes the first") {
  // RFC 9769 §2: origin = the server's receive timestamp of the previous answer, receive = a
  // value the server echoes as origin when it answers interleaved; the transmit timestamp of
  // that answer is the exact send time of the previous one.
  proto::ntp_query_plan plan;
  plan.samples = 2;
  plan.interleaved = true;
  script s(plan);
  const auto t1 = s.wall;
  const auto first = s.send();
  const auto basic = answer(first, t1);
  const auto basic_packet = proto::parse_packet(basic).value();
  s.pass(2ms);
  const auto t4 = s.wall;
  s.deliver(basic);
  s.pass(2s);
  const auto second = s.send();
  CHECK(second.origin == basic_packet.receive);
  CHECK_FALSE(second.receive.is_zero());
  CHECK(second.receive != second.transmit);
  const auto exact_t3 = basic_packet.transmit + proto::duration::from_ns(3'000);
  s.deliver(answer(second, s.wall, [&](auto& p) {
    p.origin = second.receive;  // the token
    p.transmit = exact_t3;      // when the previous answer really left
  }));
  CHECK(s.finished());
  const auto& o = s.q.outcome();
  REQUIRE(o.samples.size() == 2);
  const auto& x = o.samples[1];
  CHECK(x.interleaved);
  CHECK(x.attempt == 0);
  CHECK(x.times.t1 == proto::from_sys_time(t1));
  CHECK(x.times.t2 == basic_packet.receive);
  CHECK(x.times.t3 == exact_t3);
  CHECK(x.times.t4 == proto::from_sys_time(t4));
  CHECK(x.reply.receive == basic_packet.receive);
  CHECK(x.assessed.result == proto::verdict::ok);
}

TEST_CASE("the kernel's transmit time, when it comes, is T1") {
  script s;
  auto a = s.q.next(s.now);
  const auto& out = std::get<proto::send_bytes>(a);
  const auto req = proto::parse_packet(out.bytes).value();
  s.q.on_sent({out.tag, s.wall, proto::time_source::user, s.now});
  const auto kernel = s.wall + 1us;
  s.q.on_transmit_time(out.tag, kernel);
  s.pass(2ms);
  s.deliver(answer(req, kernel));
  REQUIRE(s.q.outcome().samples.size() == 1);
  const auto& x = s.q.outcome().samples[0];
  CHECK(x.t1_source == proto::time_source::kernel);
  CHECK(x.times.t1 == proto::from_sys_time(kernel));
}

TEST_CASE("a send failure, a veto and a transport error each end the query with their cause") {
  {
    script s;
    auto a = s.q.next(s.now);
    REQUIRE(std::holds_alternative<proto::send_bytes>(a));
    s.q.on_send_failed(std::make_error_code(std::errc::network_unreachable));
    CHECK(s.finished());
    CHECK(s.q.outcome().end == ntp_query_end::send_failed);
    CHECK(s.q.outcome().requests == 0);
    CHECK(s.q.outcome().error == std::errc::network_unreachable);
  }
  {
    script s;
    (void)s.q.next(s.now);
    s.q.on_vetoed("DENY");  // the address kissed another query of the run
    CHECK(s.finished());
    CHECK(s.q.outcome().end == ntp_query_end::kissed_elsewhere);
    CHECK(s.q.outcome().kiss_code == "DENY");
    CHECK(s.q.outcome().requests == 0);
  }
  {
    script s;
    s.send();
    s.q.on_transport_error(std::make_error_code(std::errc::connection_refused));
    CHECK(s.finished());
    CHECK(s.q.outcome().end == ntp_query_end::transport_failed);
    CHECK(s.q.outcome().requests == 1);
  }
}

TEST_CASE("zero samples asked: nothing is sent") {
  proto::ntp_query_plan plan;
  plan.samples = 0;
  script s(plan);
  CHECK(s.finished());
  CHECK(s.q.outcome().requests == 0);
}

TEST_CASE("hear_broadcast takes mode 5 packets and says why it refuses others") {
  proto::packet p;
  p.mode = proto::association_mode::broadcast;
  p.stratum = 2;
  p.precision = -20;
  const auto at = test::utc(2026, 12, 3, 12);
  p.transmit = proto::from_sys_time(at - 5ms);
  const proto::datagram_meta m{true, false, at, proto::time_source::kernel, {}};
  proto::ignore_reason why{};
  auto heard = proto::hear_broadcast(proto::serialize_packet(p), m, proto::duration::from_ns(4'000'000),
                                     -20, &why);
  REQUIRE(heard);
  CHECK(heard->broadcast);
  // RFC 5905 §8 for broadcasts: offset = T3 + assumed delay - T4 = -5 ms + 4 ms.
  CHECK(heard->measured.offset.to_ns() == doctest::Approx(-1'000'000).epsilon(0.0001));
  CHECK(heard->t4_source == proto::time_source::kernel);
  p.mode = proto::association_mode::server;
  CHECK_FALSE(proto::hear_broadcast(proto::serialize_packet(p), m, {}, -20, &why));
  CHECK(why == proto::ignore_reason::mode);
  CHECK_FALSE(proto::hear_broadcast(std::vector<std::uint8_t>(20, 0), m, {}, -20, &why));
  CHECK(why == proto::ignore_reason::malformed);
}
