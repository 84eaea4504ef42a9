// Tests of proto/control.hpp. Truth comes from outside our code:
// - datagrams NTPsec 1.2.2 ntpd sent to NTPsec 1.2.2 ntpq (tests/proto/data/mode6_captures.hpp,
//   with what ntpq printed above each capture);
// - RFC 9327 §2 (header layout, status words, error codes);
// - NTPsec 1.2.2 libntp's own status decoder, statustoa(), run through python3-ntp
//   (`/usr/bin/python3 -c "import ntp.ntpc as c; print(c.statustoa(c.TYPE_SYS, 0x0028))"`,
//   2026-12-03), for the status word tables.

#include "ntpkit/proto/control.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "ntpkit/proto/errc.hpp"
#include "proto/data/mode6_captures.hpp"
#include "support/test_support.hpp"

using namespace ntpkit::proto;
using ntpkit::test::from_hex;
namespace cap = ntpkit::test::mode6;
using bytes = std::vector<std::uint8_t>;

namespace {

bytes of(const cap::datagram& d) { return from_hex(d.hex); }

bytes ascii(std::string_view s) { return {s.begin(), s.end()}; }

symmetric_key capture_key(std::uint32_t id) {
  // The key file of the capture run (mode6_captures.hpp's header).
  ntpkit::result<symmetric_key> k = errc::unknown_key;
  if (id == 1) k = symmetric_key::make(1, mac_algorithm::md5, ascii("ntpkit-mode6-k1"));
  if (id == 2) {
    k = symmetric_key::make(2, mac_algorithm::sha1,
                            from_hex("6e74706b69742d6d6f6465362d6b65792d7477"));
  }
  if (id == 3) {
    k = symmetric_key::make(3, mac_algorithm::aes128_cmac,
                            from_hex("6e74706b69742d6d6f6465362d6b2d33"));
  }
  REQUIRE(k);
  return *k;
}

// A response fragment built to RFC 9327's layout, for scripted exchanges.
bytes fragment(std::uint16_t sequence, control_opcode op, std::uint16_t offset,
               std::string_view data, bool more, std::uint16_t status = 0) {
  control_header h;
  h.response = true;
  h.more = more;
  h.opcode = op;
  h.sequence = sequence;
  h.status = status;
  h.offset = offset;
  h.count = static_cast<std::uint16_t>(data.size());
  bytes out(control_header_size + (data.size() + 3) / 4 * 4, 0);
  write_control_header(h, out);
  std::copy(data.begin(), data.end(), out.begin() + control_header_size);
  return out;
}

std::string text_of(const std::vector<std::uint8_t>& d) { return {d.begin(), d.end()}; }

}  // namespace

// ---- header ------------------------------------------------------------------------------------

TEST_CASE("ntpq's READSTAT request decodes field by field as RFC 9327 lays the header out") {
  // cap::as[0]: `ntpq -c as`. NTPsec's ntpq sends LI 3 (its packets say "not in sync").
  const auto h = parse_control_header(of(cap::as[0]));
  REQUIRE(h);
  CHECK(h->leap == leap_indicator::unsynchronised);
  CHECK(h->version == 2);
  CHECK(h->mode == 6);
  CHECK_FALSE(h->response);
  CHECK_FALSE(h->error);
  CHECK_FALSE(h->more);
  CHECK(h->opcode == control_opcode::read_status);
  CHECK(h->sequence == 1);
  CHECK(h->status == 0);
  CHECK(h->association_id == 0);
  CHECK(h->offset == 0);
  CHECK(h->count == 0);
}

TEST_CASE("every captured datagram's header is written back to the same 12 bytes") {
  for (const auto* set : {std::begin(cap::rv_up), std::begin(cap::sysstats),
                          std::begin(cap::reslist_md5), std::begin(cap::raw_requests)}) {
    for (const auto* d = set; d != set + 3; ++d) {
      const auto in = of(*d);
      const auto h = parse_control_header(in);
      REQUIRE(h);
      bytes out(12);
      write_control_header(*h, out);
      CHECK(std::equal(out.begin(), out.end(), in.begin()));
    }
  }
}

