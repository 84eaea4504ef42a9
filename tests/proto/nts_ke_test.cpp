// proto/nts_ke.hpp: NTS-KE records (RFC 8915 §4) byte by byte, the decoder fed in every chunking,
// its rejections (truncated, oversized, records after End of Message), the response rules
// (critical records, one protocol and one AEAD we offered, cookies), the exporter context of
// §5.1, and the exchange as a scripted session.

#include "ntpkit/proto/nts_ke.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "ntpkit/proto/errc.hpp"
#include "support/test_support.hpp"

using namespace ntpkit;
using namespace std::chrono_literals;
using proto::aead_algorithm;
using proto::errc;
using proto::nts_ke_record;
using proto::nts_ke_record_type;
using test::from_hex;
using bytes = std::vector<std::uint8_t>;

namespace {

constexpr std::uint16_t type_of(nts_ke_record_type t) { return static_cast<std::uint16_t>(t); }

bytes wire(const std::vector<nts_ke_record>& records) {
  bytes out;
  for (const auto& r : records) proto::append_nts_ke_record(out, r);
  return out;
}

nts_ke_record u16(bool critical, nts_ke_record_type t, std::vector<std::uint16_t> v) {
  return proto::make_nts_ke_u16_record(critical, t, v);
}

nts_ke_record cookie(std::size_t n, std::uint8_t fill) {
  return {false, type_of(nts_ke_record_type::new_cookie), bytes(n, fill)};
}

nts_ke_record text(nts_ke_record_type t, std::string s) {
  return {true, type_of(t), bytes(s.begin(), s.end())};
}

const nts_ke_record end_of_message{true, 0, {}};

// What chronyd 4.3 answers (its record order): next protocol, AEAD, 8 cookies, end.
std::vector<nts_ke_record> good_response() {
  std::vector<nts_ke_record> r{u16(true, nts_ke_record_type::next_protocol, {0}),
                               u16(true, nts_ke_record_type::aead_algorithm, {15})};
  for (std::uint8_t i = 0; i < 8; ++i) r.push_back(cookie(100, i));
  r.push_back(end_of_message);
  return r;
}

// Decodes `stream` fed in chunks of `chunk` bytes; every record, or the first error.
ntpkit::result<std::vector<nts_ke_record>> decode(const bytes& stream, std::size_t chunk,
                                                  proto::nts_ke_limits limits = {}) {
  proto::nts_ke_decoder d(limits);
  std::vector<nts_ke_record> out;
  for (std::size_t at = 0; at < stream.size(); at += chunk) {
    const auto n = std::min(chunk, stream.size() - at);
    if (auto f = d.feed(std::span(stream).subspan(at, n)); !f) return f.error();
    for (;;) {
      auto r = d.next();
      if (!r) return r.error();
      if (!*r) break;
      out.push_back(**r);
    }
  }
  if (auto f = d.finish(); !f) return f.error();
  return out;
}

const std::array<aead_algorithm, 1> offered{aead_algorithm::aes_siv_cmac_256};

ntpkit::result<void> judge(const std::vector<nts_ke_record>& records) {
  proto::nts_ke_response r;
  for (const auto& rec : records) {
    if (auto t = proto::take_nts_ke_record(r, rec); !t) return t.error();
  }
  return proto::check_nts_ke_response(r, offered);
}

}  // namespace

TEST_CASE("the client request is next protocol NTPv4, AEAD SIV-CMAC-256, end of message") {
  // RFC 8915 §4: C bit, 15-bit type, 16-bit body length, body. §4.1.2 Next Protocol (type 1,
  // critical) with protocol id 0 (NTPv4); §4.1.5 AEAD Algorithm (type 4) with id 15; §4.1.1
  // End of Message (type 0, critical, empty).
  const std::array<aead_algorithm, 1> ours{aead_algorithm::aes_siv_cmac_256};
  CHECK(proto::make_nts_ke_request(ours) == from_hex("8001 0002 0000  8004 0002 000f  8000 0000"));
  const std::array<aead_algorithm, 3> all{aead_algorithm::aes_siv_cmac_512,
                                          aead_algorithm::aes_siv_cmac_384,
                                          aead_algorithm::aes_siv_cmac_256};
  CHECK(proto::make_nts_ke_request(all) ==
        from_hex("8001 0002 0000  8004 0006 0011 0010 000f  8000 0000"));
}

