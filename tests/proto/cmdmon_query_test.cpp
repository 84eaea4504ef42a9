// Tests of proto/cmdmon_query.hpp by scripted exchanges (Boost.MySQL's algo tests, STYLE §7):
// bytes and times in, actions out, no sockets. Truth: chronyc 4.3's client.c submit_request()
// and request_reply() (read in source; their rules are listed at the top of the header) and
// the exchanges chronyc 4.3 had with chronyd 4.3 (cmdmon_captured.hpp), which the walks must
// repeat request for request.

#include "ntpkit/proto/cmdmon_query.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <optional>
#include <system_error>
#include <variant>
#include <vector>

#include "ntpkit/proto/bytes.hpp"
#include "ntpkit/proto/errc.hpp"
#include "proto/cmdmon_captured.hpp"
#include "support/test_support.hpp"

using namespace ntpkit::proto;
using namespace std::chrono_literals;
using ntpkit::test::from_hex;
namespace cm = ntpkit::proto::cmdmon;
namespace cap = ntpkit::test::cmdmon_captured;

namespace {

using bytes = std::vector<std::uint8_t>;
const steady_time t0 = steady_time{} + 1000s;

std::vector<bytes> datagrams(const cap::exchange& e, bool from_server) {
  std::vector<bytes> out;
  for (const auto& d : e.datagrams) {
    if (d.from_server == from_server) out.push_back(from_hex(d.hex));
  }
  return out;
}

bytes with_sequence(bytes b, std::uint32_t sequence) {
  store_be32(b, b[1] == cm::pkt_type_reply ? 16 : 8, sequence);
  return b;
}

std::uint32_t sequence_of(const bytes& request) { return load_be32(request, 8); }
std::uint16_t attempt_of(const bytes& request) { return load_be16(request, 6); }

// A reply made by our encoder (for the cases chronyd does not produce).
bytes make_reply(cm::command c, std::uint32_t sequence, cm::reply_body body,
                 cm::status st = cm::status::success, std::uint8_t version = 6) {
  cm::reply r{.header = {}, .body = std::move(body)};
  r.header.version = version;
  r.header.cmd = c;
  r.header.reply = cm::reply_code_of(r.body).value();
  r.header.status = st;
  r.header.sequence = sequence;
  return cm::encode_reply(r).value();
}

// Expects a send now, confirms it as sent at `now`, returns its bytes.
template <class S>
bytes expect_send(S& s, steady_time now) {
  auto a = s.next(now);
  REQUIRE(std::holds_alternative<send_bytes>(a));
  auto sent = std::get<send_bytes>(std::move(a));
  s.on_sent({.tag = sent.tag, .time = {}, .source = time_source::user, .at = now});
  return sent.bytes;
}

template <class S>
steady_time expect_wait(S& s, steady_time now) {
  auto a = s.next(now);
  REQUIRE(std::holds_alternative<wait_until>(a));
  return std::get<wait_until>(a).deadline;
}

template <class S>
void expect_finished(S& s, steady_time now) {
  CHECK(std::holds_alternative<finished>(s.next(now)));
}

std::uint32_t ignored(const cmdmon_outcome& o, ignore_reason r) {
  return o.ignored.count(r);
}

cmdmon_plan tracking_plan(std::uint32_t sequence) {
  return {.request = {.code = cm::command::tracking}, .sequence = sequence, .timing = {}};
}

// Runs a session against `server` (request bytes -> reply, or none), at most `max_steps`
// actions; returns the requests it sent.
template <class S>
std::vector<bytes> drive(S& s, const std::function<std::optional<bytes>(const bytes&)>& server,
                         int max_steps = 10000) {
  std::vector<bytes> sent;
  steady_time now = t0;
  for (int i = 0; i < max_steps; ++i) {
    auto a = s.next(now);
    if (std::holds_alternative<finished>(a)) return sent;
    if (auto* b = std::get_if<send_bytes>(&a)) {
      s.on_sent({.tag = b->tag, .time = {}, .source = time_source::user, .at = now});
      sent.push_back(b->bytes);
      if (auto r = server(b->bytes)) s.on_datagram(*r, {});
    } else {
      now = std::get<wait_until>(a).deadline;
    }
  }
  FAIL("the session did not finish");
  return sent;
}

}  // namespace