TEST_CASE("parse_control_header refuses short datagrams and other modes") {
  CHECK(parse_control_header(bytes(11, 0x16)).error() == errc::truncated);
  auto ntp = of(cap::as[0]);
  ntp[0] = 0x23;  // NTPv4 mode 3
  CHECK(parse_control_header(ntp).error() == errc::not_control_message);
}

TEST_CASE("a fragment's data is its count bytes, not the padding NTPsec leaves unzeroed") {
  // cap::authinfo[3]: count 14 in a 16-byte data area; the two bytes after it are "eq",
  // stale text from an earlier answer (PEERS.md quirk 6).
  const auto d = of(cap::authinfo[3]);
  const auto f = parse_control_fragment(d);
  REQUIRE(f);
  CHECK(f->header.count == 14);
  CHECK(text_of({f->data.begin(), f->data.end()}) == "authreset=70\r\n");
  CHECK(f->trailer.size() == 2);
  CHECK(text_of({f->trailer.begin(), f->trailer.end()}) == "eq");
}

TEST_CASE("a count past the datagram's end is a truncated fragment") {
  auto d = of(cap::rv[1]);
  d.resize(100);
  CHECK(parse_control_fragment(d).error() == errc::truncated);
}

TEST_CASE("opcode and error names are RFC 9327's, and ntpq's for errors") {
  CHECK(to_string(control_opcode::read_mru) == "READ_MRU");
  CHECK(to_string(control_opcode::unset_trap) == "UNSETTRAP");
  CHECK(to_string(static_cast<control_opcode>(20)) == "UNKNOWN");
  CHECK(to_string(control_error::prohibited) == "administratively prohibited");
  CHECK(to_string(control_error::unknown_association) == "unknown association");
  // ntpq printed "***Server error code BADASSOC" (cv-up) and "UNKNOWNVAR" (rv-unknownvar).
  CHECK(ntpq_name(control_error::unknown_association) == "BADASSOC");
  CHECK(ntpq_name(control_error::unknown_variable) == "UNKNOWNVAR");
  CHECK(ntpq_name(control_error::permission) == "PERMISSION");
}

// ---- requests ----------------------------------------------------------------------------------

TEST_CASE("encode_control_request writes ntpq's unsigned requests byte for byte") {
  // NTPsec's ntpq: LI 3, version 2; data padded with zeros to 4 bytes, count unpadded.
  control_request r;
  r.leap = leap_indicator::unsynchronised;
  r.opcode = control_opcode::read_variables;
  r.sequence = 2;
  r.association_id = 17767;
  CHECK(*encode_control_request(r) == of(cap::rv_up[2]));

  r.association_id = 0;
  const std::string names = "stratum,nosuchvar";  // rv-unknownvar: 17 bytes, 3 of padding
  r.data.assign(names.begin(), names.end());
  CHECK(*encode_control_request(r) == of(cap::rv_unknownvar[2]));

  r.opcode = control_opcode::read_status;
  r.sequence = 1;
  r.data.clear();
  CHECK(*encode_control_request(r) == of(cap::as[0]));
}

TEST_CASE("signed requests are ntpq's byte for byte for MD5, SHA1 and AES-CMAC keys") {
  // reslist with -a 1 / -a 2 / -a 3: data "addr_restrictions" (17 bytes), zeros up to 32 (a
  // multiple of 8), key id, digest. The digests were also checked with Python's hashlib and
  // cryptography's CMAC on the capture day.
  control_request r;
  r.leap = leap_indicator::unsynchronised;
  r.opcode = control_opcode::read_ordlist;
  r.sequence = 1;
  const std::string data = "addr_restrictions";
  r.data.assign(data.begin(), data.end());
  for (const auto& [id, captured] :
       {std::pair{1u, cap::reslist_md5[0]}, std::pair{2u, cap::reslist_sha1[0]},
        std::pair{3u, cap::reslist_cmac[0]}}) {
    CAPTURE(id);
    const auto key = capture_key(id);
    CHECK(*encode_control_request(r, &key) == of(captured));
  }
}

