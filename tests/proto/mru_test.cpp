// Tests of proto/mru.hpp. Truth: NTPsec 1.2.2 ntpd's REQ_NONCE and READ_MRU answers to
// NTPsec 1.2.2 ntpq's `mrulist` walks, and what ntpq printed for them
// (tests/proto/data/mode6_captures.hpp; run 2 holds complete walks of a 402-client list). Where
// the walk replays a capture, every request it sends must be the one ntpq sent, byte for byte;
// the answers to requests ntpq does not send (UNKNOWNVAR, BADVALUE, no nonce) come from
// mru-raw, re-numbered to the walk's sequence where a script needs them.

#include "ntpkit/proto/mru.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <variant>
#include <vector>

#include "ntpkit/proto/control.hpp"
#include "ntpkit/proto/errc.hpp"
#include "proto/data/mode6_captures.hpp"
#include "support/test_support.hpp"

using namespace ntpkit::proto;
using namespace std::chrono_literals;
using ntpkit::test::from_hex;
namespace cap = ntpkit::test::mode6;
using bytes = std::vector<std::uint8_t>;

namespace {

const steady_time t0 = steady_time{} + 1000s;

bytes of(const cap::datagram& d) { return from_hex(d.hex); }

variable_list vars_of(std::initializer_list<cap::datagram> grams) {
  bytes data;
  for (const auto& g : grams) {
    const auto d = of(g);
    const auto f = parse_control_fragment(d);
    REQUIRE(f);
    data.insert(data.end(), f->data.begin(), f->data.end());
  }
  return parse_variables(data);
}

std::uint16_t sequence_of(const bytes& d) { return static_cast<std::uint16_t>(d[2] << 8 | d[3]); }

bytes renumbered(bytes d, std::uint16_t sequence) {
  d[2] = static_cast<std::uint8_t>(sequence >> 8);
  d[3] = static_cast<std::uint8_t>(sequence);
  return d;
}

// Runs `w` against a captured exchange: each request the walk sends must be the next request
// of the capture; every server datagram of that sequence number is then delivered. Returns
// the number of requests compared.
template <std::size_t N>
int replay(mru_walk& w, const cap::datagram (&grams)[N], steady_time& now) {
  std::size_t next_request = 0;
  int compared = 0;
  for (int step = 0; step < 1000 && !w.done(); ++step) {  // bounded
    auto a = w.next(now);
    if (std::holds_alternative<finished>(a)) break;
    REQUIRE(std::holds_alternative<send_bytes>(a));
    const auto& s = std::get<send_bytes>(a);
    while (next_request < N && grams[next_request].from_server) ++next_request;
    REQUIRE(next_request < N);
    const auto expected = of(grams[next_request++]);
    CAPTURE(compared);
    CHECK(s.bytes == expected);
    ++compared;
    w.on_sent({.tag = s.tag, .at = now});
    now += 1ms;
    for (const auto& g : grams) {
      const auto d = of(g);
      if (g.from_server && sequence_of(d) == sequence_of(expected)) {
        w.on_datagram(d, {.at = now});
      }
    }
  }
  return compared;
}

// NTPsec's ntpq sends LI 3 in its requests.
mru_walk_options ntpq_like() {
  mru_walk_options o;
  o.leap = leap_indicator::unsynchronised;
  return o;
}

const mru_entry* find(const std::vector<mru_entry>& entries, std::string_view address) {
  for (const auto& e : entries) {
    if (e.address == address) return &e;
  }
  return nullptr;
}

// Drives a walk by hand.
struct script {
  mru_walk w;
  steady_time now = t0;
  explicit script(mru_walk_options o) : w(std::move(o), t0) {}
  bytes expect_send() {
    auto a = w.next(now);
    REQUIRE(std::holds_alternative<send_bytes>(a));
    auto s = std::get<send_bytes>(a);
    w.on_sent({.tag = s.tag, .at = now});
    return s.bytes;
  }
  std::string data_of(const bytes& request) {
    const auto f = parse_control_fragment(request);
    REQUIRE(f);
    return {f->data.begin(), f->data.end()};
  }
  void answer(const bytes& request, const cap::datagram& g) {
    w.on_datagram(renumbered(of(g), sequence_of(request)), {.at = now});
  }
  void wait_out() {
    auto a = w.next(now);
    REQUIRE(std::holds_alternative<wait_until>(a));
    now = std::get<wait_until>(a).deadline;
  }
};

}  // namespace