TEST_CASE("a query sends chronyc's request bytes and takes chronyd's captured reply") {
  const auto chronyc = datagrams(cap::udp_tracking, false).at(0);
  const auto reply = datagrams(cap::udp_tracking, true).at(0);
  cmdmon_query q(tracking_plan(sequence_of(chronyc)));
  CHECK(expect_send(q, t0) == chronyc);
  CHECK(expect_wait(q, t0) == t0 + 1s);
  q.on_datagram(reply, {});
  expect_finished(q, t0 + 1ms);
  const auto& o = q.outcome();
  CHECK(o.kind == cmdmon_outcome_kind::reply);
  CHECK(o.requests_sent == 1);
  REQUIRE(o.reply);
  CHECK(std::get<cm::tracking>(o.reply->body).stratum == 4);
  CHECK(o.ignored.empty());
}

// client.c: timeout = initial_timeout × 2^(n_attempts − 1) from each send; attempt counts up;
// max_retries 2.
TEST_CASE("no answer: resends with attempts 1 and 2 after 1 s and 2 s, timeout after 4 s more") {
  cmdmon_query q(tracking_plan(77));
  const auto a0 = expect_send(q, t0);
  CHECK(attempt_of(a0) == 0);
  CHECK(expect_wait(q, t0 + 999ms) == t0 + 1s);
  const auto a1 = expect_send(q, t0 + 1s);
  CHECK(attempt_of(a1) == 1);
  CHECK(sequence_of(a1) == 77);
  CHECK(bytes(a1.begin() + 8, a1.end()) == bytes(a0.begin() + 8, a0.end()));
  CHECK(expect_wait(q, t0 + 1s) == t0 + 3s);
  const auto a2 = expect_send(q, t0 + 3s);
  CHECK(attempt_of(a2) == 2);
  CHECK(expect_wait(q, t0 + 3s) == t0 + 7s);
  expect_finished(q, t0 + 7s);
  CHECK(q.outcome().kind == cmdmon_outcome_kind::timeout);
  CHECK(q.outcome().requests_sent == 3);
  CHECK(q.outcome().last_attempt == 2);
  CHECK_FALSE(q.outcome().reply);
}

TEST_CASE("the timing is the plan's: 250 ms and no retry means one request") {
  cmdmon_plan p = tracking_plan(1);
  p.timing.initial_timeout = 250ms;
  p.timing.max_retries = 0;
  cmdmon_query q(p);
  expect_send(q, t0);
  CHECK(expect_wait(q, t0) == t0 + 250ms);
  expect_finished(q, t0 + 250ms);
  CHECK(q.outcome().requests_sent == 1);
}

TEST_CASE("max_retries is capped at 16 and every wait is bounded") {
  cmdmon_plan p = tracking_plan(1);
  p.timing.initial_timeout = 1ms;
  p.timing.max_retries = 1000000;
  cmdmon_query q(p);
  const auto sent = drive(q, [](const bytes&) { return std::nullopt; });
  CHECK(sent.size() == 17);
  CHECK(attempt_of(sent.back()) == 16);
  CHECK(q.outcome().kind == cmdmon_outcome_kind::timeout);
}

// client.c's header check: length, version (or a BADPKTVERSION of version >= 4), pkt_type,
// res1/res2, command, sequence; an invalid reply is skipped and the wait goes on.
TEST_CASE("strays are counted by reason and leave the deadline alone") {
  const auto reply = datagrams(cap::udp_tracking, true).at(0);
  const std::uint32_t seq = load_be32(reply, 16);
  cmdmon_query q(tracking_plan(seq));
  expect_send(q, t0);
  bytes wrong_sequence = with_sequence(reply, seq + 1);
  bytes wrong_command = reply;
  store_be16(wrong_command, 4, static_cast<std::uint16_t>(cm::command::sourcestats));
  bytes version7 = reply;
  version7[0] = 7;
  bytes version5 = reply;  // success status: a version mismatch, not a fallback
  version5[0] = 5;
  bytes request_type = reply;
  request_type[1] = 1;
  bytes reserved = reply;
  reserved[2] = 1;
  const bytes short_header(reply.begin(), reply.begin() + 27);
  for (const auto& b :
       {wrong_sequence, wrong_command, version7, version5, request_type, reserved, short_header}) {
    q.on_datagram(b, {});
  }
  q.on_datagram(reply, {.from_peer = false});
  q.on_datagram(reply, {.from_peer = true, .truncated = true});
  CHECK(expect_wait(q, t0 + 500ms) == t0 + 1s);
  const auto& o = q.outcome();
  CHECK(ignored(o, ignore_reason::sequence) == 1);
  CHECK(ignored(o, ignore_reason::command) == 1);
  CHECK(ignored(o, ignore_reason::version) == 2);
  CHECK(ignored(o, ignore_reason::not_reply) == 2);
  CHECK(ignored(o, ignore_reason::malformed) == 1);
  CHECK(ignored(o, ignore_reason::source) == 1);
  CHECK(ignored(o, ignore_reason::oversized) == 1);
  q.on_datagram(reply, {});
  expect_finished(q, t0 + 500ms);
  CHECK(q.outcome().kind == cmdmon_outcome_kind::reply);
  CHECK(q.outcome().requests_sent == 1);
}

