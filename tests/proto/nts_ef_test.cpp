// proto/nts_ef.hpp: the NTS extension fields of RFC 8915 §5 byte by byte (the authenticator's
// lengths, nonce, ciphertext and both kinds of padding, where another client once got it
// wrong), requests as a server would check them, and every way a response fails verification.

#include "ntpkit/proto/nts_ef.hpp"

#include <doctest/doctest.h>

#include <vector>

#include "ntpkit/proto/errc.hpp"
#include "ntpkit/proto/packet.hpp"
#include "support/test_support.hpp"

using namespace ntpkit;
using proto::aead_algorithm;
using proto::errc;
using proto::nts_ef_type;
using test::from_hex;
using bytes = std::vector<std::uint8_t>;

namespace {

bytes filled(std::size_t n, std::uint8_t first) {
  bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(first + i);
  return b;
}

const proto::nts_keys keys{aead_algorithm::aes_siv_cmac_256, filled(32, 0x40), filled(32, 0x80)};
const bytes uid = filled(32, 0xa0);

bytes header(proto::association_mode mode) {
  auto p = proto::make_client_request(proto::timestamp::from_bits(0x1122334455667788u));
  p.mode = mode;
  if (mode == proto::association_mode::server) {
    p.stratum = 2;
    p.origin = p.transmit;
  }
  return proto::serialize_packet(p);
}

proto::extension_field field(nts_ef_type t, bytes value) {
  return {static_cast<std::uint16_t>(t), std::move(value)};
}

// A server's response: header, Unique Identifier, then the authenticator sealed with `key`
// over everything before it, holding `inner` encrypted.
bytes response(const bytes& echoed_uid, const std::vector<proto::extension_field>& inner,
               const bytes& key = keys.s2c) {
  auto d = header(proto::association_mode::server);
  const auto u = proto::encode_extension_fields(
      std::vector{field(nts_ef_type::unique_identifier, echoed_uid)});
  d.insert(d.end(), u.begin(), u.end());
  REQUIRE(proto::append_nts_authenticator(d, keys.aead, key, filled(16, 0x10),
                                          proto::encode_extension_fields(inner)));
  return d;
}

std::vector<proto::extension_field> two_cookies() {
  return {field(nts_ef_type::nts_cookie, bytes(100, 0xc1)),
          field(nts_ef_type::nts_cookie, bytes(100, 0xc2))};
}

}  // namespace

TEST_CASE("the authenticator body is nonce length, ciphertext length, nonce, ciphertext") {
  // RFC 8915 §5.6 with a 16-byte nonce and a 16-byte ciphertext (SIV's tag of an empty
  // plaintext): no padding at all.
  const auto body = proto::serialize_nts_authenticator(filled(16, 0x10), filled(16, 0xe0));
  CHECK(body == from_hex("0010 0010"
                         "10111213 14151617 18191a1b 1c1d1e1f"
                         "e0e1e2e3 e4e5e6e7 e8e9eaeb ecedeeef"));
}

TEST_CASE("nonce and ciphertext are each padded to 4 bytes; their lengths exclude the padding") {
  const auto body = proto::serialize_nts_authenticator(filled(17, 0x10), filled(18, 0xe0));
  CHECK(body == from_hex("0011 0012"
                         "10111213 14151617 18191a1b 1c1d1e1f 20000000"
                         "e0e1e2e3 e4e5e6e7 e8e9eaeb ecedeeef f0f10000"));
  auto back = proto::parse_nts_authenticator(body);
  REQUIRE(back);
  CHECK(back->nonce == filled(17, 0x10));
  CHECK(back->ciphertext == filled(18, 0xe0));
  CHECK(back->additional_padding == 0);
}