TEST_CASE("a REQ_NONCE answer gives the nonce, and nothing else passes for one") {
  // mru-walk[1]: "nonce=eebc288786029b3be4f32bde\r\n" (ntpq then sent that nonce).
  CHECK(*parse_nonce(vars_of({cap::mru_walk[1]})) == "eebc288786029b3be4f32bde");
  CHECK(parse_nonce(parse_variables(std::string_view("nonce=xyz"))).error() ==
        errc::bad_mru_response);
  CHECK(parse_nonce(parse_variables(std::string_view("now=0x1.2"))).error() ==
        errc::bad_mru_response);
}

TEST_CASE("MRU rows read generically by tag.index, in any field order, random tags kept") {
  // mrulist-limited (run 1), the answer to the second READ_MRU: three rows whose fields come
  // in random order, with the random tag kcx.0. ntpq printed for the first of them
  // "rstr c0, m 3, v 4, count 4, score 0.194, drop 0, rport 56224, 127.0.1.1".
  const auto m = parse_mru_response(vars_of({cap::mrulist_limited[3]}));
  CHECK(m.nonce == "eebc231840f33968e07d1c74");
  REQUIRE(m.entries.size() == 3);
  const auto& e = m.entries[0];
  CHECK(e.address == "127.0.1.1:56224");
  CHECK(e.last.bits() == 0xeebc22e3466fdd00ULL);
  CHECK(e.first.bits() == 0xeebc22e1a04831f8ULL);
  CHECK(e.count == 4);
  CHECK(e.restrictions == 0xc0);
  CHECK(e.mode_version == 35);  // 0x23: version 4, mode 3
  CHECK(e.score == doctest::Approx(0.194));
  CHECK(e.dropped == 0u);
  CHECK(e.other == std::vector<std::pair<std::string, std::string>>{{"kcx", "45042"}});
  CHECK(m.entries[2].address == "127.0.1.3:40844");
  CHECK_FALSE(m.now);
  CHECK(m.malformed_rows == 0);
}

TEST_CASE("a continuation answer names the entry it resumed after; the last one has now=") {
  // mrulist-limited: the third answer (two fragments) starts with last.older/addr.older; the
  // fourth ends the walk with now= and last.newest=.
  const auto cont = parse_mru_response(vars_of({cap::mrulist_limited[5], cap::mrulist_limited[6]}));
  CHECK(cont.older_address == "127.0.1.3:40844");
  CHECK(cont.older_last->bits() == 0xeebc22e346741440ULL);
  CHECK(cont.entries.size() == 3);
  CHECK(cont.entries[2].address == "10.66.6.1:123");
  CHECK(cont.entries[2].count == 13);  // ntpq: count 13 for 10.66.6.1
  const auto end = parse_mru_response(vars_of({cap::mrulist_limited[8]}));
  REQUIRE(end.now);
  CHECK(end.now->bits() == 0xeebc23184138d385ULL);
  CHECK(end.last_newest->bits() == 0xeebc23184135a9fbULL);
  REQUIRE(end.entries.size() == 1);
  CHECK(end.entries[0].address == "127.0.0.1:44613");
  CHECK(end.entries[0].count == 96);  // ntpq: count 96, m 6, v 2
  CHECK(end.entries[0].mode_version == 22);
  CHECK(end.entries[0].other.front().first == "hyo");
}