TEST_CASE("a flood of 100000 strays is counted, sends nothing and ends at the deadline") {
  const auto reply = datagrams(cap::udp_tracking, true).at(0);
  cmdmon_plan p = tracking_plan(5);
  p.timing.max_retries = 0;
  cmdmon_query q(p);
  expect_send(q, t0);
  for (std::uint32_t i = 0; i < 100000; ++i) {
    q.on_datagram(with_sequence(reply, 6 + i), {});
  }
  CHECK(expect_wait(q, t0 + 999ms) == t0 + 1s);
  expect_finished(q, t0 + 1s);
  CHECK(q.outcome().kind == cmdmon_outcome_kind::timeout);
  CHECK(ignored(q.outcome(), ignore_reason::sequence) == 100000);
  CHECK(q.outcome().requests_sent == 1);
}

// client.c: "Reply too short" -> new_attempt at once.
TEST_CASE("a reply shorter than its code needs is resent at once; on the last attempt it ends") {
  const auto reply = datagrams(cap::udp_tracking, true).at(0);
  cmdmon_plan p = tracking_plan(load_be32(reply, 16));
  p.timing.max_retries = 1;
  cmdmon_query q(p);
  expect_send(q, t0);
  const bytes cut(reply.begin(), reply.begin() + 60);
  q.on_datagram(cut, {});
  CHECK(ignored(q.outcome(), ignore_reason::truncated) == 1);
  const auto again = expect_send(q, t0 + 10ms);
  CHECK(attempt_of(again) == 1);
  q.on_datagram(cut, {});
  expect_finished(q, t0 + 20ms);
  CHECK(q.outcome().kind == cmdmon_outcome_kind::bad_reply);
  CHECK(q.outcome().error == errc::truncated);
  CHECK(q.outcome().requests_sent == 2);
}

TEST_CASE("a bad status ends the query with chronyd's status (captured 501 Not authorised)") {
  const auto request = datagrams(cap::udp_serverstats_unauthorised, false).at(0);
  const auto reply = datagrams(cap::udp_serverstats_unauthorised, true).at(0);
  cmdmon_query q({.request = {.code = cm::command::server_stats},
                  .sequence = sequence_of(request),
                  .timing = {}});
  expect_send(q, t0);
  q.on_datagram(reply, {});
  expect_finished(q, t0);
  CHECK(q.outcome().kind == cmdmon_outcome_kind::status_error);
  REQUIRE(q.outcome().reply);
  CHECK(q.outcome().reply->header.status == cm::status::unauthorised);
}

// client.c request_reply: "508 Bad reply from daemon" when the reply code is not the one
// asked for; an undecodable code says so.
TEST_CASE("an unknown reply code and another command's layout are bad replies") {
  const auto reply = datagrams(cap::udp_tracking, true).at(0);
  const std::uint32_t seq = load_be32(reply, 16);
  {
    cmdmon_query q(tracking_plan(seq));
    expect_send(q, t0);
    bytes unknown = reply;
    store_be16(unknown, 6, 27);
    q.on_datagram(unknown, {});
    expect_finished(q, t0);
    CHECK(q.outcome().kind == cmdmon_outcome_kind::bad_reply);
    CHECK(q.outcome().error == errc::cmdmon_unknown_reply);
    CHECK_FALSE(q.outcome().reply);
  }
  {
    cmdmon_query q(tracking_plan(seq));
    expect_send(q, t0);
    bytes other = reply;
    store_be16(other, 6, static_cast<std::uint16_t>(cm::reply_code::sourcestats));
    q.on_datagram(other, {});
    expect_finished(q, t0);
    CHECK(q.outcome().kind == cmdmon_outcome_kind::bad_reply);
    CHECK(q.outcome().error == errc::cmdmon_unexpected_reply);
    REQUIRE(q.outcome().reply);
    CHECK(std::holds_alternative<cm::sourcestats>(q.outcome().reply->body));
  }
}