TEST_CASE("a nonce shorter than 16 bytes gets additional padding after the ciphertext") {
  // RFC 8915 §5.6: a client using a nonce shorter than 16 bytes adds zero padding at the end of
  // the field so that the nonce, its padding and the additional padding make 16 bytes.
  const auto body = proto::serialize_nts_authenticator(filled(12, 0x10), filled(16, 0xe0));
  CHECK(body == from_hex("000c 0010"
                         "10111213 14151617 18191a1b"
                         "e0e1e2e3 e4e5e6e7 e8e9eaeb ecedeeef"
                         "00000000"));
  auto back = proto::parse_nts_authenticator(body);
  REQUIRE(back);
  CHECK(back->additional_padding == 4);
  // Without that padding the field is malformed (chrony: "Missing padding").
  CHECK(proto::parse_nts_authenticator(bytes(body.begin(), body.end() - 4)).error() ==
        errc::nts_bad_authenticator);
}

TEST_CASE("an authenticator body whose lengths do not fit is malformed") {
  CHECK(proto::parse_nts_authenticator(from_hex("0010")).error() == errc::nts_bad_authenticator);
  bytes long_ct = from_hex("0010 0100");  // 256 bytes of ciphertext announced
  long_ct.resize(4 + 16 + 16);
  CHECK(proto::parse_nts_authenticator(long_ct).error() == errc::nts_bad_authenticator);
  bytes zero_nonce = from_hex("0000 0010");
  zero_nonce.resize(4 + 16 + 16);
  CHECK(proto::parse_nts_authenticator(zero_nonce).error() == errc::nts_bad_authenticator);
}

TEST_CASE("a request is header, unique identifier, cookie, placeholders, authenticator") {
  const bytes cookie = filled(100, 0x01);
  const bytes nonce = filled(16, 0x10);
  auto d = header(proto::association_mode::client);
  const auto head = d;
  REQUIRE(proto::append_nts_request(d, {uid, cookie, 2, nonce}, keys));
  // 48 + (4 + 32) + 3 × (4 + 100) + (4 + 4 + 16 + 16).
  REQUIRE(d.size() == 48 + 36 + 3 * 104 + 40);
  std::size_t at = 48;
  CHECK(bytes(d.begin() + at, d.begin() + at + 4) == from_hex("0104 0024"));
  CHECK(bytes(d.begin() + at + 4, d.begin() + at + 36) == uid);
  at += 36;
  CHECK(bytes(d.begin() + at, d.begin() + at + 4) == from_hex("0204 0068"));
  CHECK(bytes(d.begin() + at + 4, d.begin() + at + 104) == cookie);
  for (int i = 0; i < 2; ++i) {
    at += 104;
    CHECK(bytes(d.begin() + at, d.begin() + at + 4) == from_hex("0304 0068"));
    CHECK(bytes(d.begin() + at + 4, d.begin() + at + 104) == bytes(100, 0));
  }
  at += 104;
  CHECK(bytes(d.begin() + at, d.begin() + at + 8) == from_hex("0404 0028 0010 0010"));
  CHECK(bytes(d.begin() + at + 8, d.begin() + at + 24) == nonce);
  // What the server checks: the tag is SIV over (everything before the field, nonce) with C2S
  // and an empty plaintext.
  const bytes ad(d.begin(), d.begin() + at);
  const bytes tag(d.begin() + at + 24, d.end());
  auto expect = proto::aead_seal(keys.aead, keys.c2s, nonce, ad, {});
  REQUIRE(expect);
  CHECK(tag == *expect);
  CHECK(proto::aead_open(keys.aead, keys.c2s, nonce, ad, tag));
  CHECK(bytes(d.begin(), d.begin() + 48) == head);
  // The datagram parses as NTPv4 with its four fields in order.
  auto p = proto::parse_packet(d);
  REQUIRE(p);
  REQUIRE(p->extensions.size() == 5);
  CHECK(p->extensions[4].type == 0x0404);
  CHECK_FALSE(p->mac.has_value());
}

