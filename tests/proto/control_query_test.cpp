// Tests of proto/control_query.hpp: scripted exchanges (bytes in, actions out), no sockets.
// Truth: ntpq's own requests and ntpd's answers from the capture
// (tests/proto/data/mode6_captures.hpp) -- where the session replays a capture, every request
// it sends must be the one ntpq sent, byte for byte -- and, for the hostile cases no real ntpd
// sends, fragments built to RFC 9327's layout.

#include "ntpkit/proto/control_query.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "ntpkit/proto/control_vars.hpp"
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
bytes ascii(std::string_view s) { return {s.begin(), s.end()}; }

// Drives a query by hand: what it asks for, and what we answer.
struct script {
  control_query q;
  steady_time now;
  explicit script(control_query_options o) : q(std::move(o), t0), now(t0) {}

  // Expects a send; reports it sent now; returns the bytes.
  bytes expect_send() {
    auto a = q.next(now);
    REQUIRE(std::holds_alternative<send_bytes>(a));
    auto s = std::get<send_bytes>(a);
    q.on_sent({.tag = s.tag, .at = now});
    return s.bytes;
  }
  steady_time expect_wait() {
    auto a = q.next(now);
    REQUIRE(std::holds_alternative<wait_until>(a));
    return std::get<wait_until>(a).deadline;
  }
  void expect_finished() { REQUIRE(std::holds_alternative<finished>(q.next(now))); }
  void deliver(const bytes& b, bool from_peer = true) {
    q.on_datagram(b, {.from_peer = from_peer, .at = now});
  }
  void wait_out() { now = expect_wait(); }
};

control_query_options ntpq_like(control_opcode op, std::uint16_t assoc = 0) {
  control_query_options o;
  o.opcode = op;
  o.association_id = assoc;
  o.leap = leap_indicator::unsynchronised;  // NTPsec's ntpq sends LI 3
  return o;
}

bytes fragment(std::uint16_t sequence, control_opcode op, std::uint16_t offset,
               std::string_view data, bool more) {
  control_header h;
  h.response = true;
  h.more = more;
  h.opcode = op;
  h.sequence = sequence;
  h.offset = offset;
  h.count = static_cast<std::uint16_t>(data.size());
  bytes out(control_header_size + (data.size() + 3) / 4 * 4, 0);
  write_control_header(h, out);
  std::copy(data.begin(), data.end(), out.begin() + control_header_size);
  return out;
}

}  // namespace

TEST_CASE("a READSTAT exchange replays ntpq's request and gives the association list") {
  script s(ntpq_like(control_opcode::read_status));
  CHECK(s.expect_send() == of(cap::as[0]));
  CHECK(s.expect_wait() == t0 + 5s);
  s.deliver(of(cap::as[1]));
  s.expect_finished();
  const auto& r = s.q.result();
  CHECK(r.outcome == control_outcome::response);
  CHECK(r.requests_sent == 1);
  CHECK(r.response.header.status == 0x0028);
  CHECK(parse_association_list(r.response.data)->size() == 4);
}

TEST_CASE("a two-fragment peer READVAR: out of order, repeated, and a stray from elsewhere") {
  auto o = ntpq_like(control_opcode::read_variables, 17767);
  o.sequence = 2;
  script s(o);
  CHECK(s.expect_send() == of(cap::rv_up[2]));
  s.now += 10ms;
  s.deliver(of(cap::rv_up[4]));          // the last fragment first
  s.deliver(of(cap::rv_up[4]));          // again
  s.deliver(of(cap::rv_up[3]), false);   // from another address: not taken
  CHECK(s.expect_wait() == s.now + 3s);  // fragment_timeout after an accepted fragment
  s.deliver(of(cap::rv_up[3]));
  s.expect_finished();
  const auto& r = s.q.result();
  CHECK(r.outcome == control_outcome::response);
  CHECK(r.ignored_for(ignore_reason::duplicate) == 1);
  CHECK(r.ignored_for(ignore_reason::source) == 1);
  const auto vars = parse_variables(r.response.data);
  CHECK(find_variable(vars, "srcadr")->raw() == "10.66.6.1");  // ntpq: srcadr=10.66.6.1
  CHECK(r.response.header.status == 0xb114);
}

