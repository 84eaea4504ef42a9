#include "ntpkit/proto/mac.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ntpkit/proto/errc.hpp"
#include "ntpkit/proto/packet.hpp"

using namespace ntpkit::proto;
using bytes = std::vector<std::uint8_t>;

namespace {

// "2b7e1516 28aed2a6" → bytes; spaces are ignored (beevik auth_test.go's spaced hex).
bytes hex(std::string_view s) {
  bytes out;
  int nibbles = 0;
  for (char c : s) {
    if (c == ' ') continue;
    const int v = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    if (nibbles++ % 2 == 0) {
      out.push_back(static_cast<std::uint8_t>(v << 4));
    } else {
      out.back() = static_cast<std::uint8_t>(out.back() | v);
    }
  }
  return out;
}

bytes ascii(std::string_view s) { return {s.begin(), s.end()}; }

symmetric_key key_of(std::uint32_t id, mac_algorithm a, const bytes& secret) {
  auto k = symmetric_key::make(id, a, secret);
  REQUIRE(k);
  return *k;
}

bytes mac_of(const symmetric_key& k, const bytes& message) {
  auto d = compute_mac(k, message);
  REQUIRE(d);
  return *d;
}

// A 48-byte NTPv4 server header, from NTPsec tests/pylib/test_packet.py (compute_mac).
const bytes ntpsec_header =
    hex("240300e8 000012ce 00000919 41138e89 e25b102e 9fe94dc9 e25b1175 bd5a3000"
        "e25b1175 bd6cf48e e25b1175 bd70e594");

// A key of the right length for every algorithm: 32 bytes, cut to a CMAC key's size.
symmetric_key test_key(mac_algorithm a, std::uint32_t id = 7) {
  bytes secret = hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  secret.resize(std::min(secret.size(), info(a).max_key));
  return key_of(id, a, secret);
}

bytes client_request(std::uint8_t version = 4) {
  return serialize_packet(
      make_client_request(timestamp::from_bits(0x0123456789abcdefULL), version));
}

}  // namespace

// ---- the table ---------------------------------------------------------------------------------

TEST_CASE("the algorithm table lists every enumerator once, in order, with its digest size") {
  std::set<std::string_view> names;
  std::size_t i = 0;
  for (const auto& row : mac_algorithms()) {
    CHECK(static_cast<std::size_t>(row.algorithm) == i++);
    CHECK(names.insert(row.name).second);
    CHECK(&info(row.algorithm) == &row);
    CHECK(to_string(row.algorithm) == row.name);
    CHECK(find_mac_algorithm(row.name) == row.algorithm);
    CHECK(row.min_key <= row.max_key);
    // The digest the implementation produces has the size the table claims.
    CHECK(mac_of(test_key(row.algorithm), ascii("x")).size() == row.digest_size);
  }
  CHECK(mac_algorithms().size() == 13);
  CHECK(info(mac_algorithm::sha512).digest_size == max_digest_size);
}

TEST_CASE("find_mac_algorithm is case-insensitive and refuses key-file spellings it does not own") {
  CHECK(find_mac_algorithm("sha3-256") == mac_algorithm::sha3_256);
  CHECK(find_mac_algorithm("aes128-cmac") == mac_algorithm::aes128_cmac);
  CHECK_FALSE(find_mac_algorithm("AES"));  // an ntp.keys spelling: keys.hpp parses those
  CHECK_FALSE(find_mac_algorithm(""));
  CHECK_FALSE(find_mac_algorithm("SHA256 "));
}

// ---- known answers -----------------------------------------------------------------------------

