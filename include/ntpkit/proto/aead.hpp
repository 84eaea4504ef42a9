#pragma once

// The AEAD algorithms of Network Time Security: AES-SIV (RFC 5297), by the numeric identifiers
// NTS-KE negotiates (IANA "AEAD Algorithms" registry, RFC 5116). RFC 8915 §5.1 makes
// AEAD_AES_SIV_CMAC_256 mandatory for NTPv4; 384 and 512 are the same construction with AES-192
// and AES-256.
//
// SIV (RFC 5297 §2.6) derives a synthetic IV V = S2V(K1, S1, ..., Sn, P) from the associated
// data components and the plaintext, then encrypts P with AES-CTR under K2 from V; the output is
// V ‖ C (the tag first). K1 is the first half of the key, K2 the second, so the "256" of
// AEAD_AES_SIV_CMAC_256 is a 32-byte key made of two AES-128 keys. Used as an AEAD with a nonce
// (RFC 5297 §3, §6), the nonce is the last associated data component: S2V(K1, A, N, P). NTS puts
// the packet up to its authenticator in A (RFC 8915 §5.6).
//
// OpenSSL 3's "AES-128-SIV" cipher takes each call of EVP_EncryptUpdate without an output
// buffer as one component, and the plaintext in one call with one; it cannot encrypt or check
// an empty plaintext (3.0 skips the S2V of a zero-length update), which is what every NTS client
// request authenticates. For that case this library computes V = CMAC(K1, dbl(D) xor 10*) itself
// (RFC 5297 §2.4, with an empty Sn) with OpenSSL's CMAC. No OpenSSL type appears here.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/result.hpp"

namespace ntpkit::proto {

/// An AEAD algorithm by its IANA numeric identifier, as NTS-KE's AEAD Algorithm Negotiation
/// record carries it (RFC 8915 §4.1.5).
enum class aead_algorithm : std::uint16_t {
  aes_siv_cmac_256 = 15,  ///< AEAD_AES_SIV_CMAC_256: 32-byte key (2 × AES-128), RFC 5297 §6.1
  aes_siv_cmac_384 = 16,  ///< AEAD_AES_SIV_CMAC_384: 48-byte key (2 × AES-192), RFC 5297 §6.2
  aes_siv_cmac_512 = 17,  ///< AEAD_AES_SIV_CMAC_512: 64-byte key (2 × AES-256), RFC 5297 §6.3
};

/// One row of the AEAD table. Sizes are in bytes.
struct aead_info {
  aead_algorithm algorithm;
  std::string_view name;  ///< the registry's name, "AEAD_AES_SIV_CMAC_256"
  std::size_t key_size;   ///< the key the NTS-KE exporter produces for it
  std::size_t tag_size;   ///< the synthetic IV that leads the ciphertext: 16 for SIV
};

/// Every algorithm implemented, in preference order (the order a client offers them).
NTPKIT_API std::span<const aead_info> aead_algorithms() noexcept;

/// The implemented algorithm with numeric identifier `id`, if any.
NTPKIT_API std::optional<aead_algorithm> find_aead(std::uint16_t id) noexcept;

/// The table row of `a`, which must be one of the enumerators.
NTPKIT_API const aead_info& info(aead_algorithm a) noexcept;

/// The registry name of `a` ("AEAD_AES_SIV_CMAC_256"), or "unknown".
NTPKIT_API std::string_view to_string(aead_algorithm a) noexcept;

/// Key length in bytes of `a`.
NTPKIT_API std::size_t aead_key_size(aead_algorithm a) noexcept;

/// RFC 5297 SIV-ENCRYPT(K, P, S1, ..., Sn): V ‖ C, 16 + plaintext.size() bytes. At most 126
/// components. Errors: errc::nts_unsupported_aead (not an enumerator), errc::nts_bad_key (key
/// not aead_key_size(a) bytes), errc::buffer_too_small (too many components or bytes),
/// errc::crypto_failure (the library cannot be loaded or refuses).
NTPKIT_API result<std::vector<std::uint8_t>> siv_encrypt(
    aead_algorithm a, std::span<const std::uint8_t> key,
    std::span<const std::span<const std::uint8_t>> components,
    std::span<const std::uint8_t> plaintext);

/// RFC 5297 SIV-DECRYPT: the plaintext of V ‖ C when V verifies (compared in constant time).
/// Errors as siv_encrypt, and errc::nts_aead_failure (shorter than the tag, or the tag does not
/// verify: wrong key, tampered bytes or other components).
NTPKIT_API result<std::vector<std::uint8_t>> siv_decrypt(
    aead_algorithm a, std::span<const std::uint8_t> key,
    std::span<const std::span<const std::uint8_t>> components,
    std::span<const std::uint8_t> ciphertext);

/// The AEAD interface (RFC 5116 §2.1) as RFC 5297 §6 defines it: siv_encrypt with components
/// (associated_data, nonce). An empty nonce is left out. Errors as siv_encrypt.
NTPKIT_API result<std::vector<std::uint8_t>> aead_seal(
    aead_algorithm a, std::span<const std::uint8_t> key, std::span<const std::uint8_t> nonce,
    std::span<const std::uint8_t> associated_data, std::span<const std::uint8_t> plaintext);

/// The inverse of aead_seal. Errors as siv_decrypt.
NTPKIT_API result<std::vector<std::uint8_t>> aead_open(
    aead_algorithm a, std::span<const std::uint8_t> key, std::span<const std::uint8_t> nonce,
    std::span<const std::uint8_t> associated_data, std::span<const std::uint8_t> ciphertext);

}  // namespace ntpkit::proto