// client.c: a version 5 reply with STT_BADPKTVERSION -> proto_version 5, n_attempts--, resend.
TEST_CASE("BADPKTVERSION from a version 5 chronyd: the same attempt again as version 5") {
  const auto reply = datagrams(cap::udp_tracking, true).at(0);
  cmdmon_query q(tracking_plan(9));
  const auto first = expect_send(q, t0);
  CHECK(first.size() == 104);
  q.on_datagram(
      make_reply(cm::command::tracking, 9, cm::null_reply{}, cm::status::bad_packet_version, 5),
      {});
  const auto v5 = expect_send(q, t0 + 5ms);
  CHECK(v5[0] == 5);
  CHECK(v5.size() == 20);  // version 5 requests are not padded
  CHECK(attempt_of(v5) == 0);
  CHECK(sequence_of(v5) == 9);
  CHECK(expect_wait(q, t0 + 5ms) == t0 + 5ms + 1s);
  bytes answer = with_sequence(reply, 9);
  answer[0] = 5;
  q.on_datagram(answer, {});
  expect_finished(q, t0 + 6ms);
  CHECK(q.outcome().kind == cmdmon_outcome_kind::reply);
  CHECK(q.outcome().version == 5);
  CHECK(q.outcome().requests_sent == 2);
  CHECK(q.outcome().last_attempt == 0);
}

TEST_CASE("BADPKTVERSION without the fallback, or from version 6 or 4, is a status error") {
  const auto make = [](std::uint8_t version) {
    return make_reply(cm::command::tracking, 9, cm::null_reply{}, cm::status::bad_packet_version,
                      version);
  };
  {
    cmdmon_plan p = tracking_plan(9);
    p.timing.version5_fallback = false;
    cmdmon_query q(p);
    expect_send(q, t0);
    q.on_datagram(make(5), {});
    expect_finished(q, t0);
    CHECK(q.outcome().kind == cmdmon_outcome_kind::status_error);
  }
  {
    cmdmon_query q(tracking_plan(9));
    expect_send(q, t0);
    q.on_datagram(make(4), {});
    expect_finished(q, t0);
    CHECK(q.outcome().kind == cmdmon_outcome_kind::status_error);
    CHECK(q.outcome().reply->header.version == 4);
  }
  {
    cmdmon_query q(tracking_plan(9));
    expect_send(q, t0);
    q.on_datagram(make(3), {});  // below chronyc's PROTO_VERSION_MISMATCH_COMPAT_CLIENT
    CHECK(ignored(q.outcome(), ignore_reason::version) == 1);
    CHECK_FALSE(q.done());
  }
  {
    // chronyd 4.3's answer to a version 5 request (captured): a version 6 BADPKTVERSION.
    const auto request = datagrams(cap::own_tracking_as_version_5, false).at(0);
    cmdmon_plan p = tracking_plan(sequence_of(request));
    p.timing.version = 5;
    cmdmon_query q(p);
    expect_send(q, t0);
    q.on_datagram(datagrams(cap::own_tracking_as_version_5, true).at(0), {});
    expect_finished(q, t0);
    CHECK(q.outcome().kind == cmdmon_outcome_kind::status_error);
    CHECK(q.outcome().reply->header.status == cm::status::bad_packet_version);
  }
}

// client.c: recv failure -> new_attempt; a send failure -> return 0.
TEST_CASE("a receive error resends at once; on the last attempt it is a transport error") {
  cmdmon_query q(tracking_plan(3));
  const auto refused = std::make_error_code(std::errc::connection_refused);
  expect_send(q, t0);
  q.on_transport_error(refused);
  CHECK(attempt_of(expect_send(q, t0 + 1ms)) == 1);
  q.on_transport_error(refused);
  CHECK(attempt_of(expect_send(q, t0 + 2ms)) == 2);
  q.on_transport_error(refused);
  expect_finished(q, t0 + 3ms);
  CHECK(q.outcome().kind == cmdmon_outcome_kind::transport_error);
  CHECK(q.outcome().error == refused);
  CHECK(q.outcome().requests_sent == 3);
}