TEST_CASE("a signed request with 7 data bytes pads to 24 before the key id, as ntpq did") {
  // ifstats-md5: "ifstats", 12 + 7 = 19 → 24.
  control_request r;
  r.leap = leap_indicator::unsynchronised;
  r.opcode = control_opcode::read_ordlist;
  r.sequence = 1;
  r.data = ascii("ifstats");
  const auto key = capture_key(1);
  CHECK(*encode_control_request(r, &key) == of(cap::ifstats_md5[0]));
}

TEST_CASE("request data over 468 bytes is refused") {
  control_request r;
  r.data.assign(469, 'a');
  CHECK(encode_control_request(r).error() == errc::control_data_too_long);
  r.data.resize(468);
  CHECK(encode_control_request(r)->size() == 480);
}

// ---- MACs on responses -------------------------------------------------------------------------

TEST_CASE("ntpd's signed data fragments verify, the MAC at the next multiple of 8") {
  const auto key = capture_key(1);
  for (const auto& d :
       {cap::reslist_md5[1], cap::reslist_md5[2], cap::ifstats_md5[1], cap::ifstats_md5[2]}) {
    CHECK(*verify_control_mac(of(d), key) == control_mac_status::verified);
  }
  CHECK(control_mac_offsets(203) == std::array<std::size_t, 2>{216, 216});
}

TEST_CASE("ntpd's signed error answers verify with the MAC right after the header") {
  // PERMISSION answers to keys 2 and 3 (trusted, not the controlkey): 12 + 4 + digest bytes.
  CHECK(of(cap::reslist_sha1[1]).size() == 12 + 4 + 20);
  CHECK(*verify_control_mac(of(cap::reslist_sha1[1]), capture_key(2)) ==
        control_mac_status::verified);
  CHECK(*verify_control_mac(of(cap::reslist_cmac[1]), capture_key(3)) ==
        control_mac_status::verified);
  CHECK(control_mac_offsets(0) == std::array<std::size_t, 2>{16, 12});
}

TEST_CASE("a changed byte, another key or no MAC at all are told apart") {
  const auto key = capture_key(1);
  auto d = of(cap::reslist_md5[2]);
  d[40] ^= 1;
  CHECK(*verify_control_mac(d, key) == control_mac_status::mismatch);
  // A 20-byte SHA1 trailer read with a CMAC key: 16 digest bytes would start at 16, the
  // next multiple of 8, where no key id 3 is.
  CHECK(*verify_control_mac(of(cap::reslist_sha1[1]), capture_key(3)) ==
        control_mac_status::key_id);
  auto longer = of(cap::rv[1]);
  longer.resize(longer.size() + 9);  // 9 bytes after the padding: no 4 + 16-byte MAC fits
  CHECK(*verify_control_mac(longer, key) == control_mac_status::malformed);
  auto other = capture_key(1);
  other = *symmetric_key::make(9, mac_algorithm::md5, ascii("ntpkit-mode6-k1"));
  CHECK(*verify_control_mac(of(cap::reslist_md5[1]), other) == control_mac_status::key_id);
  CHECK(*verify_control_mac(of(cap::rv[1]), key) == control_mac_status::missing);
  CHECK(verify_control_mac(bytes(5), key).error() == errc::truncated);
}

// ---- status words ------------------------------------------------------------------------------

TEST_CASE("system status words decode as NTPsec's statustoa names them") {
  // 0x0028 is what ntpd sent in every READVAR answer of the capture; ntpq printed
  // "leap_none, sync_unspec, 2 events, no_sys_peer".
  const auto s = decode_system_status(0x0028);
  CHECK(s.leap == leap_indicator::none);
  CHECK(to_string(s.source) == "sync_unspec");
  CHECK(s.event_count == 2);
  CHECK(to_string(s.last_event) == "no_sys_peer");
  CHECK(encode_system_status(s) == 0x0028);
  // statustoa(TYPE_SYS, src << 8) for src = 0..11, and each event code.
  const char* sources[] = {"sync_unspec",     "sync_pps",       "sync_lf_radio", "sync_hf_radio",
                           "sync_uhf_radio",  "sync_local",     "sync_ntp",      "sync_other",
                           "sync_wristwatch", "sync_telephone", "sync_10",       "sync_11"};
  for (unsigned i = 0; i < 12; ++i) {
    CHECK(to_string(decode_system_status(static_cast<std::uint16_t>(i << 8)).source) == sources[i]);
  }
  const char* events[] = {
      "unspecified", "freq_not_set", "freq_set",      "spike_detect",
      "freq_mode",   "clock_sync",   "restart",       "panic_stop",
      "no_sys_peer", "leap_armed",   "leap_disarmed", "leap_event",
      "clock_step",  "kern",         "TAI",           "stale_leapsecond_values"};
  for (unsigned i = 0; i < 16; ++i) {
    CHECK(to_string(decode_system_status(static_cast<std::uint16_t>(i)).last_event) == events[i]);
  }
  CHECK(decode_system_status(0xc000).leap == leap_indicator::unsynchronised);
  CHECK(decode_system_status(0x4000).leap == leap_indicator::add_second);
}