TEST_CASE("records are the critical bit, 15 bits of type, a 16-bit length and the body") {
  bytes out;
  proto::append_nts_ke_record(out, {false, 5, {0xde, 0xad, 0xbe, 0xef}});
  proto::append_nts_ke_record(out, {true, 0x7fff, {}});
  proto::append_nts_ke_record(out, {false, 6, {'a'}});
  CHECK(out == from_hex("0005 0004 deadbeef  ffff 0000  0006 0001 61"));
  auto back = decode(out, out.size());
  // No End of Message: the records decode, finish() says what is missing.
  CHECK(back.error() == errc::nts_ke_missing_end_of_message);
}

TEST_CASE("a response decodes to the same records in every chunking of the stream") {
  const auto records = good_response();
  const auto stream = wire(records);
  for (std::size_t chunk : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{5},
                            std::size_t{104}, stream.size()}) {
    CAPTURE(chunk);
    auto got = decode(stream, chunk);
    REQUIRE(got);
    CHECK(*got == records);
  }
}

TEST_CASE("random records round-trip through the encoder and the decoder") {
  const auto seed = std::random_device{}();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 10000; ++round) {
    std::vector<nts_ke_record> records;
    const int n = static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) {
      nts_ke_record r{(rng() & 1) != 0, static_cast<std::uint16_t>(1 + rng() % 0x7ffe), {}};
      r.body.resize(rng() % 40);
      for (auto& b : r.body) b = static_cast<std::uint8_t>(rng());
      records.push_back(r);
    }
    records.push_back(end_of_message);
    const auto stream = wire(records);
    auto got = decode(stream, 1 + rng() % 17);
    REQUIRE(got);
    CHECK(*got == records);
    // Every cut of the stream before its end is a need-more, then a truncation or a missing end.
    const auto cut = rng() % stream.size();
    auto partial = decode(bytes(stream.begin(), stream.begin() + static_cast<long>(cut)), 7);
    REQUIRE_FALSE(partial);
    CHECK((partial.error() == errc::truncated ||
           partial.error() == errc::nts_ke_missing_end_of_message));
  }
}

TEST_CASE("the decoder says need more bytes until a record is whole") {
  proto::nts_ke_decoder d;
  const auto stream = wire({cookie(8, 1), end_of_message});
  for (std::size_t i = 0; i < 11; ++i) {
    REQUIRE(d.feed(std::span(stream).subspan(i, 1)));
    auto r = d.next();
    REQUIRE(r);
    CHECK_FALSE(r->has_value());  // header or body incomplete
  }
  REQUIRE(d.feed(std::span(stream).subspan(11, 1)));
  auto r = d.next();
  REQUIRE(r);
  REQUIRE(r->has_value());
  CHECK((*r)->body == bytes(8, 1));
  CHECK(d.finish().error() == errc::nts_ke_missing_end_of_message);
  REQUIRE(d.feed(std::span(stream).subspan(12)));
  CHECK(d.next()->value() == end_of_message);
  CHECK(d.complete());
  CHECK(d.finish());
}

TEST_CASE("a stream that ends inside a record is truncated, between records missing its end") {
  const auto stream = wire({u16(true, nts_ke_record_type::next_protocol, {0}), end_of_message});
  CHECK(decode(bytes(stream.begin(), stream.begin() + 3), 1).error() == errc::truncated);
  CHECK(decode(bytes(stream.begin(), stream.begin() + 5), 1).error() == errc::truncated);
  CHECK(decode(bytes(stream.begin(), stream.begin() + 6), 1).error() ==
        errc::nts_ke_missing_end_of_message);
  CHECK(decode({}, 1).error() == errc::nts_ke_missing_end_of_message);
}

TEST_CASE("an oversized record is refused from its header, before its body arrives") {
  // A length of 0xffff would make a client wait for 64 KiB; the header alone says it is over.
  proto::nts_ke_decoder d({.max_record_body = 1024, .max_message = 16384});
  REQUIRE(d.feed(from_hex("0005 0401")));  // body length 1025
  CHECK(d.next().error() == errc::nts_ke_record_too_long);
  CHECK(d.next().error() == errc::nts_ke_record_too_long);  // and stays refused
  CHECK(d.finish().error() == errc::nts_ke_record_too_long);
  CHECK(decode(wire({cookie(1024, 9), end_of_message}), 100));  // exactly the limit passes
}