TEST_CASE("a cookie whose length is no multiple of 4 is padded, placeholders as long") {
  CHECK(proto::nts_cookie_field_value_size(100) == 100);
  CHECK(proto::nts_cookie_field_value_size(101) == 104);
  CHECK(proto::nts_cookie_field_value_size(5) == 12);  // RFC 7822: a field is at least 16
  auto d = header(proto::association_mode::client);
  REQUIRE(proto::append_nts_request(d, {uid, filled(5, 1), 1, filled(16, 0)}, keys));
  auto p = proto::parse_packet(d);
  REQUIRE(p);
  CHECK(p->extensions[1].value == from_hex("01020304 05000000 00000000"));
  CHECK(p->extensions[2].value == bytes(12, 0));
}

TEST_CASE("a request needs a cookie, a 32-byte unique identifier and a nonce") {
  auto d = header(proto::association_mode::client);
  CHECK(proto::append_nts_request(d, {uid, {}, 0, filled(16, 0)}, keys).error() ==
        errc::nts_bad_authenticator);
  CHECK(
      proto::append_nts_request(d, {filled(31, 0), filled(8, 1), 0, filled(16, 0)}, keys).error() ==
      errc::nts_bad_authenticator);
  CHECK(proto::append_nts_request(d, {uid, filled(8, 1), 0, {}}, keys).error() ==
        errc::nts_bad_authenticator);
  proto::nts_keys short_key = keys;
  short_key.c2s.resize(16);
  CHECK(proto::append_nts_request(d, {uid, filled(8, 1), 0, filled(16, 0)}, short_key).error() ==
        errc::nts_bad_key);
  CHECK(d == header(proto::association_mode::client));  // unchanged by every failure
  bytes tiny(47, 0);
  CHECK(proto::append_nts_request(tiny, {uid, filled(8, 1), 0, filled(16, 0)}, keys).error() ==
        errc::truncated);
}

TEST_CASE("a response verifies and yields the cookies inside its authenticator") {
  const auto d = response(uid, two_cookies());
  auto v = proto::verify_nts_response(d, uid, keys);
  REQUIRE(v);
  REQUIRE(v->cookies.size() == 2);
  CHECK(v->cookies[1] == bytes(100, 0xc2));
  CHECK(v->encrypted_fields == 2);
  CHECK(v->plaintext_fields == 0);
  // No cookie inside is still an authenticated response.
  auto empty = proto::verify_nts_response(response(uid, {}), uid, keys);
  REQUIRE(empty);
  CHECK(empty->cookies.empty());
}

TEST_CASE("a response fails on a foreign or missing unique identifier") {
  CHECK(proto::verify_nts_response(response(filled(32, 0), two_cookies()), uid, keys).error() ==
        errc::nts_unique_id_mismatch);
  CHECK(proto::verify_nts_response(response(filled(36, 0xa0), two_cookies()), uid, keys).error() ==
        errc::nts_unique_id_mismatch);
  auto d = header(proto::association_mode::server);
  REQUIRE(proto::append_nts_authenticator(d, keys.aead, keys.s2c, filled(16, 0), {}));
  CHECK(proto::verify_nts_response(d, uid, keys).error() == errc::nts_unique_id_missing);
}

TEST_CASE("a response fails without an authenticator, or with one that is not last") {
  auto d = header(proto::association_mode::server);
  const auto u =
      proto::encode_extension_fields(std::vector{field(nts_ef_type::unique_identifier, uid)});
  d.insert(d.end(), u.begin(), u.end());
  CHECK(proto::verify_nts_response(d, uid, keys).error() == errc::nts_authenticator_missing);
  auto after = response(uid, two_cookies());
  // 28 bytes: more than a MAC's 24, so NTPv4 reads it as a field (RFC 7822 §7.5).
  const auto extra = proto::encode_extension_fields(
      std::vector{field(static_cast<nts_ef_type>(0x2005), bytes(24, 0))});
  after.insert(after.end(), extra.begin(), extra.end());
  CHECK(proto::verify_nts_response(after, uid, keys).error() == errc::nts_authenticator_not_last);
  auto with_mac = response(uid, two_cookies());
  with_mac.insert(with_mac.end(), {0, 0, 0, 1});  // a crypto-NAK shaped trailer
  CHECK(proto::verify_nts_response(with_mac, uid, keys).error() ==
        errc::nts_authenticator_not_last);
}