TEST_CASE("after a timeout it asks once more with the next sequence number, as NTPsec's ntpq") {
  script s(ntpq_like(control_opcode::read_status));
  CHECK(s.expect_send() == of(cap::as[0]));
  s.wait_out();
  const auto second = s.expect_send();
  CHECK(parse_control_header(second)->sequence == 2);
  s.deliver(of(cap::as[1]));  // the late answer to sequence 1: ignored
  CHECK(s.q.result().ignored_for(ignore_reason::sequence) == 1);
  auto answer = of(cap::as[1]);
  answer[3] = 2;  // the same answer for sequence 2
  s.deliver(answer);
  s.expect_finished();
  CHECK(s.q.result().outcome == control_outcome::response);
  CHECK(s.q.result().requests_sent == 2);
}

TEST_CASE("two timeouts end the query: exactly two requests, a timed_out error") {
  script s(ntpq_like(control_opcode::read_variables));
  s.expect_send();
  s.wait_out();
  s.expect_send();
  s.wait_out();
  s.expect_finished();
  CHECK(s.q.result().outcome == control_outcome::timeout);
  CHECK(s.q.result().error == std::errc::timed_out);
  CHECK(s.q.result().requests_sent == 2);
}

TEST_CASE("a partial answer is dropped and re-asked; partial again ends as incomplete") {
  auto o = ntpq_like(control_opcode::read_variables);
  o.retries = 2;
  script s(o);
  s.expect_send();
  s.deliver(fragment(1, control_opcode::read_variables, 0, "a=1, ", true));
  s.wait_out();
  s.expect_send();
  s.deliver(fragment(2, control_opcode::read_variables, 5, "b=2", false));  // gap at 0
  s.wait_out();
  s.expect_send();
  s.deliver(fragment(3, control_opcode::read_variables, 0, "a=1, ", true));  // no last
  s.wait_out();
  s.expect_finished();
  CHECK(s.q.result().outcome == control_outcome::incomplete);
  CHECK(s.q.result().error == errc::missing_last_fragment);
  CHECK(s.q.result().requests_sent == 3);
}

TEST_CASE("ntpd's BADASSOC answer ends the query as a server error without re-asking") {
  auto o = ntpq_like(control_opcode::read_clock, 17767);
  o.sequence = 2;
  script s(o);
  CHECK(s.expect_send() == of(cap::cv_up[2]));
  s.deliver(of(cap::cv_up[3]));
  s.expect_finished();
  CHECK(s.q.result().outcome == control_outcome::server_error);
  CHECK(s.q.result().response.error == control_error::unknown_association);
  CHECK(s.q.result().requests_sent == 1);
}

TEST_CASE("UNKNOWNVAR to a name list, asked name by name: ntpq's authinfo exchange") {
  // authinfo: 15 names → UNKNOWNVAR; then sequence 2..16, one name each; the last two
  // (authkuncached, authkexpired) are unknown to NTPsec (ntpq printed "?" for them).
  auto o = ntpq_like(control_opcode::read_variables);
  const auto first = of(cap::authinfo[0]);
  o.data.assign(first.begin() + 12, first.begin() + 12 + 210);
  o.on_unknown_variable = unknown_variable_policy::ask_each;
  script s(o);
  for (std::size_t i = 0; i < std::size(cap::authinfo); i += 2) {
    CAPTURE(i);
    CHECK(s.expect_send() == of(cap::authinfo[i]));
    s.deliver(of(cap::authinfo[i + 1]));
  }
  s.expect_finished();
  const auto& r = s.q.result();
  CHECK(r.outcome == control_outcome::response);
  CHECK(r.requests_sent == 16);
  REQUIRE(r.refused.size() == 2);
  CHECK(r.refused[0] ==
        std::pair<std::string, control_error>{"authkuncached", control_error::unknown_variable});
  CHECK(r.refused[1].first == "authkexpired");
  // ntpq printed: time since reset 00:01:10, stored keys 3, free keys 15, key lookups 0.
  const auto vars = parse_variables(r.response.data);
  CHECK(vars.size() == 13);
  CHECK(*find_variable(vars, "authreset")->integer() == 70);
  CHECK(*find_variable(vars, "authkeys")->integer() == 3);
  CHECK(*find_variable(vars, "authfreek")->integer() == 15);
  CHECK(*find_variable(vars, "authklookups")->integer() == 0);
}

TEST_CASE("the same UNKNOWNVAR with the fail policy is a server error") {
  auto o = ntpq_like(control_opcode::read_variables);
  o.data = ascii("stratum,nosuchvar");
  o.sequence = 2;
  script s(o);
  CHECK(s.expect_send() == of(cap::rv_unknownvar[2]));
  s.deliver(of(cap::rv_unknownvar[3]));
  s.expect_finished();
  CHECK(s.q.result().outcome == control_outcome::server_error);
  CHECK(s.q.result().response.error == control_error::unknown_variable);
}