TEST_CASE("a failed send ends the query as a transport error") {
  cmdmon_query q(tracking_plan(3));
  auto a = q.next(t0);
  REQUIRE(std::holds_alternative<send_bytes>(a));
  q.on_send_failed(std::make_error_code(std::errc::network_unreachable));
  expect_finished(q, t0);
  CHECK(q.outcome().kind == cmdmon_outcome_kind::transport_error);
  CHECK(q.outcome().error == std::errc::network_unreachable);
}

TEST_CASE("a late reply to the first attempt is taken after the resend") {
  const auto reply = datagrams(cap::udp_tracking, true).at(0);
  cmdmon_query q(tracking_plan(load_be32(reply, 16)));
  expect_send(q, t0);
  expect_send(q, t0 + 1s);
  q.on_datagram(reply, {});
  expect_finished(q, t0 + 1100ms);
  CHECK(q.outcome().kind == cmdmon_outcome_kind::reply);
  CHECK(q.outcome().requests_sent == 2);
}

TEST_CASE("a send the driver does not confirm counts from the next call") {
  cmdmon_query q(tracking_plan(3));
  REQUIRE(std::holds_alternative<send_bytes>(q.next(t0)));
  CHECK(expect_wait(q, t0 + 10ms) == t0 + 10ms + 1s);
  q.on_sent({.tag = 0, .time = {}, .source = time_source::user, .at = t0});  // too late: kept
  CHECK(expect_wait(q, t0 + 20ms) == t0 + 10ms + 1s);
}

TEST_CASE("an unsupported command ends at once, and nothing changes a finished query") {
  cmdmon_query q({.request = {.code = cm::command::burst}, .sequence = 1, .timing = {}});
  expect_finished(q, t0);
  CHECK(q.outcome().kind == cmdmon_outcome_kind::bad_reply);
  CHECK(q.outcome().error == errc::cmdmon_unsupported_command);
  CHECK(q.outcome().requests_sent == 0);
  q.on_datagram(datagrams(cap::udp_tracking, true).at(0), {});
  q.on_transport_error(std::make_error_code(std::errc::io_error));
  CHECK(q.outcome().kind == cmdmon_outcome_kind::bad_reply);
  CHECK(q.outcome().ignored.empty());
}

TEST_CASE("outcome kinds and clients stops have names") {
  CHECK(cmdmon_outcome_kind_name(cmdmon_outcome_kind::status_error) == "status_error");
  CHECK(cmdmon_outcome_kind_name(cmdmon_outcome_kind::transport_error) == "transport_error");
  CHECK(cmdmon_clients_stop_name(cmdmon_clients_stop::no_progress) == "no_progress");
  CHECK(ignore_reason_name(ignore_reason::sequence) == "sequence");
  CHECK(ignore_reason_name(ignore_reason::not_reply) == "not_reply");
  CHECK(ignore_reason_name(ignore_reason::truncated) == "truncated");
}

// --- walks, against what chronyc did ---

// A server that answers our n-th request with chronyd's n-th captured reply, carrying our
// sequence; it also checks that our n-th request is chronyc's n-th (sequence aside).
struct replay_server {
  std::vector<bytes> chronyc_requests;
  std::vector<bytes> replies;
  std::size_t at = 0;
  std::optional<bytes> operator()(const bytes& ours) {
    REQUIRE(at < replies.size());
    const auto seq = sequence_of(ours);
    CHECK(ours == with_sequence(chronyc_requests.at(at), seq));
    return with_sequence(replies.at(at++), seq);
  }
};

replay_server replay(const cap::exchange& e) {
  return {datagrams(e, false), datagrams(e, true), 0};
}

TEST_CASE("the sources walk makes chronyc's requests and collects every source") {
  auto server = replay(cap::udp_sources);
  cmdmon_sources_walk w({.per_source = cm::command::source_data, .first_sequence = 100});
  const auto sent = drive(w, std::ref(server));
  CHECK(sent.size() == 9);
  CHECK(sequence_of(sent[0]) == 100);
  CHECK(sequence_of(sent[8]) == 108);
  const auto& o = w.outcome();
  CHECK(o.kind == cmdmon_outcome_kind::reply);
  CHECK(o.n_sources == 8u);
  REQUIRE(o.sources.size() == 8);
  CHECK(std::get<cm::source_data>(o.sources[6]).ip_addr.is_unresolved());
  CHECK(std::get<cm::source_data>(o.sources[7]).mode == cm::source_mode::peer);
  CHECK(o.requests_sent == 9);
}