TEST_CASE("rows without an address or a readable last are counted, not kept") {
  const auto m = parse_mru_response(parse_variables(std::string_view(
      "addr.0=1.2.3.4:5, last.0=0x1.2, ct.0=3, addr.1=6.7.8.9:10, ct.1=2, last.2=0x1.2, "
      "addr.3=1.1.1.1:1, last.3=0xz, addr.4=2.2.2.2:2, last.4=0x1.3, mv.4=999, zz=1, q.x=2")));
  REQUIRE(m.entries.size() == 1);
  CHECK(m.entries[0].count == 3);
  CHECK(m.malformed_rows == 4);
  CHECK(m.unknown == std::vector<std::string>{"zz", "q.x"});
}

TEST_CASE("build_mru_request writes ntpq's first request and fits priors under 468 bytes") {
  CHECK(build_mru_request("eebc288786029b3be4f32bde", {}, {}, true, {}) ==
        "nonce=eebc288786029b3be4f32bde, frags=32");
  const std::vector<std::pair<std::string, std::string>> filters{{"mincount", "2"}, {"limit", "3"}};
  // mrulist-limited's first READ_MRU: "nonce=..., frags=32, mincount=2, limit=3".
  const auto first = of(cap::mrulist_limited[2]);
  CHECK(build_mru_request("eebc231840dc263b2b151d1f", {}, filters, true, {}) ==
        std::string(first.begin() + 12, first.begin() + 12 + 61));
  std::vector<mru_prior> many(20, {"127.0.1.100:65535", timestamp::from_bits(1)});
  std::size_t used = 0;
  const auto text = build_mru_request("00", {false, 96}, {{"recent", "5"}}, false, many, &used);
  CHECK(text.size() < 468);
  CHECK(used == 8);
  CHECK(text.starts_with("nonce=00, limit=96, addr.0=127.0.1.100:65535, last.0=0x00000000."));
  CHECK(text.find("recent") == std::string::npos);  // only on the first request
}

TEST_CASE("the walk replays ntpq's mrulist byte for byte and merges what ntpq printed") {
  // mru-walk: REQ_NONCE, then four READ_MRU of frags=32; ntpq printed "Collected 402 slots",
  // the newest row first: "0 0.796 0 . 6 2 39 1.324 0 38786 127.0.0.1", then
  // "2 0.555 c0 . 3 4 4 0.194 0 55254 127.0.2.5".
  steady_time now = t0;
  mru_walk w(ntpq_like(), now);
  CHECK(replay(w, cap::mru_walk, now) == 5);
  REQUIRE(w.done());
  const auto& r = w.result();
  CHECK(r.outcome == mru_outcome::complete);
  CHECK(r.entries.size() == 402);
  CHECK(r.requests == 5);
  CHECK(r.nonce_requests == 1);
  CHECK(r.restarts == 0);
  CHECK(r.malformed_rows == 0);
  CHECK(r.now.has_value());
  const auto& newest = r.entries.back();
  CHECK(newest.address == "127.0.0.1:38786");
  CHECK(newest.count == 39);
  CHECK(newest.mode_version == ((2 << 3) | 6));  // m 6, v 2
  CHECK(newest.restrictions == 0);
  CHECK(newest.score == doctest::Approx(1.324));
  const auto& second = r.entries[r.entries.size() - 2];
  CHECK(second.address == "127.0.2.5:55254");
  CHECK(second.count == 4);
  CHECK(second.restrictions == 0xc0);
  CHECK(second.mode_version == ((4 << 3) | 3));  // m 3, v 4
  const auto* server = find(r.entries, "10.66.6.1:123");
  REQUIRE(server != nullptr);
  CHECK(server->restrictions == 0xc0);
}

TEST_CASE("frags grow by one per answer, as ntpq's did from frags=3 to 17") {
  // mru-frags3: fifteen READ_MRU requests, frags=3, 4, ..., 17 (ntpq printed 402 slots).
  auto o = ntpq_like();
  o.size = {true, 3};
  steady_time now = t0;
  mru_walk w(o, now);
  CHECK(replay(w, cap::mru_frags3, now) == 16);
  REQUIRE(w.done());
  CHECK(w.result().outcome == mru_outcome::complete);
  CHECK(w.result().entries.size() == 402);
  CHECK(w.result().rows_received >= 402);
}