TEST_CASE("a signed reslist replays ntpq's MD5 request; both signed fragments verify") {
  auto o = ntpq_like(control_opcode::read_ordlist);
  o.data = ascii("addr_restrictions");
  o.key = *symmetric_key::make(1, mac_algorithm::md5, ascii("ntpkit-mode6-k1"));
  o.require_reply_mac = true;
  script s(o);
  CHECK(s.expect_send() == of(cap::reslist_md5[0]));
  s.deliver(of(cap::reslist_md5[2]));
  s.deliver(of(cap::reslist_md5[1]));
  s.expect_finished();
  const auto& r = s.q.result();
  CHECK(r.outcome == control_outcome::response);
  CHECK(r.mac == control_mac_status::verified);
  CHECK(r.response.data.size() == 468 + 203);
  // ntpq printed the 0.0.0.0/0 row with "noquery nomodify limited kod".
  CHECK(find_variable(parse_variables(r.response.data), "flags.3")->raw() ==
        "noquery nomodify limited kod");
}

TEST_CASE("PERMISSION for a trusted key that is not the controlkey, signed and verified") {
  auto o = ntpq_like(control_opcode::read_ordlist);
  o.data = ascii("addr_restrictions");
  o.key = *symmetric_key::make(2, mac_algorithm::sha1,
                               from_hex("6e74706b69742d6d6f6465362d6b65792d7477"));
  script s(o);
  CHECK(s.expect_send() == of(cap::reslist_sha1[0]));
  s.deliver(of(cap::reslist_sha1[1]));
  s.expect_finished();
  CHECK(s.q.result().outcome == control_outcome::server_error);
  CHECK(s.q.result().response.error == control_error::permission);
  CHECK(s.q.result().mac == control_mac_status::verified);
}

TEST_CASE("a tampered MAC is never accepted; the query times out and says why") {
  auto o = ntpq_like(control_opcode::read_ordlist);
  o.data = ascii("addr_restrictions");
  o.key = *symmetric_key::make(1, mac_algorithm::md5, ascii("ntpkit-mode6-k1"));
  o.retries = 0;
  script s(o);
  s.expect_send();
  auto bad = of(cap::reslist_md5[1]);
  bad.back() ^= 0x80;
  s.deliver(bad);
  auto other_key = of(cap::reslist_md5[2]);
  other_key[219] = 9;  // key id 9 instead of 1
  s.deliver(other_key);
  s.wait_out();
  s.expect_finished();
  const auto& r = s.q.result();
  CHECK(r.outcome == control_outcome::timeout);
  CHECK(r.ignored_for(ignore_reason::mac) == 1);
  CHECK(r.ignored_for(ignore_reason::mac_key_id) == 1);
}

TEST_CASE("an unsigned answer to a signed request: accepted and reported, or refused") {
  for (const bool required : {false, true}) {
    CAPTURE(required);
    auto o = ntpq_like(control_opcode::read_status);
    o.key = *symmetric_key::make(1, mac_algorithm::md5, ascii("ntpkit-mode6-k1"));
    o.require_reply_mac = required;
    o.retries = 0;
    script s(o);
    s.expect_send();
    s.deliver(of(cap::as[1]));
    if (required) {
      s.wait_out();
      s.expect_finished();
      CHECK(s.q.result().outcome == control_outcome::timeout);
      CHECK(s.q.result().ignored_for(ignore_reason::mac_missing) == 1);
    } else {
      s.expect_finished();
      CHECK(s.q.result().outcome == control_outcome::response);
      CHECK(s.q.result().mac == control_mac_status::missing);
    }
  }
}