TEST_CASE("peer status words decode to what ntpq printed for the four associations") {
  // `ntpq -c as`: 17767 b114 conf yes, reach yes, auth none, falsetick, reachable, cnt 1;
  // 17770 912a yes yes none falsetick sys_peer 2. `rv 17767` printed "conf, auth, reach,
  // sel_falsetick, 1 event, reachable": the authentic bit without auth enabled (NTS).
  const auto up = decode_peer_status(0xb114);
  CHECK(up.configured);
  CHECK_FALSE(up.auth_enabled);
  CHECK(up.authentic);
  CHECK(up.reachable);
  CHECK_FALSE(up.broadcast);
  CHECK(up.selection == peer_selection::falsetick);
  CHECK(up.event_count == 1);
  CHECK(up.last_event == peer_event::reachable);
  const auto parse = decode_peer_status(0x912a);
  CHECK(parse.configured);
  CHECK_FALSE(parse.authentic);
  CHECK(to_string(parse.selection) == "falsetick");
  CHECK(parse.event_count == 2);
  CHECK(to_string(parse.last_event) == "sys_peer");
  for (const std::uint16_t w :
       std::initializer_list<std::uint16_t>{0xb114, 0x9114, 0x912a, 0xffff, 0x0000, 0x0800}) {
    CHECK(encode_peer_status(decode_peer_status(w)) == w);
  }
  // statustoa(TYPE_PEER, sel << 8) names and the tally codes of `ntpq -p`.
  const char* names[] = {"reject",    "falsetick", "excess",   "outlier",
                         "candidate", "backup",    "sys.peer", "pps.peer"};
  for (unsigned i = 0; i < 8; ++i) {
    const auto sel = decode_peer_status(static_cast<std::uint16_t>(i << 8)).selection;
    CHECK(to_string(sel) == names[i]);
    CHECK(tally_code(sel) == " x.-+#*o"[i]);
  }
  CHECK(decode_peer_status(0x0800).broadcast);
  CHECK(to_string(peer_event::clock_event) == "clock_event");
}

TEST_CASE("a clock status word is the last event and the current state, not an event count") {
  // cv-nmea: status=0015 printed "1 event, clk_bad_date"; cv-parse-nosync: 0013 "1 event,
  // clk_fault"; cv-parse-leap: 0020 "2 events, clk_unspec". The high nibble is the last
  // event's code (1 no reply, 2 bad format), which ntpq prints as a count.
  CHECK(decode_clock_status(0x0015) == clock_status{clock_state::bad_date, clock_state::no_reply});
  CHECK(decode_clock_status(0x0013) == clock_status{clock_state::fault, clock_state::no_reply});
  CHECK(decode_clock_status(0x0020) == clock_status{clock_state::nominal, clock_state::bad_format});
  CHECK(encode_clock_status({clock_state::bad_date, clock_state::no_reply}) == 0x0015);
  // statustoa(TYPE_CLOCK, n) for n = 0..8.
  const char* names[] = {"clk_unspec",   "clk_no_reply",   "clk_bad_format",
                         "clk_fault",    "clk_bad_signal", "clk_bad_date",
                         "clk_bad_time", "clk_7",          "clk_8"};
  for (unsigned i = 0; i < 9; ++i) CHECK(to_string(static_cast<clock_state>(i)) == names[i]);
}

