// proto/aead.hpp: AES-SIV (RFC 5297) as NTS's AEAD, against the RFC's own vectors, vectors of
// other implementations for the cases the RFC has none of (an empty plaintext, which every NTS
// client request authenticates; the 384 and 512 variants), and every way a ciphertext can be
// wrong.

#include "ntpkit/proto/aead.hpp"

#include <doctest/doctest.h>

#include <array>
#include <span>
#include <vector>

#include "ntpkit/proto/errc.hpp"
#include "support/test_support.hpp"

using namespace ntpkit;
using proto::aead_algorithm;
using test::from_hex;
using bytes = std::vector<std::uint8_t>;

namespace {

using components = std::vector<std::span<const std::uint8_t>>;

bytes concat(const bytes& a, const bytes& b) {
  bytes out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

}  // namespace

TEST_CASE("SIV encrypts RFC 5297's deterministic example (appendix A.1)") {
  // RFC 5297 A.1: one associated data component, no nonce; the output is V ‖ C.
  const auto key =
      from_hex("fffefdfc fbfaf9f8 f7f6f5f4 f3f2f1f0 f0f1f2f3 f4f5f6f7 f8f9fafb fcfdfeff");
  const auto ad = from_hex("10111213 14151617 18191a1b 1c1d1e1f 20212223 24252627");
  const auto plaintext = from_hex("11223344 55667788 99aabbcc ddee");
  const auto v = from_hex("85632d07 c6e8f37f 950acd32 0a2ecc93");
  const auto c = from_hex("40c02b96 90c4dc04 daef7f6a fe5c");
  const components s{ad};
  auto out = proto::siv_encrypt(aead_algorithm::aes_siv_cmac_256, key, s, plaintext);
  REQUIRE(out);
  CHECK(*out == concat(v, c));
  auto back = proto::siv_decrypt(aead_algorithm::aes_siv_cmac_256, key, s, *out);
  REQUIRE(back);
  CHECK(*back == plaintext);
}

TEST_CASE("SIV encrypts RFC 5297's nonce-based example, the nonce as last component (A.2)") {
  // RFC 5297 A.2: two associated data components, then the nonce as the last component before
  // the plaintext: the order NTS uses (associated data, nonce).
  const auto key =
      from_hex("7f7e7d7c 7b7a7978 77767574 73727170 40414243 44454647 48494a4b 4c4d4e4f");
  const auto ad1 = from_hex(
      "00112233 44556677 8899aabb ccddeeff deaddada deaddada ffeeddcc bbaa9988 77665544 33221100");
  const auto ad2 = from_hex("10203040 50607080 90a0");
  const auto nonce = from_hex("09f91102 9d74e35b d84156c5 635688c0");
  const auto plaintext = from_hex(
      "74686973 20697320 736f6d65 20706c61 696e7465 78742074 6f20656e 63727970 74207573 696e6720"
      "5349562d 414553");
  const auto v = from_hex("7bdb6e3b 432667eb 06f4d14b ff2fbd0f");
  const auto c = from_hex(
      "cb900f2f ddbe4043 26601965 c889bf17 dba77ceb 094fa663 b7a3f748 ba8af829 ea64ad54 4a272e9c"
      "485b62a3 fd5c0d");
  const components s{ad1, ad2, nonce};
  auto out = proto::siv_encrypt(aead_algorithm::aes_siv_cmac_256, key, s, plaintext);
  REQUIRE(out);
  CHECK(*out == concat(v, c));
  auto back = proto::siv_decrypt(aead_algorithm::aes_siv_cmac_256, key, s, *out);
  REQUIRE(back);
  CHECK(*back == plaintext);
  // The components in another order are another message.
  const components swapped{ad2, ad1, nonce};
  CHECK(proto::siv_decrypt(aead_algorithm::aes_siv_cmac_256, key, swapped, *out).error() ==
        proto::errc::nts_aead_failure);
}

TEST_CASE("aead_seal is SIV over (associated data, nonce), RFC 5297 §6's AEAD interface") {
  const auto key =
      from_hex("7f7e7d7c 7b7a7978 77767574 73727170 40414243 44454647 48494a4b 4c4d4e4f");
  const auto ad = from_hex("23000000 00000000 00000000 00000000");
  const auto nonce = from_hex("09f91102 9d74e35b d84156c5 635688c0");
  const auto plaintext = from_hex("01020304 05060708");
  auto sealed = proto::aead_seal(aead_algorithm::aes_siv_cmac_256, key, nonce, ad, plaintext);
  const components s{ad, nonce};
  auto direct = proto::siv_encrypt(aead_algorithm::aes_siv_cmac_256, key, s, plaintext);
  REQUIRE(sealed);
  REQUIRE(direct);
  CHECK(*sealed == *direct);
  auto opened = proto::aead_open(aead_algorithm::aes_siv_cmac_256, key, nonce, ad, *sealed);
  REQUIRE(opened);
  CHECK(*opened == plaintext);
}

TEST_CASE("an empty plaintext, as in every NTS request, gives the tag other SIVs give") {
  // OpenSSL 3.0's SIV cipher cannot take an empty plaintext, so aead.cpp computes S2V for it.
  // Vectors from chrony's test/unit/siv.c (its SIV_Encrypt(nonce, assoc, plaintext) is
  // S2V(assoc, nonce, plaintext) through nettle or gnutls), re-checked with pyca/cryptography
  // 48 on OpenSSL 4.0: key, nonce, associated data, V (no C).
  const auto key =
      from_hex("01234567 89abcdef f0123456 789abcde ef012345 6789abcd def01234 56789abc");
  const auto nonce = from_hex("10111213 14151617 18191a1b 1c1d1e1f");
  const auto no_ad = bytes{};
  const auto ad = from_hex("4c9d4fca ed8ae2ba ad3f3ea6 e93c8c8b");
  auto a = proto::aead_seal(aead_algorithm::aes_siv_cmac_256, key, nonce, no_ad, {});
  REQUIRE(a);
  CHECK(*a == from_hex("223eb594 e0e0254b 00258e21 9a1ca421"));
  auto b = proto::aead_seal(aead_algorithm::aes_siv_cmac_256, key, nonce, ad, {});
  REQUIRE(b);
  CHECK(*b == from_hex("d7201989 c6dbc6d6 61fc62bc 865eeeef"));
  // The same source's vectors with a plaintext, which take OpenSSL's path (one of them with an
  // empty associated data component).
  auto c = proto::aead_seal(aead_algorithm::aes_siv_cmac_256, key, nonce, no_ad, ad);
  REQUIRE(c);
  CHECK(*c == from_hex("b6c160e9 c2fd2ae8 dec5368b 2a33ede1 14ffb397 345ccbe4 4aa4deac d9369046"));
  auto d = proto::aead_seal(aead_algorithm::aes_siv_cmac_256, key, nonce, ad,
                            from_hex("ba997931 237e3c53 587ed493 02abe4a7"));
  REQUIRE(d);
  CHECK(*d == from_hex("5c052365 f4570aa0 fb383ece 9b7585eb 68851936 0c7c4811 40cb9b57 9a0e6532"));
  // And they open: the tag alone verifies, a flipped bit anywhere does not.
  auto opened = proto::aead_open(aead_algorithm::aes_siv_cmac_256, key, nonce, ad, *b);
  REQUIRE(opened);
  CHECK(opened->empty());
  for (std::size_t bit = 0; bit < 128; bit += 7) {
    auto bad = *b;
    bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    CHECK(proto::aead_open(aead_algorithm::aes_siv_cmac_256, key, nonce, ad, bad).error() ==
          proto::errc::nts_aead_failure);
  }
}

TEST_CASE("AEAD_AES_SIV_CMAC_384 and _512 are SIV with AES-192 and AES-256") {
  // No RFC vectors exist; these come from pyca/cryptography 48 (OpenSSL 4.0) AESSIV with the
  // key bytes 00 01 02 ..., associated data 23 00 .. 00 (48 bytes), nonce 10 .. 1f and the
  // plaintext 40 .. 53 or nothing.
  bytes ad(48, 0);
  ad[0] = 0x23;
  bytes nonce(16), plaintext(20);
  for (std::size_t i = 0; i < 16; ++i) nonce[i] = static_cast<std::uint8_t>(0x10 + i);
  for (std::size_t i = 0; i < 20; ++i) plaintext[i] = static_cast<std::uint8_t>(0x40 + i);
  struct row {
    aead_algorithm a;
    std::size_t key_size;
    const char* empty;
    const char* full;
  };
  const row rows[] = {
      {aead_algorithm::aes_siv_cmac_384, 48, "4d3ba475b741c468d86f6dfe2eea0cf3",
       "99c1a7340a296939de4c8aee5ac3cf629844eea35883571989fa3b5015f13b15e0278704"},
      {aead_algorithm::aes_siv_cmac_512, 64, "27a53dc4f62190f3316fd50d1237b488",
       "95c519ff93d862bd68851e2fc29b3e2b713a4e82aeda2096db9d382759f41f4bf088bfd6"},
  };
  for (const auto& r : rows) {
    CAPTURE(proto::to_string(r.a));
    CHECK(proto::aead_key_size(r.a) == r.key_size);
    bytes key(r.key_size);
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i);
    auto e = proto::aead_seal(r.a, key, nonce, ad, {});
    REQUIRE(e);
    CHECK(*e == from_hex(r.empty));
    auto f = proto::aead_seal(r.a, key, nonce, ad, plaintext);
    REQUIRE(f);
    CHECK(*f == from_hex(r.full));
    auto back = proto::aead_open(r.a, key, nonce, ad, *f);
    REQUIRE(back);
    CHECK(*back == plaintext);
  }
}