TEST_CASE("AES-128-CMAC matches RFC 4493 §4 examples 1-4") {
  // RFC 4493 "The AES-CMAC Algorithm", Section 4 (Test Vectors), K and Examples 1-4.
  const auto k = key_of(1, mac_algorithm::aes128_cmac, hex("2b7e1516 28aed2a6 abf71588 09cf4f3c"));
  const bytes m64 =
      hex("6bc1bee2 2e409f96 e93d7e11 7393172a ae2d8a57 1e03ac9c 9eb76fac 45af8e51"
          "30c81c46 a35ce411 e5fbc119 1a0a52ef f69f2445 df4f9b17 ad2b417b e66c3710");
  auto prefix = [&](std::size_t n) { return bytes(m64.begin(), m64.begin() + n); };
  CHECK(mac_of(k, {}) == hex("bb1d6929 e9593728 7fa37d12 9b756746"));          // Example 1, len 0
  CHECK(mac_of(k, prefix(16)) == hex("070a16b4 6b4d4144 f79bdd9d d04a287c"));  // Example 2, len 16
  CHECK(mac_of(k, prefix(40)) == hex("dfa66747 de9ae630 30ca3261 1497c827"));  // Example 3, len 40
  CHECK(mac_of(k, m64) == hex("51f0bebf 7e3b9d92 fc497417 79363cfe"));         // Example 4, len 64
}

TEST_CASE("AES-192-CMAC and AES-256-CMAC match NIST SP 800-38B Appendix D") {
  // NIST SP 800-38B, D.2 (AES-192) and D.3 (AES-256), Examples 5/6 and 9/10 (Mlen 0 and 128).
  const bytes m16 = hex("6bc1bee2 2e409f96 e93d7e11 7393172a");
  const auto k192 = key_of(2, mac_algorithm::aes192_cmac,
                           hex("8e73b0f7 da0e6452 c810f32b 809079e5 62f8ead2 522c6b7b"));
  CHECK(mac_of(k192, {}) == hex("d17ddf46 adaacde5 31cac483 de7a9367"));
  CHECK(mac_of(k192, m16) == hex("9e99a7bf 31e71090 0662f65e 617c5184"));
  const auto k256 =
      key_of(3, mac_algorithm::aes256_cmac,
             hex("603deb10 15ca71be 2b73aef0 857d7781 1f352c07 3b6108d7 2d9810a3 0914dff4"));
  CHECK(mac_of(k256, {}) == hex("028962f6 1b7bf89e fc6b551f 4667d983"));
  CHECK(mac_of(k256, m16) == hex("28a7023f 452e8f82 bd4bf28d 8c37c35c"));
}

TEST_CASE("classic MACs are H(key || message): NTPsec's MD5 vector and hashlib references") {
  // NTPsec tests/libntp/macencrypt.c (Encrypt): key "abcdefgh", message "ijklmnopqrstuvwx".
  const bytes message = ascii("ijklmnopqrstuvwx");
  const bytes secret = ascii("abcdefgh");
  CHECK(mac_of(key_of(1, mac_algorithm::md5, secret), message) ==
        hex("0c0e84cf 0bb7a868 8e5238db bc1c3953"));
  // Same key and message; expected values are Python hashlib.new(name, key + message): an
  // implementation independent of the EVP code under test.
  struct row {
    mac_algorithm a;
    const char* digest;
  };
  const row rows[] = {
      {mac_algorithm::sha1, "d717e22e 1659305f ad6ef088 64923db6 4aba9c08"},
      {mac_algorithm::sha224, "f98432e7 95fc4b38 71a606da b4218f9e 5e5a3b76 f47cdd5f 8414ac14"},
      {mac_algorithm::sha256,
       "93b0cabf 8668e0c5 34c52a56 8957499e 12a284f5 9d97dc9b 2725ef83 6804875b"},
      {mac_algorithm::sha384,
       "a7f23ce3 8002abf2 a90fe50a 959e4982 b0fd1299 cc6231ee a5bd6970 20ca3bf0"
       "f9e4f3e4 c3d5f21a 1e4a98e8 3854435c"},
      {mac_algorithm::sha512,
       "5b7b74e7 b8bcd20a df66cb3c d7949f77 0fa77ea9 4e31a602 7314b741 62c1d844"
       "194ac7ad 33186115 8c002201 8936f329 d00c1755 b306f1ab 79bc1f0e fada611f"},
      {mac_algorithm::sha3_224, "b75f62df 0735e5ce 60721405 757ef001 3c859e5a 6492f41e 77e39c52"},
      {mac_algorithm::sha3_256,
       "a63c9326 624c249a a71c4c88 c3f468a3 efb84d82 3ada12cd e330e720 42c11562"},
      {mac_algorithm::sha3_384,
       "6e395838 f37caaa8 c2430385 ddde0254 ecfea662 649a30a3 40803aed c0ec13fa"
       "ce7b9ada 1c0d1fa3 ff8ba5b7 149a5d0a"},
      {mac_algorithm::sha3_512,
       "8545b6ea 77f0ab79 351ef88d af8ade78 c6c239cd 33570a7a 95ed2417 1b6cd9d7"
       "70eccf7c 6510edf9 8653dc63 3db76531 bb992613 9881e9e3 0693d47f 388619af"},
  };
  for (const auto& r : rows) {
    CAPTURE(to_string(r.a));
    CHECK(mac_of(key_of(1, r.a, secret), message) == hex(r.digest));
  }
}