TEST_CASE("a message longer than the limit is refused however it is cut") {
  std::vector<nts_ke_record> many;
  for (int i = 0; i < 200; ++i) many.push_back(cookie(100, 1));
  many.push_back(end_of_message);
  const auto stream = wire(many);  // 20,804 bytes
  CHECK(decode(stream, 1000).error() == errc::nts_ke_message_too_long);
  CHECK(decode(stream, stream.size()).error() == errc::nts_ke_message_too_long);
  CHECK(decode(stream, 1000, {.max_record_body = 1024, .max_message = 32768}));
}

TEST_CASE("records after end of message are an error, in the same chunk or a later one") {
  auto stream = wire({end_of_message, cookie(4, 1)});
  CHECK(decode(stream, stream.size()).error() == errc::nts_ke_record_after_end);
  CHECK(decode(stream, 4).error() == errc::nts_ke_record_after_end);
  CHECK(decode(wire({end_of_message, end_of_message}), 1).error() == errc::nts_ke_record_after_end);
}

TEST_CASE("a good response yields its protocol, AEAD, cookies, server and port") {
  auto records = good_response();
  records.insert(records.end() - 1, text(nts_ke_record_type::server, "ntp.example.org"));
  records.insert(records.end() - 1, u16(true, nts_ke_record_type::port, {11123}));
  proto::nts_ke_response r;
  for (const auto& rec : records) REQUIRE(proto::take_nts_ke_record(r, rec));
  CHECK(proto::check_nts_ke_response(r, offered));
  CHECK(r.records == records);
  CHECK(r.next_protocol() == proto::nts_next_protocol_ntpv4);
  CHECK(r.aead_id() == 15);
  CHECK(r.aead() == aead_algorithm::aes_siv_cmac_256);
  CHECK(r.cookies.size() == 8);
  CHECK(r.cookies[7] == bytes(100, 7));
  CHECK(r.server == "ntp.example.org");
  CHECK(r.port == 11123);
  CHECK(r.errors.empty());
}

TEST_CASE("an unknown record is skipped, an unknown critical one refused") {
  auto records = good_response();
  records.insert(records.begin() + 2, {false, 0x4000, {1, 2, 3}});
  CHECK(judge(records));
  records.insert(records.begin() + 2, {true, 0x4001, {}});
  CHECK(judge(records).error() == errc::nts_ke_unknown_critical_record);
}

TEST_CASE("known records with an impossible body are malformed") {
  // Each replaces one record of a good response (index, record).
  const std::vector<std::pair<std::size_t, nts_ke_record>> cases{
      {10, {true, 0, {0}}},                                          // end with a body
      {0, {true, type_of(nts_ke_record_type::next_protocol), {0}}},  // odd list length
      {0, u16(false, nts_ke_record_type::next_protocol, {0})},       // not critical
      {1, {true, type_of(nts_ke_record_type::aead_algorithm), {0, 15, 0}}},
      {2, {false, type_of(nts_ke_record_type::new_cookie), {}}},  // empty cookie
      {3, {true, type_of(nts_ke_record_type::port), {0x2b}}},     // 1-byte port
      {4, text(nts_ke_record_type::server, "")},
      {4, text(nts_ke_record_type::server, "ntp example")},  // a space
      {4, text(nts_ke_record_type::server, std::string("ntp\0x", 5))},
      {5, {true, type_of(nts_ke_record_type::error), {0, 0, 0}}},
      {5, {true, type_of(nts_ke_record_type::warning), {}}},
  };
  for (const auto& [at, record] : cases) {
    auto records = good_response();
    records[at] = record;
    CAPTURE(at);
    CAPTURE(record.type);
    CHECK(judge(records).error() == errc::nts_ke_bad_record);
  }
}

TEST_CASE("a second next protocol, AEAD, server or port record is refused") {
  for (const auto& extra :
       {u16(true, nts_ke_record_type::next_protocol, {0}),
        u16(true, nts_ke_record_type::aead_algorithm, {15}), text(nts_ke_record_type::server, "a"),
        u16(true, nts_ke_record_type::port, {123})}) {
    auto records = good_response();
    records.insert(records.end() - 1, extra);
    records.insert(records.end() - 1, extra);
    CAPTURE(extra.type);
    CHECK(judge(records).error() == errc::nts_ke_duplicate_record);
  }
}