TEST_CASE("a response fails when any byte before or inside the authenticator changed") {
  const auto good = response(uid, two_cookies());
  const std::size_t auth_at = 48 + 36;
  for (std::size_t i : {std::size_t{1}, std::size_t{40}, std::size_t{60}, auth_at + 8, auth_at + 30,
                        good.size() - 1}) {
    auto d = good;
    d[i] ^= 0x04;
    CAPTURE(i);
    const auto e = proto::verify_nts_response(d, uid, keys).error();
    // A flip in the echoed unique identifier is caught there, the rest by the AEAD.
    CHECK((e == errc::nts_aead_failure || e == errc::nts_unique_id_mismatch));
  }
  // Sealed with the C2S key (a server mixing up the keys) does not open with S2C.
  CHECK(proto::verify_nts_response(response(uid, two_cookies(), keys.c2s), uid, keys).error() ==
        errc::nts_aead_failure);
  // A garbled authenticator layout.
  auto bad = good;
  bad[auth_at + 4] = 0x00;
  bad[auth_at + 5] = 0x00;  // nonce length 0
  CHECK(proto::verify_nts_response(bad, uid, keys).error() == errc::nts_bad_authenticator);
}

TEST_CASE("decrypted bytes that are no list of fields fail the response") {
  auto d = header(proto::association_mode::server);
  const auto u =
      proto::encode_extension_fields(std::vector{field(nts_ef_type::unique_identifier, uid)});
  d.insert(d.end(), u.begin(), u.end());
  REQUIRE(proto::append_nts_authenticator(d, keys.aead, keys.s2c, filled(16, 0),
                                          from_hex("0204 0008 01020304")));  // an 8-byte field
  CHECK(proto::verify_nts_response(d, uid, keys).error() == errc::nts_bad_encrypted_field);
}

TEST_CASE("an NTS NAK is a kiss NTSN echoing our unique identifier, without authenticator") {
  proto::packet p;
  p.mode = proto::association_mode::server;
  p.stratum = 0;
  p.refid = {'N', 'T', 'S', 'N'};
  p.extensions.push_back(field(nts_ef_type::unique_identifier, uid));
  CHECK(proto::is_nts_nak(p, uid));
  CHECK_FALSE(proto::is_nts_nak(p, filled(32, 0)));
  auto other = p;
  other.refid = {'R', 'A', 'T', 'E'};
  CHECK_FALSE(proto::is_nts_nak(other, uid));
  other = p;
  other.stratum = 1;
  CHECK_FALSE(proto::is_nts_nak(other, uid));
  other = p;
  other.extensions.push_back(field(nts_ef_type::nts_authenticator, bytes(36, 0)));
  CHECK_FALSE(proto::is_nts_nak(other, uid));
  other = p;
  other.extensions.clear();
  CHECK_FALSE(proto::is_nts_nak(other, uid));
}

TEST_CASE("extension field lists round-trip and refuse fields under 16 bytes or unaligned") {
  const auto fields = two_cookies();
  auto back = proto::decode_extension_fields(proto::encode_extension_fields(fields));
  REQUIRE(back);
  CHECK(*back == fields);
  CHECK(proto::decode_extension_fields({})->empty());
  CHECK(proto::decode_extension_fields(from_hex("0204 0012 0000")).error() ==
        errc::nts_bad_encrypted_field);
  CHECK(proto::decode_extension_fields(from_hex("0204 0013 00000000 00000000 00000000 000000"))
            .error() == errc::nts_bad_encrypted_field);
  CHECK(
      proto::decode_extension_fields(from_hex("0204 0010 00000000 00000000 00000000 00")).error() ==
      errc::nts_bad_encrypted_field);
}