TEST_CASE("a ciphertext opens only with its key, nonce, associated data and every byte intact") {
  const bytes key(32, 0x5a);
  const bytes nonce(16, 0x01);
  const bytes ad(48, 0x23);
  const bytes plaintext(104, 0x77);
  auto sealed = proto::aead_seal(aead_algorithm::aes_siv_cmac_256, key, nonce, ad, plaintext);
  REQUIRE(sealed);
  CHECK(sealed->size() == 16 + plaintext.size());
  auto fails = [&](const bytes& k, const bytes& n, const bytes& a, const bytes& c) {
    return proto::aead_open(aead_algorithm::aes_siv_cmac_256, k, n, a, c).error() ==
           proto::errc::nts_aead_failure;
  };
  auto flip = [](bytes b, std::size_t i) {
    b[i] ^= 0x01;
    return b;
  };
  CHECK(fails(flip(key, 0), nonce, ad, *sealed));   // K1: S2V
  CHECK(fails(flip(key, 31), nonce, ad, *sealed));  // K2: CTR, so V no longer matches
  CHECK(fails(key, flip(nonce, 15), ad, *sealed));
  CHECK(fails(key, nonce, flip(ad, 47), *sealed));
  CHECK(fails(key, nonce, ad, flip(*sealed, 0)));    // the tag
  CHECK(fails(key, nonce, ad, flip(*sealed, 100)));  // the encrypted bytes
  CHECK(fails(key, nonce, ad, bytes(sealed->begin(), sealed->end() - 1)));
  CHECK(fails(key, nonce, ad, bytes(15, 0)));  // shorter than the tag
  // The other algorithms refuse a 32-byte key rather than misuse it.
  CHECK(proto::aead_seal(aead_algorithm::aes_siv_cmac_384, key, nonce, ad, plaintext).error() ==
        proto::errc::nts_bad_key);
  CHECK(proto::aead_seal(static_cast<aead_algorithm>(30), key, nonce, ad, plaintext).error() ==
        proto::errc::nts_unsupported_aead);
}

TEST_CASE("the AEAD table names the registry's algorithms by their numeric identifiers") {
  CHECK(proto::find_aead(15) == aead_algorithm::aes_siv_cmac_256);
  CHECK(proto::find_aead(16) == aead_algorithm::aes_siv_cmac_384);
  CHECK(proto::find_aead(17) == aead_algorithm::aes_siv_cmac_512);
  CHECK_FALSE(proto::find_aead(30).has_value());  // AEAD_AES_128_GCM_SIV: not implemented
  CHECK_FALSE(proto::find_aead(0).has_value());
  CHECK(proto::to_string(aead_algorithm::aes_siv_cmac_256) == "AEAD_AES_SIV_CMAC_256");
  CHECK(proto::aead_algorithms().front().algorithm == aead_algorithm::aes_siv_cmac_256);
  CHECK(proto::info(aead_algorithm::aes_siv_cmac_512).tag_size == 16);
}