TEST_CASE("a response is judged: errors first, then protocol, AEAD, cookies") {
  using t = nts_ke_record_type;
  // RFC 8915 §4.1.3: an Error record is the server refusing; its code is kept.
  std::vector<nts_ke_record> refused{u16(true, t::error, {1}), end_of_message};
  CHECK(judge(refused).error() == errc::nts_ke_error_record);
  proto::nts_ke_response r;
  for (const auto& rec : refused) REQUIRE(proto::take_nts_ke_record(r, rec));
  CHECK(r.errors == std::vector<std::uint16_t>{1});

  auto with = [](std::size_t at, nts_ke_record rec) {
    auto records = good_response();
    records[at] = rec;
    return judge(records).error();
  };
  auto without = [](std::size_t at) {
    auto records = good_response();
    records.erase(records.begin() + static_cast<long>(at));
    return judge(records).error();
  };
  CHECK(with(2, u16(true, t::warning, {7})) == errc::nts_ke_warning_record);
  CHECK(without(0) == errc::nts_ke_no_next_protocol);
  CHECK(with(0, u16(true, t::next_protocol, {})) == errc::nts_ke_no_next_protocol);
  CHECK(with(0, u16(true, t::next_protocol, {1})) == errc::nts_ke_next_protocol_not_offered);
  CHECK(with(0, u16(true, t::next_protocol, {0, 0})) == errc::nts_ke_next_protocol_not_offered);
  CHECK(without(1) == errc::nts_ke_no_common_aead);
  CHECK(with(1, u16(true, t::aead_algorithm, {})) == errc::nts_ke_no_common_aead);
  // We offered 15 only: 16 is one we implement but did not offer; 30 one we do not know.
  CHECK(with(1, u16(true, t::aead_algorithm, {16})) == errc::nts_ke_aead_not_offered);
  CHECK(with(1, u16(true, t::aead_algorithm, {30})) == errc::nts_ke_aead_not_offered);
  CHECK(with(1, u16(true, t::aead_algorithm, {15, 15})) == errc::nts_ke_aead_not_offered);
  auto no_cookies = good_response();
  no_cookies.erase(no_cookies.begin() + 2, no_cookies.begin() + 10);
  CHECK(judge(no_cookies).error() == errc::nts_ke_no_cookies);
}

TEST_CASE("the exporter context is protocol id, AEAD id, then 00 for C2S or 01 for S2C") {
  // RFC 8915 §5.1: five octets. Two zero octets (NTPv4's protocol id), the negotiated AEAD's
  // numeric identifier in network order, and a last octet of 0x00 for the client-to-server key
  // or 0x01 for the server-to-client key. The exporter label is EXPORTER-network-time-security.
  using d = proto::nts_key_direction;
  CHECK(proto::nts_exporter_context(0, 15, d::c2s) == std::array<std::uint8_t, 5>{0, 0, 0, 15, 0});
  CHECK(proto::nts_exporter_context(0, 15, d::s2c) == std::array<std::uint8_t, 5>{0, 0, 0, 15, 1});
  CHECK(proto::nts_exporter_context(0, 0x0011, d::s2c) ==
        std::array<std::uint8_t, 5>{0, 0, 0, 0x11, 1});
  CHECK(proto::nts_exporter_context(0x8001, 0x1234, d::c2s) ==
        std::array<std::uint8_t, 5>{0x80, 0x01, 0x12, 0x34, 0});
  CHECK(proto::nts_exporter_label == "EXPORTER-network-time-security");
  CHECK(proto::nts_ke_alpn == "ntske/1");
  CHECK(proto::nts_ke_default_port == 4460);
}

TEST_CASE("record names are the RFC's words") {
  CHECK(proto::nts_ke_record_name(0) == "end_of_message");
  CHECK(proto::nts_ke_record_name(4) == "aead_algorithm");
  CHECK(proto::nts_ke_record_name(5) == "new_cookie");
  CHECK(proto::nts_ke_record_name(7) == "port");
  CHECK(proto::nts_ke_record_name(1024).empty());
}