TEST_CASE("NTPsec's CMAC vectors: macencrypt.c and test_packet.py") {
  // macencrypt.c CMAC_Encrypt: key "0123456789abcdef" (ASCII), message "ijklmnopqrstuvwx".
  CHECK(mac_of(key_of(1, mac_algorithm::aes128_cmac, ascii("0123456789abcdef")),
               ascii("ijklmnopqrstuvwx")) == hex("b0a1cfd2 7f690c43 a75d6c55 914b1514"));
  // test_packet.py compute_mac: the 48-byte header, key ids 13 (AES-128) and 14 (AES-256); the
  // expected bytes are the whole trailer, key id included.
  auto datagram = ntpsec_header;
  const auto k13 = key_of(13, mac_algorithm::aes128_cmac, hex("2f3badbb640bf975fec519df8a83e829"));
  REQUIRE(append_mac(datagram, k13));
  CHECK(bytes(datagram.begin() + 48, datagram.end()) ==
        hex("0000000d 4c7fc1d1 e9d3f8ec 91dfec53 8965c5f3"));
  datagram = ntpsec_header;
  const auto k14 = key_of(14, mac_algorithm::aes256_cmac,
                          hex("fc0af35640142bb85ad03a892a81fa9d891b108289c3f6725a01a10f697c1b4c"));
  REQUIRE(append_mac(datagram, k14));
  CHECK(bytes(datagram.begin() + 48, datagram.end()) ==
        hex("0000000e 27caf3a8 47be99af 96213c1a 95d6c769"));
}

TEST_CASE("append_mac writes header || key id || digest (NTPsec macencrypt.c null_trunc)") {
  // An NTPv4 client header signed with AES-128-CMAC key 100: the datagram is the header
  // unchanged, then 00000064, then the CMAC.
  const bytes header =
      hex("e3000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000"
          "00000000 00000000 e6136a71 2d8c4800");
  const auto k = key_of(100, mac_algorithm::aes128_cmac, hex("0fd2287c1e97a50cb9d3cb9f80debcb6"));
  auto datagram = header;
  REQUIRE(append_mac(datagram, k));
  bytes expected = header;
  const bytes trailer = hex("00000064 01c167a4 df28f25a 4794bf00 c8b35469");
  expected.insert(expected.end(), trailer.begin(), trailer.end());
  CHECK(datagram == expected);
  CHECK(verify_mac(k, datagram).value() == digest_length::full);
}

