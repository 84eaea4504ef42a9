// Fuzz target: NTS extension fields (RFC 8915 §5): proto::verify_nts_response,
// parse_nts_authenticator / serialize_nts_authenticator, decode_extension_fields,
// append_nts_authenticator and is_nts_nak.
//
// Input: a mode byte, then
//   mode % 4 == 0  a 32-byte S2C key, a 32-byte unique identifier, a response datagram
//                  (captured from chronyd and NTPsec with the keys of that session, so that
//                  they verify)
//   mode % 4 == 1  a 32-byte C2S key, a 32-byte unique identifier, a request datagram (the
//                  server's check: its authenticator opens with C2S over what precedes it)
//   mode % 4 == 2  a 32-byte unique identifier, then a plaintext that the target seals, with a
//                  fixed S2C key, into a response made here (header, unique identifier,
//                  authenticator)
//   mode % 4 == 3  an authenticator field body
//
// Invariants:
// - verify_nts_response fails only with documented errors; when it passes, the datagram parses,
//   its last field is the authenticator, it is no NAK, every cookie it yields is a cookie
//   field of the plaintext, and a flipped bit in the authenticated bytes makes it fail;
// - a sealed response verifies exactly when its plaintext is a list of fields, and yields the
//   cookie fields of that list; a flipped bit anywhere makes it fail;
// - an authenticator body that parses re-serializes to itself when its additional padding is
//   the minimum, and the parts keep their lengths.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_check.hpp"
#include "ntpkit/proto/errc.hpp"
#include "ntpkit/proto/nts_ef.hpp"
#include "ntpkit/proto/packet.hpp"