TEST_CASE("READSTAT's data is the association list in ntpd's order") {
  const auto datagram = of(cap::as[1]);  // the fragment's spans point into it
  const auto f = parse_control_fragment(datagram);
  REQUIRE(f);
  CHECK(f->header.status == 0x0028);  // the system status word
  const auto list = parse_association_list(f->data);
  REQUIRE(list);
  const std::vector<association_entry> expected{
      {17770, 0x912a}, {17769, 0x9114}, {17768, 0x9114}, {17767, 0xb114}};
  CHECK(*list == expected);
  CHECK(parse_association_list(bytes(6)).error() == errc::bad_association_list);
  CHECK(parse_association_list({})->empty());
}

// ---- reassembly: captured responses ------------------------------------------------------------

TEST_CASE("a two-fragment READVAR answer is joined by offset, whichever comes first") {
  // sysstats' second request (seq 2): fragments at 0 (468 bytes, more) and 468 (19 bytes).
  const auto first = of(cap::sysstats[3]);
  const auto last = of(cap::sysstats[4]);
  for (const bool reversed : {false, true}) {
    control_reassembler r(2, control_opcode::read_variables);
    CHECK(*r.feed(reversed ? last : first) == control_reassembler::progress::need_more);
    CHECK(*r.feed(reversed ? first : last) == control_reassembler::progress::complete);
    const auto& resp = r.response();
    CHECK(resp.data.size() == 487);
    CHECK(resp.fragments == 2);
    CHECK(resp.header.status == 0x0028);
    CHECK_FALSE(resp.error);
    const std::string text = text_of(resp.data);
    CHECK(text.starts_with("ss_reset=64, ss_received=293, ss_thisver"));
    CHECK(text.ends_with(", ss_ver1symm_r=0\r\n"));
  }
}

TEST_CASE("the 32 fragments of an MRU answer reassemble in any order to the same data") {
  // mru-walk: datagrams 36..67 answer READ_MRU seq 3 (32 fragments of 466..468 bytes).
  std::vector<bytes> frags;
  for (std::size_t i = 36; i < 68; ++i) frags.push_back(of(cap::mru_walk[i]));
  control_reassembler in_order(3, control_opcode::read_mru);
  for (const auto& f : frags) REQUIRE(in_order.feed(f));
  REQUIRE(in_order.complete());
  const auto expected = in_order.response().data;
  CHECK(expected.size() == 14579);

  const std::uint64_t seed = std::random_device{}();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 200; ++round) {
    auto order = frags;
    std::shuffle(order.begin(), order.end(), rng);
    // Repeat a few at random places: duplicates change nothing.
    for (int k = 0; k < 3; ++k) {
      const auto copy = order[rng() % frags.size()];
      order.insert(order.begin() + static_cast<std::ptrdiff_t>(rng() % order.size()), copy);
    }
    control_reassembler r(3, control_opcode::read_mru);
    for (const auto& f : order) REQUIRE(r.feed(f));
    REQUIRE(r.complete());
    CHECK(r.response().data == expected);
    CHECK(r.response().fragments == 32);
  }
}

TEST_CASE("every truncation of every captured ntpd datagram fails cleanly as a stray") {
  // A prefix shorter than 12 + count is errc::truncated and changes nothing; a longer one
  // (only padding or MAC cut off) is still the fragment, since only `count` bytes are data.
  std::size_t checked = 0;
  for (const auto& set :
       {std::span<const cap::datagram>(cap::sysstats), std::span<const cap::datagram>(cap::rv_up),
        std::span<const cap::datagram>(cap::reslist_md5),
        std::span<const cap::datagram>(cap::cv_parse_nosync),
        std::span<const cap::datagram>(cap::raw_requests)}) {
    for (const auto& g : set) {
      if (!g.from_server) continue;
      const auto full = of(g);
      const auto h = parse_control_header(full);
      REQUIRE(h);
      for (std::size_t n = 0; n < full.size(); ++n) {
        CAPTURE(n);
        control_reassembler r(h->sequence, h->opcode);
        const auto res = r.feed(std::span(full).first(n));
        if (n < control_header_size + h->count) {
          REQUIRE_FALSE(res);
          CHECK(res.error() == errc::truncated);
          CHECK(is_stray_control_error(res.error()));
          CHECK(r.fragment_count() == 0);
          CHECK(r.missing() == errc::no_fragment);
        } else {
          CHECK(res);
        }
        ++checked;
      }
    }
  }
  CHECK(checked > 2000);
}