namespace {

// A scripted NTS-KE exchange on a fake steady clock.
struct ke_script {
  explicit ke_script(proto::nts_ke_plan plan = {}) : s(std::move(plan)) {}
  proto::nts_ke_session s;
  proto::steady_time now{};
  bytes request() {
    auto a = s.next(now);
    auto* out = std::get_if<proto::send_bytes>(&a);
    REQUIRE(out != nullptr);
    s.on_sent({out->tag, {}, proto::time_source::user, now});
    return out->bytes;
  }
  bool waiting() { return std::holds_alternative<proto::wait_until>(s.next(now)); }
  bool finished() { return std::holds_alternative<proto::finished>(s.next(now)); }
};

}  // namespace

TEST_CASE("an NTS-KE session sends the request, reads records in pieces and completes") {
  ke_script k;
  CHECK(k.request() == proto::make_nts_ke_request(offered));
  const auto stream = wire(good_response());
  for (std::size_t at = 0; at + 7 < stream.size(); at += 7) {
    CHECK(k.waiting());
    k.s.on_bytes(std::span(stream).subspan(at, 7));
  }
  k.s.on_bytes(std::span(stream).subspan(stream.size() / 7 * 7));
  CHECK(k.finished());
  const auto& o = k.s.outcome();
  CHECK(o.end == proto::nts_ke_end::completed);
  CHECK_FALSE(o.error);
  CHECK(o.response.cookies.size() == 8);
  CHECK(o.bytes_sent == 16);
  CHECK(o.bytes_received == stream.size());
}

TEST_CASE("an NTS-KE session is bounded in time from its send") {
  proto::nts_ke_plan plan;
  plan.timeout = 1500ms;
  ke_script k(plan);
  k.request();
  auto a = k.s.next(k.now);
  REQUIRE(std::holds_alternative<proto::wait_until>(a));
  CHECK(std::get<proto::wait_until>(a).deadline == k.now + 1500ms);
  k.s.on_bytes(wire({u16(true, nts_ke_record_type::next_protocol, {0})}));  // and then nothing
  k.now += 1500ms;
  CHECK(k.finished());
  CHECK(k.s.outcome().end == proto::nts_ke_end::timed_out);
  CHECK(k.s.outcome().error == std::errc::timed_out);
  CHECK(k.s.outcome().response.next_protocol() == 0);  // what came is kept
}

TEST_CASE("an NTS-KE session ends at once on an unknown critical record or a bad stream") {
  {
    ke_script k;
    k.request();
    k.s.on_bytes(wire({{true, 0x1234, {}}}));  // no end of message yet: no need to wait for it
    CHECK(k.finished());
    CHECK(k.s.outcome().end == proto::nts_ke_end::malformed);
    CHECK(k.s.outcome().error == errc::nts_ke_unknown_critical_record);
  }
  {
    ke_script k;
    k.request();
    k.s.on_bytes(wire({u16(true, nts_ke_record_type::next_protocol, {0})}));
    k.s.on_end_of_stream();  // the server closed without end of message
    CHECK(k.s.outcome().end == proto::nts_ke_end::closed_early);
    CHECK(k.s.outcome().error == errc::nts_ke_missing_end_of_message);
  }
  {
    ke_script k;
    k.request();
    k.s.on_bytes(from_hex("0005 00"));
    k.s.on_end_of_stream();
    CHECK(k.s.outcome().error == errc::truncated);
  }
  {
    ke_script k;
    k.request();
    k.s.on_transport_error(std::make_error_code(std::errc::connection_reset));
    CHECK(k.s.outcome().end == proto::nts_ke_end::transport_failed);
    CHECK(k.finished());
  }
}

TEST_CASE("an NTS-KE session rejects a well-formed refusal and keeps what it said") {
  ke_script k;
  k.request();
  k.s.on_bytes(wire({u16(true, nts_ke_record_type::error, {2}), end_of_message}));
  CHECK(k.finished());
  const auto& o = k.s.outcome();
  CHECK(o.end == proto::nts_ke_end::rejected);
  CHECK(o.error == errc::nts_ke_error_record);
  CHECK(o.response.errors == std::vector<std::uint16_t>{2});
  CHECK(proto::nts_ke_end_name(o.end) == "rejected");
}