TEST_CASE("the sources walk does sourcestats and selectdata as chronyc did") {
  {
    auto server = replay(cap::udp_sourcestats);
    cmdmon_sources_walk w({.per_source = cm::command::sourcestats});
    drive(w, std::ref(server));
    REQUIRE(w.outcome().sources.size() == 8);
    CHECK(std::get<cm::sourcestats>(w.outcome().sources[1]).ip_addr ==
          cm::ip_addr::from_in4(0x7f000001));
  }
  {
    auto server = replay(cap::unix_selectdata);
    cmdmon_sources_walk w({.per_source = cm::command::select_data});
    drive(w, std::ref(server));
    REQUIRE(w.outcome().sources.size() == 8);
    CHECK(w.outcome().kind == cmdmon_outcome_kind::reply);
  }
}

TEST_CASE("the sources walk stops at the first failing request and keeps what it has") {
  auto server = [](const bytes& req) -> std::optional<bytes> {
    const auto c = static_cast<cm::command>(load_be16(req, 4));
    if (c == cm::command::n_sources) {
      return make_reply(c, sequence_of(req), cm::n_sources_reply{5});
    }
    if (load_be32(req, 20) == 2) {
      return make_reply(c, sequence_of(req), cm::null_reply{}, cm::status::no_such_source);
    }
    return make_reply(c, sequence_of(req), cm::source_data{});
  };
  cmdmon_sources_walk w({});
  const auto sent = drive(w, server);
  CHECK(sent.size() == 4);
  CHECK(w.outcome().kind == cmdmon_outcome_kind::status_error);
  CHECK(w.outcome().failed_reply->header.status == cm::status::no_such_source);
  CHECK(w.outcome().sources.size() == 2);
}

TEST_CASE("the sources walk is bounded by max_sources and says it was truncated") {
  auto server = [](const bytes& req) -> std::optional<bytes> {
    const auto c = static_cast<cm::command>(load_be16(req, 4));
    if (c == cm::command::n_sources) {
      return make_reply(c, sequence_of(req), cm::n_sources_reply{0xffffffff});
    }
    return make_reply(c, sequence_of(req), cm::source_data{});
  };
  cmdmon_sources_walk w({.max_sources = 3});
  CHECK(drive(w, server).size() == 4);
  CHECK(w.outcome().truncated);
  CHECK(w.outcome().sources.size() == 3);
  CHECK(w.outcome().kind == cmdmon_outcome_kind::reply);
}

TEST_CASE("a version 5 fallback carries over to the walk's later requests") {
  int n = 0;
  auto server = [&](const bytes& req) -> std::optional<bytes> {
    const auto c = static_cast<cm::command>(load_be16(req, 4));
    if (n++ == 0) {
      return make_reply(c, sequence_of(req), cm::null_reply{}, cm::status::bad_packet_version, 5);
    }
    CHECK(req[0] == 5);
    if (c == cm::command::n_sources) {
      return make_reply(c, sequence_of(req), cm::n_sources_reply{1}, cm::status::success, 5);
    }
    return make_reply(c, sequence_of(req), cm::source_data{}, cm::status::success, 5);
  };
  cmdmon_sources_walk w({});
  CHECK(drive(w, server).size() == 3);
  CHECK(w.outcome().version == 5);
  CHECK(w.outcome().sources.size() == 1);
}

TEST_CASE("a per-source command other than the three is refused") {
  cmdmon_sources_walk w({.per_source = cm::command::tracking});
  expect_finished(w, t0);
  CHECK(w.outcome().error == errc::cmdmon_unsupported_command);
}

TEST_CASE("the clients walk follows next_index with chronyc's requests until the short page") {
  auto server = replay(cap::unix_clients);
  cmdmon_clients_walk w({});
  const auto sent = drive(w, std::ref(server));
  CHECK(sent.size() == 2);
  const auto& o = w.outcome();
  CHECK(o.stop == cmdmon_clients_stop::complete);
  CHECK(o.kind == cmdmon_outcome_kind::reply);
  CHECK(o.clients.size() == 13);
  CHECK(o.clients.front().ip == cm::ip_addr::from_in4(0x7f000101));
  CHECK(load_be32(sent[0], 32) == 0);  // reset = 0 unless asked
}