TEST_CASE("verify_mac on NTPsec test_packet.py's good and bad 68-byte responses") {
  const auto k13 = key_of(13, mac_algorithm::aes128_cmac, hex("2f3badbb640bf975fec519df8a83e829"));
  const bytes good =
      hex("240300e8 0000139a 00000ae8 cc0286a2 e25c0c4d fff93ee2 e25c0cca 53f45000"
          "e25c0cca 54048d79 e25c0cca 5408646b 0000000d be93e3f1 d530d925 2147c298 c00c85f9");
  const bytes bad =
      hex("240300e8 0000131f 00000779 cc0286a2 e25c0d54 ff6e4835 e25c0dc2 bea43000"
          "e25c0dc2 beb78905 e25c0dc2 bebc0737 0000000d 4c2d64c4 47e701b7 4e3ad98c e65d13c3");
  CHECK(verify_mac(k13, good).value() == digest_length::full);
  CHECK(verify_mac(k13, bad).error() == errc::mac_mismatch);
  auto parsed = parse_packet(good);
  REQUIRE(parsed);
  CHECK(verify_mac(k13, *parsed).value() == digest_length::full);
}

// ---- digest length -----------------------------------------------------------------------------

TEST_CASE("wire_digest_size and version_for_mac follow the ntpd and chrony conventions") {
  CHECK(wire_digest_size(mac_algorithm::md5, digest_length::truncate_20) == 16);
  CHECK(wire_digest_size(mac_algorithm::sha1, digest_length::truncate_20) == 20);
  CHECK(wire_digest_size(mac_algorithm::sha256, digest_length::truncate_20) == 20);
  CHECK(wire_digest_size(mac_algorithm::sha256, digest_length::full) == 32);
  CHECK(wire_digest_size(mac_algorithm::aes256_cmac, digest_length::full) == 16);
  const mac_policy chrony{digest_length::full, true};
  const mac_policy ntpd{digest_length::truncate_20, false};
  CHECK(version_for_mac(mac_algorithm::sha256, chrony, 4) == 3);
  CHECK(version_for_mac(mac_algorithm::sha1, chrony, 4) == 4);
  CHECK(version_for_mac(mac_algorithm::aes128_cmac, chrony, 4) == 4);
  CHECK(version_for_mac(mac_algorithm::sha512, ntpd, 4) == 4);
  // The fallback only applies when the digest on the wire is long.
  CHECK(version_for_mac(mac_algorithm::sha512, {digest_length::truncate_20, true}, 4) == 4);
  CHECK(version_for_mac(mac_algorithm::sha512, {digest_length::full, false}, 4) == 4);
  CHECK(version_for_mac(mac_algorithm::sha512, chrony, 2) == 2);
}

TEST_CASE("a long digest is sent full as NTPv3 (chrony) or truncated as NTPv4 (ntpd)") {
  for (const auto& row : mac_algorithms()) {
    CAPTURE(row.name);
    const auto k = test_key(row.algorithm);
    const auto full = mac_of(k, client_request(row.digest_size > 20 ? 3 : 4));

    auto chrony = client_request();
    REQUIRE(append_mac(chrony, k, {digest_length::full, true}));
    CHECK(chrony.size() == 48 + 4 + row.digest_size);
    CHECK(((chrony[0] >> 3) & 7) == (row.digest_size > 20 ? 3 : 4));
    CHECK(bytes(chrony.begin() + 52, chrony.end()) == full);
    CHECK(verify_mac(k, chrony).value() == digest_length::full);

    auto ntpd = client_request();
    REQUIRE(append_mac(ntpd, k, {digest_length::truncate_20, false}));
    CHECK(ntpd.size() == 48 + 4 + std::min<std::size_t>(row.digest_size, 20));
    CHECK(((ntpd[0] >> 3) & 7) == 4);
    const auto expect = row.digest_size > 20 ? digest_length::truncate_20 : digest_length::full;
    CHECK(verify_mac(k, ntpd).value() == expect);
    // The truncated digest is a prefix of the full NTPv4 digest.
    const auto full_v4 = mac_of(k, client_request(4));
    CHECK(std::equal(ntpd.begin() + 52, ntpd.end(), full_v4.begin()));
  }
}