TEST_CASE("ntpd's error answers complete the response with their code, whatever their offset") {
  // cv-up: READCLOCK of a non-clock association → BADASSOC (status 0x0400).
  control_reassembler badassoc(2, control_opcode::read_clock);
  CHECK(*badassoc.feed(of(cap::cv_up[3])) == control_reassembler::progress::complete);
  CHECK(badassoc.response().error == control_error::unknown_association);
  CHECK(badassoc.response().header.association_id == 17767);
  // raw-requests: opcode 13 → BADOP, with the stale offset 468 ntpd leaves in error answers.
  const auto badop = of(cap::raw_requests[1]);
  CHECK(parse_control_header(badop)->offset == 468);
  control_reassembler r(1, static_cast<control_opcode>(13));
  CHECK(*r.feed(badop) == control_reassembler::progress::complete);
  CHECK(r.response().error == control_error::unknown_opcode);
  control_reassembler unknownvar(2, control_opcode::read_variables);
  CHECK(*unknownvar.feed(of(cap::rv_unknownvar[3])) == control_reassembler::progress::complete);
  CHECK(unknownvar.response().error == control_error::unknown_variable);
}

// ---- reassembly: scripted exchanges ------------------------------------------------------------

TEST_CASE("datagrams for another request are stray and change nothing") {
  using enum control_opcode;
  control_reassembler r(7, read_variables);
  CHECK(r.feed(fragment(6, read_variables, 0, "a=1", false)).error() == errc::wrong_sequence);
  CHECK(r.feed(fragment(7, read_clock, 0, "a=1", false)).error() == errc::wrong_opcode);
  auto request = fragment(7, read_variables, 0, "a=1", false);
  request[1] &= 0x7f;
  CHECK(r.feed(request).error() == errc::not_response);
  CHECK(r.feed(fragment(7, read_variables, 10, "", true)).error() == errc::empty_fragment);
  for (auto e : {errc::wrong_sequence, errc::wrong_opcode, errc::not_response, errc::empty_fragment,
                 errc::not_control_message}) {
    CHECK(is_stray_control_error(e));
  }
  CHECK(r.fragment_count() == 0);
  CHECK(*r.feed(fragment(7, read_variables, 0, "a=1", false)) ==
        control_reassembler::progress::complete);
  CHECK(text_of(r.response().data) == "a=1");
}

TEST_CASE("a repeated fragment is a duplicate; a different one at the same offset is an overlap") {
  using enum control_opcode;
  control_reassembler r(1, read_variables);
  CHECK(*r.feed(fragment(1, read_variables, 0, "abcd", true)) ==
        control_reassembler::progress::need_more);
  CHECK(*r.feed(fragment(1, read_variables, 0, "abcd", true)) ==
        control_reassembler::progress::need_more);
  CHECK(*r.feed(fragment(1, read_variables, 4, "ef", false)) ==
        control_reassembler::progress::complete);
  CHECK(r.response().duplicates == 1);
  CHECK(text_of(r.response().data) == "abcdef");
  // After completion: repeats and even conflicting fragments change nothing.
  CHECK(*r.feed(fragment(1, read_variables, 0, "zzzz", true)) ==
        control_reassembler::progress::complete);
  CHECK(text_of(r.response().data) == "abcdef");

  control_reassembler o(1, read_variables);
  REQUIRE(o.feed(fragment(1, read_variables, 0, "abcd", true)));
  CHECK(o.feed(fragment(1, read_variables, 0, "abcX", true)).error() == errc::fragment_overlap);
  CHECK(o.failure() == errc::fragment_overlap);
  CHECK(o.missing() == errc::fragment_overlap);
  // The collection stays failed: a correct last fragment does not revive it.
  CHECK(o.feed(fragment(1, read_variables, 4, "ef", false)).error() == errc::fragment_overlap);
}