TEST_CASE("recent= goes on the first request only; the answer is read") {
  // mru-recent: ntpq sent "nonce=..., frags=32, recent=5, " (with a stray ", " we do not
  // copy) and printed 5 slots.
  auto o = ntpq_like();
  o.parameters = {{"recent", "5"}};
  script s(o);
  const auto nonce_request = s.expect_send();
  CHECK(nonce_request == of(cap::mru_recent[0]));
  s.answer(nonce_request, cap::mru_recent[1]);
  const auto read = s.expect_send();
  CHECK(s.data_of(read) == "nonce=eebc288c0f0f25e09ab84ce3, frags=32, recent=5");
  s.answer(read, cap::mru_recent[3]);
  s.answer(read, cap::mru_recent[4]);
  REQUIRE(std::holds_alternative<finished>(s.w.next(s.now)));
  CHECK(s.w.result().outcome == mru_outcome::complete);
  CHECK(s.w.result().entries.size() == 5);
}

TEST_CASE("UNKNOWNVAR makes the walk offer older priors, then start over, up to the limit") {
  mru_walk_options o;
  o.max_restarts = 2;
  script s(o);
  auto req = s.expect_send();
  s.answer(req, cap::mru_walk[1]);  // nonce
  req = s.expect_send();
  for (std::size_t i = 3; i < 35; ++i) s.answer(req, cap::mru_walk[i]);  // 1st answer: rows
  req = s.expect_send();
  const std::string with_priors = s.data_of(req);
  CHECK(with_priors.find("addr.0=127.0.1.108:49642") != std::string::npos);  // as ntpq's
  s.answer(req, cap::mru_raw[3]);  // UNKNOWNVAR (to our bogus prior, captured)
  req = s.expect_send();
  const std::string older = s.data_of(req);
  CHECK(older.find("127.0.1.108:49642") == std::string::npos);  // those priors are dropped
  CHECK(older.find("addr.0=127.0.1.101:") != std::string::npos);
  s.answer(req, cap::mru_raw[3]);
  req = s.expect_send();
  s.answer(req, cap::mru_raw[3]);  // third UNKNOWNVAR: over max_restarts = 2
  REQUIRE(std::holds_alternative<finished>(s.w.next(s.now)));
  CHECK(s.w.result().outcome == mru_outcome::restart_limit);
  CHECK(s.w.result().error == errc::mru_restart_limit);
  CHECK(s.w.result().restarts == 3);
  CHECK(s.w.result().entries.size() == 104);  // the rows of the one answer are kept
}

TEST_CASE("UNKNOWNVAR with no priors left starts over from the oldest entry") {
  script s({});
  auto req = s.expect_send();
  s.answer(req, cap::mru_walk[1]);
  req = s.expect_send();
  s.answer(req, cap::mru_raw[3]);  // UNKNOWNVAR to a request without priors
  req = s.expect_send();
  CHECK(s.data_of(req).find("addr.") == std::string::npos);
  CHECK(s.w.result().restarts == 1);
}

TEST_CASE("BADVALUE switches from frags to limit=96, then lowers the limit") {
  script s({});
  auto req = s.expect_send();
  s.answer(req, cap::mru_walk[1]);
  req = s.expect_send();
  s.answer(req, cap::mru_raw[7]);  // BADVALUE (captured answer to frags=200)
  req = s.expect_send();
  CHECK(s.data_of(req).ends_with(", limit=96"));
  s.answer(req, cap::mru_raw[7]);
  req = s.expect_send();
  CHECK(s.data_of(req).ends_with(", limit=95"));
}