TEST_CASE("verify_mac refuses digests that are neither full nor 20 bytes") {
  const auto k = test_key(mac_algorithm::sha512);
  auto datagram = client_request(3);
  REQUIRE(append_mac(datagram, k, {digest_length::full, true}));  // 64-byte digest
  // 60, 48 and 24 bytes left: multiples of 4, so the parser still sees a MAC (44 would leave
  // 20, the valid truncated form).
  for (std::size_t cut : {4, 16, 40}) {
    CAPTURE(cut);
    const bytes shorter(datagram.begin(), datagram.end() - static_cast<std::ptrdiff_t>(cut));
    CHECK(verify_mac(k, shorter).error() == errc::bad_mac_length);
  }
  // MD5 has no truncated form: a 20-byte MD5 trailer is the wrong length.
  const auto md5 = test_key(mac_algorithm::md5);
  auto padded = client_request();
  REQUIRE(append_mac(padded, md5));
  padded.insert(padded.end(), 4, 0);
  CHECK(verify_mac(md5, padded).error() == errc::bad_mac_length);
}

TEST_CASE("an NTPv4 datagram with extension fields keeps its version and a long full digest") {
  // With a field present the packet cannot become NTPv3. RFC 7822 allows at most a 24-byte
  // MAC behind extension fields, so such a datagram does not parse (chrony refuses it too):
  // signing still writes it, verifying reports the malformed field.
  packet p = make_client_request(timestamp::from_bits(42));
  p.extensions.push_back({0x0104, bytes(12, 0xab)});
  const auto k = test_key(mac_algorithm::sha256, 1);
  REQUIRE(sign_packet(p, k, {digest_length::full, true}));
  CHECK(p.version == 4);
  REQUIRE(p.mac);
  CHECK(p.mac->digest.size() == 32);
  const auto datagram = serialize_packet(p);
  CHECK(verify_mac(k, datagram).error() == errc::bad_extension_field);
  auto raw = serialize_packet([&] {
    auto q = p;
    q.mac.reset();
    return q;
  }());
  REQUIRE(append_mac(raw, k, {digest_length::full, true}));
  CHECK(raw == datagram);
}

TEST_CASE("sign_packet and append_mac produce the same datagram") {
  for (const auto& row : mac_algorithms()) {
    for (const auto policy :
         {mac_policy{digest_length::full, true}, mac_policy{digest_length::truncate_20, false}}) {
      CAPTURE(row.name);
      const auto k = test_key(row.algorithm);
      packet p = make_client_request(timestamp::from_bits(0xfeedface12345678ULL));
      REQUIRE(sign_packet(p, k, policy));
      auto raw = serialize_packet(make_client_request(timestamp::from_bits(0xfeedface12345678ULL)));
      REQUIRE(append_mac(raw, k, policy));
      CHECK(serialize_packet(p) == raw);
      CHECK(verify_mac(k, p));
      // Re-signing replaces the MAC instead of covering the old one.
      REQUIRE(sign_packet(p, k, policy));
      CHECK(serialize_packet(p) == raw);
    }
  }
}

// ---- refusals ----------------------------------------------------------------------------------

TEST_CASE("verify_mac names a missing MAC, a crypto-NAK and another key id") {
  const auto k = test_key(mac_algorithm::sha1, 5);
  auto datagram = client_request();
  CHECK(verify_mac(k, datagram).error() == errc::mac_missing);
  auto nak = datagram;
  REQUIRE(append_crypto_nak(nak));
  CHECK(nak.size() == 52);
  CHECK(verify_mac(k, nak).error() == errc::crypto_nak);
  auto parsed = parse_packet(nak);
  REQUIRE(parsed);
  CHECK(parsed->mac->is_crypto_nak());
  CHECK(verify_mac(k, *parsed).error() == errc::crypto_nak);
  auto nak5 = datagram;
  REQUIRE(append_crypto_nak(nak5, 5));  // a NAK naming our own key is still a NAK
  CHECK(verify_mac(k, nak5).error() == errc::crypto_nak);
  REQUIRE(append_mac(datagram, test_key(mac_algorithm::sha1, 6)));
  CHECK(verify_mac(k, datagram).error() == errc::key_id_mismatch);
  CHECK(verify_mac(k, bytes(47, 0)).error() == errc::truncated);
  bytes short_datagram(47, 0);
  CHECK(append_mac(short_datagram, k).error() == errc::truncated);
  CHECK(short_datagram.size() == 47);
  CHECK(append_crypto_nak(short_datagram).error() == errc::truncated);
}