TEST_CASE("strays are counted by reason and change nothing") {
  script s(ntpq_like(control_opcode::read_variables));
  const auto request = s.expect_send();
  s.deliver(request);                                                   // our own request echoed
  s.deliver(fragment(1, control_opcode::read_clock, 0, "x", false));    // another opcode
  s.deliver(fragment(1, control_opcode::read_variables, 0, "", true));  // empty, more
  s.deliver(bytes{0x23, 0, 0});                                         // not mode 6, short
  auto ntp = bytes(48, 0);
  ntp[0] = 0x24;
  s.deliver(ntp);  // NTPv4 mode 4
  s.q.on_datagram(of(cap::rv[1]), {.truncated = true, .at = s.now});
  const auto& r = s.q.result();
  CHECK(r.ignored_for(ignore_reason::not_response) == 1);
  CHECK(r.ignored_for(ignore_reason::opcode) == 1);
  CHECK(r.ignored_for(ignore_reason::empty_fragment) == 1);
  CHECK(r.ignored_for(ignore_reason::malformed) == 1);
  CHECK(r.ignored_for(ignore_reason::mode) == 1);
  CHECK(r.ignored_for(ignore_reason::oversized) == 1);
  CHECK(s.expect_wait() == t0 + 5s);  // strays never extend the wait
  s.deliver(of(cap::rv[1]));
  s.expect_finished();
  s.deliver(of(cap::rv[1]));
  CHECK(s.q.result().ignored_for(ignore_reason::late) == 1);
}

TEST_CASE("an endless more-train ends the query as a bad response, bounded") {
  script s(ntpq_like(control_opcode::read_mru));
  s.expect_send();
  const std::string chunk(400, 'x');
  int sent = 0;
  for (std::uint32_t at = 0; sent < 1000 && !s.q.done(); at += 400, ++sent) {
    s.deliver(fragment(1, control_opcode::read_mru, static_cast<std::uint16_t>(at), chunk, true));
  }
  CHECK(s.q.done());
  CHECK(sent == 129);
  CHECK(s.q.result().outcome == control_outcome::bad_response);
  CHECK(s.q.result().error == errc::too_many_fragments);
}

TEST_CASE("overlapping fragments end the query as a bad response") {
  script s(ntpq_like(control_opcode::read_variables));
  s.expect_send();
  s.deliver(fragment(1, control_opcode::read_variables, 0, "abcdef", true));
  s.deliver(fragment(1, control_opcode::read_variables, 4, "XXXX", false));
  s.expect_finished();
  CHECK(s.q.result().outcome == control_outcome::bad_response);
  CHECK(s.q.result().error == errc::fragment_overlap);
}

TEST_CASE("send failures and socket errors end the query as transport errors") {
  script a(ntpq_like(control_opcode::read_variables));
  REQUIRE(std::holds_alternative<send_bytes>(a.q.next(t0)));
  a.q.on_send_failed(std::make_error_code(std::errc::network_unreachable));
  a.expect_finished();
  CHECK(a.q.result().outcome == control_outcome::transport_error);
  CHECK(a.q.result().error == std::errc::network_unreachable);
  script b(ntpq_like(control_opcode::read_variables));
  b.expect_send();
  b.q.on_transport_error(std::make_error_code(std::errc::connection_refused));
  b.expect_finished();
  CHECK(b.q.result().outcome == control_outcome::transport_error);
}

TEST_CASE("a request that cannot be encoded finishes at once as a bad request") {
  auto o = ntpq_like(control_opcode::read_variables);
  o.data.assign(500, 'a');
  script s(o);
  s.expect_finished();
  CHECK(s.q.result().outcome == control_outcome::bad_request);
  CHECK(s.q.result().error == errc::control_data_too_long);
  CHECK(s.q.result().requests_sent == 0);
  CHECK(to_string(control_outcome::bad_request) == "bad_request");
}

TEST_CASE("the mode 6 ignore reasons have their own names") {
  CHECK(ignore_reason_name(ignore_reason::sequence) == "sequence");
  CHECK(ignore_reason_name(ignore_reason::not_response) == "not_response");
  CHECK(ignore_reason_name(ignore_reason::opcode) == "opcode");
  CHECK(ignore_reason_name(ignore_reason::empty_fragment) == "empty_fragment");
  CHECK(ignore_reason_name(ignore_reason::late) == "late");
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < ignore_reason_count; ++i) {
    const auto n = ignore_reason_name(static_cast<ignore_reason>(i));
    CHECK(n != "unknown");
    CHECK(names.insert(n).second);
  }
}

TEST_CASE("an error bit on a non-final fragment still ends the query with that error") {
  script s(ntpq_like(control_opcode::read_variables));
  s.expect_send();
  auto err = fragment(1, control_opcode::read_variables, 0, "", true);
  err[1] |= 0x40;
  err[4] = static_cast<std::uint8_t>(control_error::bad_value);
  s.deliver(err);
  s.expect_finished();
  CHECK(s.q.result().response.error == control_error::bad_value);
}