namespace {

using namespace ntpkit::proto;
using bytes = std::vector<std::uint8_t>;

constexpr std::size_t key_size = 32;

bool documented(std::error_code e) {
  return e == errc::truncated || e == errc::bad_extension_field || e == errc::bad_mac_length ||
         e == errc::nts_unique_id_missing || e == errc::nts_unique_id_mismatch ||
         e == errc::nts_authenticator_missing || e == errc::nts_authenticator_not_last ||
         e == errc::nts_bad_authenticator || e == errc::nts_aead_failure ||
         e == errc::nts_bad_encrypted_field;
}

bytes take(std::span<const std::uint8_t>& in, std::size_t n) {
  bytes out(n, 0);
  const auto k = std::min(n, in.size());
  std::copy_n(in.begin(), k, out.begin());
  in = in.subspan(k);
  return out;
}

void check_response(const nts_keys& keys, const bytes& uid, std::span<const std::uint8_t> d) {
  const auto v = verify_nts_response(d, uid, keys);
  if (!v) {
    NTPKIT_FUZZ_CHECK(documented(v.error()));
    return;
  }
  const auto p = parse_packet(d);
  NTPKIT_FUZZ_CHECK(p.has_value() && !p->extensions.empty());
  NTPKIT_FUZZ_CHECK(p->extensions.back().type == 0x0404 && !p->mac);
  NTPKIT_FUZZ_CHECK(!is_nts_nak(*p, uid));
  NTPKIT_FUZZ_CHECK(v->cookies.size() <= v->encrypted_fields);
  // Flip one bit of the header (associated data): the AEAD must notice.
  bytes flipped(d.begin(), d.end());
  flipped[8] ^= 0x01;
  const auto again = verify_nts_response(flipped, uid, keys);
  NTPKIT_FUZZ_CHECK(!again.has_value() && documented(again.error()));
}

void check_request(const nts_keys& keys, std::span<const std::uint8_t> d) {
  const auto p = parse_packet(d);
  if (!p) return;
  std::size_t at = header_size;
  for (const auto& f : p->extensions) {
    if (f.type == 0x0404) {
      const auto a = parse_nts_authenticator(f.value);
      if (!a) return;
      const auto opened = aead_open(keys.aead, keys.c2s, a->nonce, d.first(at), a->ciphertext);
      if (opened) {
        // What opened was sealed over exactly these bytes: a changed one does not open.
        bytes ad(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(at));
        ad[0] ^= 0x01;
        NTPKIT_FUZZ_CHECK(!aead_open(keys.aead, keys.c2s, a->nonce, ad, a->ciphertext));
      }
      return;
    }
    at += 4 + f.value.size();
  }
}

void check_sealed(const bytes& uid, std::span<const std::uint8_t> plaintext) {
  static const bytes s2c(key_size, 0x5a);
  const nts_keys keys{aead_algorithm::aes_siv_cmac_256, bytes(key_size, 0xa5), s2c};
  packet p;
  p.mode = association_mode::server;
  p.stratum = 2;
  p.extensions.push_back({0x0104, uid});
  auto d = serialize_packet(p);
  if (!append_nts_authenticator(d, keys.aead, keys.s2c, bytes(16, 0x11), plaintext)) {
    NTPKIT_FUZZ_CHECK(plaintext.size() > 60000);  // only a field too long for 16 bits fails
    return;
  }
  const auto inner = decode_extension_fields(plaintext);
  const auto v = verify_nts_response(d, uid, keys);
  NTPKIT_FUZZ_CHECK(v.has_value() == inner.has_value());
  if (!v) {
    NTPKIT_FUZZ_CHECK(v.error() == errc::nts_bad_encrypted_field);
    return;
  }
  std::vector<bytes> cookies;
  for (const auto& f : *inner) {
    if (f.type == 0x0204) cookies.push_back(f.value);
  }
  NTPKIT_FUZZ_CHECK(v->cookies == cookies);
  NTPKIT_FUZZ_CHECK(v->encrypted_fields == inner->size());
  bytes tampered = d;
  tampered[(plaintext.size() * 31 + 7) % tampered.size()] ^= 0x20;
  NTPKIT_FUZZ_CHECK(!verify_nts_response(tampered, uid, keys).has_value());
}

void check_authenticator(std::span<const std::uint8_t> body) {
  const auto a = parse_nts_authenticator(body);
  if (!a) {
    NTPKIT_FUZZ_CHECK(a.error() == errc::nts_bad_authenticator);
    return;
  }
  NTPKIT_FUZZ_CHECK(!a->nonce.empty());
  const auto again = serialize_nts_authenticator(a->nonce, a->ciphertext);
  const std::size_t padded_nonce = (a->nonce.size() + 3) & ~std::size_t{3};
  const std::size_t minimum_padding = padded_nonce < 16 ? 16 - padded_nonce : 0;
  NTPKIT_FUZZ_CHECK(a->additional_padding >= minimum_padding);
  if (a->additional_padding == minimum_padding) {
    // Same layout; padding bytes may differ (we write zeros), so compare lengths and parts.
    NTPKIT_FUZZ_CHECK(again.size() == body.size());
    const auto back = parse_nts_authenticator(again);
    NTPKIT_FUZZ_CHECK(back.has_value() && back->nonce == a->nonce &&
                      back->ciphertext == a->ciphertext);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0] % 4;
  std::span<const std::uint8_t> in(data + 1, size - 1);
  switch (mode) {
    case 0: {
      const auto key = take(in, key_size);
      const auto uid = take(in, nts_unique_id_size);
      check_response({aead_algorithm::aes_siv_cmac_256, bytes(key_size, 0), key}, uid, in);
      break;
    }
    case 1: {
      const auto key = take(in, key_size);
      (void)take(in, nts_unique_id_size);
      check_request({aead_algorithm::aes_siv_cmac_256, key, bytes(key_size, 0)}, in);
      break;
    }
    case 2: {
      const auto uid = take(in, nts_unique_id_size);
      check_sealed(uid, in);
      break;
    }
    default:
      check_authenticator(in);
      break;
  }
  return 0;
}