TEST_CASE("flipping any bit of message, key id or digest makes verify_mac fail") {
  // Every algorithm, both conventions: a single flipped bit anywhere is caught. Bits of the
  // first byte can change the version and so how the datagram is split: any error will do.
  for (const auto& row : mac_algorithms()) {
    for (const auto policy :
         {mac_policy{digest_length::full, true}, mac_policy{digest_length::truncate_20, false}}) {
      CAPTURE(row.name);
      CAPTURE(static_cast<int>(policy.length));
      const auto k = test_key(row.algorithm, 0x01020304);
      auto datagram = client_request();
      REQUIRE(append_mac(datagram, k, policy));
      REQUIRE(verify_mac(k, datagram));
      for (std::size_t bit = 0; bit < datagram.size() * 8; ++bit) {
        auto corrupt = datagram;
        corrupt[bit / 8] ^= static_cast<std::uint8_t>(0x80 >> (bit % 8));
        const auto r = verify_mac(k, corrupt);
        if (!r) {
          const std::size_t at = bit / 8;
          if (at >= 1 && at < 48) CHECK(r.error() == errc::mac_mismatch);
          if (at >= 48 && at < 52) CHECK(r.error() == errc::key_id_mismatch);
          if (at >= 52) CHECK(r.error() == errc::mac_mismatch);
        } else {
          FAIL_CHECK("bit " << bit << " flipped and the MAC still verified");
        }
      }
    }
  }
}

TEST_CASE("a key verifies only its own MACs: other secret, other algorithm") {
  const auto k = test_key(mac_algorithm::sha256, 9);
  auto datagram = client_request();
  REQUIRE(append_mac(datagram, k, {digest_length::truncate_20, false}));
  auto other_secret = key_of(9, mac_algorithm::sha256, ascii("another secret"));
  CHECK(verify_mac(other_secret, datagram).error() == errc::mac_mismatch);
  // SHA1 has 20-byte digests too: same length, different function.
  CHECK(verify_mac(test_key(mac_algorithm::sha1, 9), datagram).error() == errc::mac_mismatch);
  CHECK(verify_mac(test_key(mac_algorithm::sha3_256, 9), datagram).error() == errc::mac_mismatch);
}

TEST_CASE("sign and verify round-trip over random keys, messages and policies") {
  const std::uint64_t seed = std::random_device{}();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const auto algorithms = mac_algorithms();
  for (int i = 0; i < 10000; ++i) {
    const auto& row = algorithms[rng() % algorithms.size()];
    const std::size_t key_size =
        row.is_cmac ? row.max_key : 1 + static_cast<std::size_t>(rng() % 64);
    bytes secret(key_size);
    for (auto& b : secret) b = static_cast<std::uint8_t>(rng());
    const auto k = key_of(static_cast<std::uint32_t>(rng()), row.algorithm, secret);
    bytes datagram(48);
    for (auto& b : datagram) b = static_cast<std::uint8_t>(rng());
    const mac_policy policy{rng() % 2 ? digest_length::full : digest_length::truncate_20,
                            rng() % 2 == 0};
    datagram[0] = static_cast<std::uint8_t>((datagram[0] & 0xc7) | (4 << 3));
    REQUIRE(append_mac(datagram, k, policy));
    const auto r = verify_mac(k, datagram);
    // NTPv4 with a long full digest may be split as a field when the key id looks like a
    // field length: exactly chrony's reason for NTPv3. Everything else must verify.
    const bool ambiguous = ((datagram[0] >> 3) & 7) == 4 && datagram.size() - 48 > 24;
    if (!ambiguous) {
      CHECK(r);
      CHECK(r.value_or(digest_length::full) ==
            (policy.length == digest_length::truncate_20 && row.digest_size > 20
                 ? digest_length::truncate_20
                 : digest_length::full));
    }
  }
}