namespace {

// Pages of 8 clients from `first_index` on, next_index = first + step, in a table of `n_indices`.
std::optional<bytes> endless_pages(const bytes& req, std::uint32_t step, std::uint32_t n_indices,
                                   bool unspec = false) {
  cm::client_accesses page;
  page.reply_version = 3;
  const auto first = load_be32(req, 20);
  page.n_indices = n_indices;
  page.next_index = first + step;
  page.n_clients = 8;
  for (std::uint32_t i = 0; i < 8; ++i) {
    page.clients[i].ip = unspec ? cm::ip_addr{} : cm::ip_addr::from_in4(0x0a000000 + first + i);
    page.clients[i].nke_hits = 0;
    page.clients[i].nke_drops = 0;
    page.clients[i].nke_interval = 0;
    page.clients[i].last_nke_hit_ago = 0;
  }
  return make_reply(cm::command::client_accesses_by_index3, sequence_of(req), page);
}

}  // namespace

TEST_CASE("the clients walk stops when next_index does not advance") {
  cmdmon_clients_walk w({.first_index = 40});
  const auto sent = drive(w, [](const bytes& r) { return endless_pages(r, 0, 1000); });
  CHECK(sent.size() == 1);
  CHECK(w.outcome().stop == cmdmon_clients_stop::no_progress);
  CHECK(w.outcome().kind == cmdmon_outcome_kind::bad_reply);
  CHECK(w.outcome().error == errc::cmdmon_no_progress);
  CHECK(w.outcome().clients.size() == 8);
}

TEST_CASE("the clients walk is bounded by max_requests and max_records") {
  {
    cmdmon_clients_walk w({.max_requests = 3});
    const auto sent = drive(w, [](const bytes& r) { return endless_pages(r, 8, 0xffffffff); });
    CHECK(sent.size() == 3);
    CHECK(load_be32(sent[2], 20) == 16);
    CHECK(w.outcome().stop == cmdmon_clients_stop::max_requests);
    CHECK(w.outcome().clients.size() == 24);
    CHECK(w.outcome().next_index == 24);
  }
  {
    cmdmon_clients_walk w({.max_records = 10});
    const auto sent = drive(w, [](const bytes& r) { return endless_pages(r, 8, 0xffffffff); });
    CHECK(sent.size() == 2);
    CHECK(w.outcome().stop == cmdmon_clients_stop::max_records);
    CHECK(w.outcome().clients.size() == 10);
  }
}

TEST_CASE("the clients walk skips unspec records, passes min_hits and reset when asked") {
  cmdmon_clients_walk w({.min_hits = 3, .reset = true});
  const auto sent = drive(w, [](const bytes& r) { return endless_pages(r, 8, 16, true); });
  CHECK(sent.size() == 2);
  CHECK(load_be32(sent[0], 28) == 3);
  CHECK(load_be32(sent[0], 32) == 1);
  CHECK(w.outcome().skipped_unspec == 16);
  CHECK(w.outcome().clients.empty());
  CHECK(w.outcome().stop == cmdmon_clients_stop::complete);
}

TEST_CASE("a status error stops the clients walk as failed") {
  cmdmon_clients_walk w({});
  drive(w, [](const bytes& r) {
    return std::optional(make_reply(cm::command::client_accesses_by_index3, sequence_of(r),
                                    cm::null_reply{}, cm::status::inactive));
  });
  CHECK(w.outcome().stop == cmdmon_clients_stop::failed);
  CHECK(w.outcome().kind == cmdmon_outcome_kind::status_error);
  CHECK(w.outcome().failed_reply->header.status == cm::status::inactive);
}

TEST_CASE("a walk whose queries time out ends as timeout after chronyc's three attempts") {
  cmdmon_clients_walk w({});
  const auto sent = drive(w, [](const bytes&) { return std::nullopt; });
  CHECK(sent.size() == 3);
  CHECK(w.outcome().kind == cmdmon_outcome_kind::timeout);
  CHECK(w.outcome().stop == cmdmon_clients_stop::failed);
}