TEST_CASE("a READ_MRU without answer (expired nonce) halves frags and fetches a new nonce") {
  // mru-raw: a READ_MRU without a nonce got no answer at all. With retries = 0 each READ_MRU
  // is one datagram: after the timeout, REQ_NONCE again, then frags=16.
  mru_walk_options o;
  o.retries = 0;
  o.max_failures = 2;
  script s(o);
  auto req = s.expect_send();
  s.answer(req, cap::mru_walk[1]);
  req = s.expect_send();
  CHECK(s.data_of(req).ends_with("frags=32"));
  s.wait_out();
  req = s.expect_send();
  CHECK(parse_control_header(req)->opcode == control_opcode::request_nonce);
  s.answer(req, cap::mru_walk[1]);
  req = s.expect_send();
  CHECK(s.data_of(req).ends_with("frags=16"));
  s.wait_out();
  REQUIRE(std::holds_alternative<finished>(s.w.next(s.now)));
  CHECK(s.w.result().outcome == mru_outcome::timeout);
  CHECK(s.w.result().nonce_requests == 2);
}

TEST_CASE("an old nonce is refreshed before the next READ_MRU") {
  // Each answer brings a fresh nonce=; one that does not leaves ours to age. ntpd accepts a
  // nonce for 16 s; we fetch a new one after nonce_max_age (12 s).
  mru_walk_options o;
  o.nonce_max_age = 12s;
  script s(o);
  auto req = s.expect_send();
  s.answer(req, cap::mru_walk[1]);
  req = s.expect_send();
  s.now += 13s;
  const std::string rows = "addr.0=192.0.2.1:123, last.0=0x00000010.00000000, ct.0=1\r\n";
  control_header h;
  h.response = true;
  h.opcode = control_opcode::read_mru;
  h.sequence = sequence_of(req);
  h.count = static_cast<std::uint16_t>(rows.size());
  bytes d(12 + (rows.size() + 3) / 4 * 4, 0);
  write_control_header(h, d);
  std::copy(rows.begin(), rows.end(), d.begin() + 12);
  s.w.on_datagram(d, {.at = s.now});
  req = s.expect_send();
  CHECK(parse_control_header(req)->opcode == control_opcode::request_nonce);
  CHECK(s.w.result().nonce_requests == 2);
}

TEST_CASE("the walk stops at max_rows and at max_duration, keeping what it has") {
  auto rows = ntpq_like();
  rows.max_rows = 10;
  steady_time now = t0;
  mru_walk w(rows, now);
  replay(w, cap::mru_walk, now);
  REQUIRE(w.done());
  CHECK(w.result().outcome == mru_outcome::row_limit);
  CHECK(w.result().entries.size() == 10);

  mru_walk_options time;
  time.max_duration = 2s;
  script s(time);
  auto req = s.expect_send();
  s.answer(req, cap::mru_walk[1]);
  s.expect_send();
  s.now += 3s;
  REQUIRE(std::holds_alternative<finished>(s.w.next(s.now)));
  CHECK(s.w.result().outcome == mru_outcome::time_limit);
}

TEST_CASE("an entry seen twice is merged by address, the later one kept") {
  script s({});
  auto req = s.expect_send();
  s.answer(req, cap::mru_walk[1]);
  req = s.expect_send();
  const std::string twice =
      "nonce=aa, addr.0=192.0.2.1:123, last.0=0x00000010.00000000, ct.0=1, "
      "addr.1=192.0.2.1:123, last.1=0x00000020.00000000, ct.1=2, now=0x00000021.00000000\r\n";
  control_header h;
  h.response = true;
  h.opcode = control_opcode::read_mru;
  h.sequence = sequence_of(req);
  h.count = static_cast<std::uint16_t>(twice.size());
  bytes d(12 + (twice.size() + 3) / 4 * 4, 0);
  write_control_header(h, d);
  std::copy(twice.begin(), twice.end(), d.begin() + 12);
  s.w.on_datagram(d, {.at = s.now});
  REQUIRE(std::holds_alternative<finished>(s.w.next(s.now)));
  const auto& r = s.w.result();
  CHECK(r.outcome == mru_outcome::complete);
  REQUIRE(r.entries.size() == 1);
  CHECK(r.entries[0].count == 2);
  CHECK(r.rows_received == 2);
  CHECK(to_string(mru_outcome::row_limit) == "row_limit");
}