// ---- the key type ------------------------------------------------------------------------------

TEST_CASE("symmetric_key::make checks the secret length against the table") {
  CHECK(symmetric_key::make(1, mac_algorithm::md5, {}).error() == errc::bad_key);
  CHECK(symmetric_key::make(1, mac_algorithm::md5, bytes(1, 'a')));
  CHECK(symmetric_key::make(1, mac_algorithm::sha1, bytes(2048, 'a')));
  CHECK(symmetric_key::make(1, mac_algorithm::sha1, bytes(2049, 'a')).error() == errc::bad_key);
  for (auto [a, n] :
       {std::pair{mac_algorithm::aes128_cmac, 16}, std::pair{mac_algorithm::aes192_cmac, 24},
        std::pair{mac_algorithm::aes256_cmac, 32}}) {
    CHECK(symmetric_key::make(1, a, bytes(n, 1)));
    CHECK(symmetric_key::make(1, a, bytes(n - 1, 1)).error() == errc::bad_key);
    CHECK(symmetric_key::make(1, a, bytes(n + 1, 1)).error() == errc::bad_key);
  }
  CHECK(symmetric_key::make(1, static_cast<mac_algorithm>(200), bytes(16, 1)).error() ==
        errc::unsupported_algorithm);
  CHECK(symmetric_key::make(0, mac_algorithm::md5, bytes(8, 1)));  // id 0: allowed here
}

template <class T>
concept streamable = requires(std::ostream& os, const T& v) {
  os << v;
};

TEST_CASE("a key cannot be streamed and redacted() shows id and algorithm only") {
  static_assert(!streamable<symmetric_key>);
  const auto k = key_of(4294967295u, mac_algorithm::sha3_512, ascii("hunter2-hunter2"));
  CHECK(k.redacted() == "key 4294967295 (SHA3-512)");
  CHECK(k.redacted().find("hunter") == std::string::npos);
}

TEST_CASE("keys copy and move by value; a moved-from key holds no secret") {
  const auto k = key_of(3, mac_algorithm::sha1, ascii("secret"));
  auto copy = k;
  CHECK(copy == k);
  auto moved = std::move(copy);
  CHECK(moved == k);
  CHECK(copy.secret().empty());  // NOLINT(bugprone-use-after-move): pins the documented state
  copy = moved;
  CHECK(copy == k);
  auto other = key_of(3, mac_algorithm::sha1, ascii("secreT"));
  CHECK_FALSE(other == k);
  other = std::move(moved);
  CHECK(other == k);
  CHECK_FALSE(key_of(4, mac_algorithm::sha1, ascii("secret")) == k);
  CHECK_FALSE(key_of(3, mac_algorithm::md5, ascii("secret")) == k);
}

// ---- replies captured from real servers --------------------------------------------------------