TEST_CASE("fragments that overlap partly fail, from either side") {
  using enum control_opcode;
  control_reassembler a(1, read_variables);
  REQUIRE(a.feed(fragment(1, read_variables, 4, "efgh", true)));
  CHECK(a.feed(fragment(1, read_variables, 2, "cdef", true)).error() == errc::fragment_overlap);
  control_reassembler b(1, read_variables);
  REQUIRE(b.feed(fragment(1, read_variables, 0, "abcdef", true)));
  CHECK(b.feed(fragment(1, read_variables, 4, "efgh", true)).error() == errc::fragment_overlap);
}

TEST_CASE("a gap and a missing last fragment are told apart when the caller stops waiting") {
  using enum control_opcode;
  control_reassembler gap(1, read_variables);
  REQUIRE(gap.feed(fragment(1, read_variables, 0, "abcd", true)));
  REQUIRE(gap.feed(fragment(1, read_variables, 8, "ij", false)));
  CHECK_FALSE(gap.complete());
  CHECK(gap.missing() == errc::missing_fragment);
  control_reassembler last(1, read_variables);
  REQUIRE(last.feed(fragment(1, read_variables, 0, "abcd", true)));
  CHECK(last.missing() == errc::missing_last_fragment);
  control_reassembler none(1, read_variables);
  CHECK(none.missing() == errc::no_fragment);
}

TEST_CASE("data past the last fragment's end, or a second last fragment, is a conflict") {
  using enum control_opcode;
  control_reassembler after(1, read_variables);
  REQUIRE(after.feed(fragment(1, read_variables, 4, "ef", false)));
  CHECK(after.feed(fragment(1, read_variables, 8, "ij", true)).error() == errc::fragment_conflict);
  control_reassembler two(1, read_variables);
  REQUIRE(two.feed(fragment(1, read_variables, 4, "ef", false)));
  CHECK(two.feed(fragment(1, read_variables, 8, "ij", false)).error() == errc::fragment_conflict);
  control_reassembler early(1, read_variables);
  REQUIRE(early.feed(fragment(1, read_variables, 8, "ij", true)));
  CHECK(early.feed(fragment(1, read_variables, 0, "ab", false)).error() == errc::fragment_conflict);
}

TEST_CASE("an endless more-train stops at the fragment or size limit") {
  using enum control_opcode;
  control_reassembler frags(1, read_mru);
  const std::string chunk(100, 'x');
  std::error_code stop;
  int fed = 0;
  for (std::uint16_t at = 0; fed < 1000 && !stop; at += 100, ++fed) {  // bounded
    auto res = frags.feed(fragment(1, read_mru, at, chunk, true));
    if (!res) stop = res.error();
  }
  CHECK(stop == errc::too_many_fragments);
  CHECK(fed == 129);

  control_reassembler size(1, read_mru, {.max_bytes = 1000, .max_fragments = 128});
  REQUIRE(size.feed(fragment(1, read_mru, 800, chunk, true)));
  CHECK(size.feed(fragment(1, read_mru, 901, chunk, true)).error() == errc::response_too_large);
  control_reassembler far(1, read_mru);
  CHECK(far.feed(fragment(1, read_mru, 65500, chunk, true)).error() == errc::response_too_large);
}

TEST_CASE("status and association id come from the last fragment, and a change is flagged") {
  using enum control_opcode;
  control_reassembler r(1, read_variables);
  REQUIRE(r.feed(fragment(1, read_variables, 0, "abcd", true, 0x0028)));
  REQUIRE(r.feed(fragment(1, read_variables, 4, "ef", false, 0x0615)));
  REQUIRE(r.complete());
  CHECK(r.response().header.status == 0x0615);
  CHECK(r.response().header_varied);
}

TEST_CASE("a final fragment of count 0 at offset 0 completes an empty response") {
  control_reassembler r(3, control_opcode::read_status);
  CHECK(*r.feed(fragment(3, control_opcode::read_status, 0, "", false)) ==
        control_reassembler::progress::complete);
  CHECK(r.response().data.empty());
}