TEST_CASE("verify_mac accepts replies captured from chronyd 4.3 and NTPsec 1.2.2") {
  // Server replies to tests/tools/mac_probe on loopback (Debian 12 packages), keys given as
  // HEX 000102..0f (16-byte keys) or 000102..1f (32-byte keys). Each digest was cross-checked
  // with Python hashlib / cryptography's CMAC. They pin what each daemon sends:
  //   chronyd: SHA256 full as NTPv3 (36-byte trailer); SHA512 truncated to 20 in NTPv4 when
  //            asked in NTPv4 with a truncated MAC; AES128 and MD5 with 16-byte digests.
  //   ntpd:    SHA256, SHA3-512, SHA224 truncated to 20 in NTPv4; AES-256-CMAC 16 bytes.
  const bytes k16 = hex("000102030405060708090a0b0c0d0e0f");
  const bytes k32 = hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  struct row {
    const char* server;
    std::uint32_t id;
    mac_algorithm algorithm;
    const bytes* secret;
    const char* reply;
    digest_length expect;
  };
  const row rows[] = {
      {"chronyd", 3, mac_algorithm::sha256, &k32,
       "1c0300e7 00000000 00000000 7f7f0101 eeb23288 7b914cd5 6fdea1a0 a8041c5c"
       "eeb2329b f75d7167 eeb2329b f7653632 00000003 b799d5d0 344c7242 4dc20aa9"
       "8ba2302f 37cef9ee 4c7069ac b6b4beff c24b0db0",
       digest_length::full},
      {"chronyd", 5, mac_algorithm::sha512, &k32,
       "240300e7 00000000 00000000 7f7f0101 eeb23288 7b914cd5 546baa1b 559bf304"
       "eeb2329c 3c1139a9 eeb2329c 3c168d34 00000005 9128b5ae 14e7afaf ccc56d81"
       "4d2c685c d84ac628",
       digest_length::truncate_20},
      {"chronyd", 10, mac_algorithm::aes128_cmac, &k16,
       "240300e7 00000000 00000000 7f7f0101 eeb23288 7b914cd5 c4433ba4 f642d501"
       "eeb2329c 8bcb5c71 eeb2329c 8bfd17d0 0000000a 874aa999 c0527e3d 366027f2"
       "5a092b11",
       digest_length::full},
      {"chronyd", 1, mac_algorithm::md5, &k16,
       "240300e7 00000000 00000000 7f7f0101 eeb23288 7b914cd5 91b1bc5f 044a9edb"
       "eeb2329c d48962cf eeb2329c d48dba7e 00000001 c08b710f 6b1f0fca 97a42d7c"
       "39ca4c42",
       digest_length::full},
      {"ntpd", 3, mac_algorithm::sha256, &k32,
       "240a00e9 00000000 00000000 7f000001 00000000 00000000 46bb2211 b9cdd7f8"
       "eeb232bf 096bf2ae eeb232bf 0971f103 00000003 79216d2e cc286b53 037418d4"
       "fa7d3f50 6e690b83",
       digest_length::truncate_20},
      {"ntpd", 12, mac_algorithm::aes256_cmac, &k32,
       "240a00e9 00000000 00000000 7f000001 00000000 00000000 00460bb8 da580192"
       "eeb232bf 7d0963f4 eeb232bf 7d13c0e8 0000000c 73035447 2f1184e1 7ca3a76d"
       "98a87767",
       digest_length::full},
      {"ntpd", 9, mac_algorithm::sha3_512, &k32,
       "240a00e9 00000000 00000000 7f000001 00000000 00000000 93fd54e5 f3512fd9"
       "eeb232bf d595a87e eeb232bf d59b918c 00000009 174e5821 584ee432 630fad7d"
       "bfb26d7d 2a78a3eb",
       digest_length::truncate_20},
      {"ntpd", 13, mac_algorithm::sha224, &k32,
       "240a00e9 00000000 00000000 7f000001 00000000 00000000 ce087b6d 4a7c8be0"
       "eeb232c0 48e4d67f eeb232c0 48eaa245 0000000d ec1c76c9 d476a923 21adac68"
       "92515477 ae3d47d7",
       digest_length::truncate_20},
  };
  for (const auto& r : rows) {
    CAPTURE(r.server);
    CAPTURE(r.id);
    const auto k = key_of(r.id, r.algorithm, *r.secret);
    const auto reply = hex(r.reply);
    CHECK(verify_mac(k, reply).value() == r.expect);
    auto parsed = parse_packet(reply);
    REQUIRE(parsed);
    CHECK(verify_mac(k, *parsed).value() == r.expect);
    auto corrupt = reply;
    corrupt[20] ^= 1;  // a bit of the reference timestamp
    CHECK(verify_mac(k, corrupt).error() == errc::mac_mismatch);
  }
}
