#pragma once

// The NTS extension fields of NTPv4 (RFC 8915 §5): how a client request carries its unique
// identifier, a cookie, placeholders for more cookies and the authenticator, and how a server
// response is verified (unique identifier echoed, authenticator last, AEAD over everything
// before it with the S2C key, new cookies inside). Pure: randomness (unique identifiers,
// nonces) and keys are parameters.
//
// The NTS Authenticator and Encrypted Extension Fields field (type 0x0404), RFC 8915 §5.6:
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |          Field Type           |        Length                 |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |          Nonce Length         |      Ciphertext Length        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  .              Nonce, including up to 3 octets padding          .
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  .            Ciphertext, including up to 3 octets padding       .
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  .                      Additional Padding                       .
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Both lengths exclude their padding. The ciphertext is the AEAD's output (for SIV the 16-byte
// tag, then the encrypted fields), over associated data = the NTP header and every field
// before this one, with the nonce as SIV's last component (aead.hpp). Additional padding makes
// the nonce with its padding at least 16 bytes when the nonce is shorter (RFC 8915 §5.6).

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/proto/aead.hpp"
#include "ntpkit/proto/packet.hpp"
#include "ntpkit/result.hpp"

namespace ntpkit::proto {

/// NTS extension field types (RFC 8915 §5.7, IANA "NTP Extension Field Types").
enum class nts_ef_type : std::uint16_t {
  unique_identifier = 0x0104,       ///< random bytes the response echoes
  nts_cookie = 0x0204,              ///< one cookie, as NTS-KE or a response gave it
  nts_cookie_placeholder = 0x0304,  ///< asks for one more cookie; as long as the cookie
  nts_authenticator = 0x0404,       ///< NTS Authenticator and Encrypted Extension Fields
};

/// Length of the unique identifiers we send (RFC 8915 §5.3: at least 32 bytes).
inline constexpr std::size_t nts_unique_id_size = 32;
/// Length of the nonces we send; RFC 8915 §5.6's minimum unpadded nonce length.
inline constexpr std::size_t nts_nonce_size = 16;
/// The kiss code of an NTS NAK (RFC 8915 §5.7).
inline constexpr std::array<std::uint8_t, 4> nts_nak_code{'N', 'T', 'S', 'N'};

/// The algorithm and keys of one NTS association, from the NTS-KE exporter. Never formatted
/// by the library.
struct nts_keys {
  aead_algorithm aead = aead_algorithm::aes_siv_cmac_256;
  std::vector<std::uint8_t> c2s;  ///< seals requests
  std::vector<std::uint8_t> s2c;  ///< opens responses
  friend bool operator==(const nts_keys&, const nts_keys&) = default;
};

/// The body of an NTS Authenticator field, taken apart.
struct nts_authenticator {
  std::vector<std::uint8_t> nonce;
  std::vector<std::uint8_t> ciphertext;
  std::size_t additional_padding = 0;  ///< bytes after the padded ciphertext
  friend bool operator==(const nts_authenticator&, const nts_authenticator&) = default;
};

/// The field body (after type and length) for `nonce` and `ciphertext`: the two lengths, each
/// part zero-padded to 4 bytes, and additional zero padding so that the padded nonce is at
/// least 16 bytes (RFC 8915 §5.6). Both must be shorter than 65536 bytes (asserted).
NTPKIT_API std::vector<std::uint8_t> serialize_nts_authenticator(
    std::span<const std::uint8_t> nonce, std::span<const std::uint8_t> ciphertext);

/// Takes an NTS Authenticator field body apart. Errors: errc::nts_bad_authenticator (shorter
/// than 4 bytes, an empty nonce, padded lengths beyond the body, a padded nonce plus additional
/// padding under 16 bytes).
NTPKIT_API result<nts_authenticator> parse_nts_authenticator(std::span<const std::uint8_t> body);

/// The RFC 7822 encoding of `fields` (type, length, value as given: callers pad values to a
/// multiple of 4), as the plaintext of an authenticator carries them.
NTPKIT_API std::vector<std::uint8_t> encode_extension_fields(
    std::span<const extension_field> fields);

/// Splits the plaintext of an authenticator into fields (each at least 16 bytes, a multiple of
/// 4, RFC 7822 §3). Errors: errc::nts_bad_encrypted_field.
NTPKIT_API result<std::vector<extension_field>> decode_extension_fields(
    std::span<const std::uint8_t> bytes);

/// The value of an NTS Cookie or Cookie Placeholder field for a cookie of `cookie_size` bytes:
/// the cookie zero-padded to a multiple of 4 and to at least 12 bytes (a 16-byte field).
NTPKIT_API std::size_t nts_cookie_field_value_size(std::size_t cookie_size) noexcept;

/// Appends an NTS Authenticator and Encrypted Extension Fields field to `datagram` (a
/// serialized NTP packet without MAC): the AEAD output of `plaintext` (encoded extension
/// fields, or nothing) under `key` and `nonce`, over all of `datagram` as associated data.
/// Errors: those of aead_seal; errc::buffer_too_small (over 65535 bytes of field). `datagram`
/// is unchanged on error.
NTPKIT_API result<void> append_nts_authenticator(std::vector<std::uint8_t>& datagram,
                                                 aead_algorithm aead,
                                                 std::span<const std::uint8_t> key,
                                                 std::span<const std::uint8_t> nonce,
                                                 std::span<const std::uint8_t> plaintext);

/// What an NTS client request carries besides the header (RFC 8915 §5.7).
struct nts_request_fields {
  std::span<const std::uint8_t> unique_id;  ///< at least 32 random bytes
  std::span<const std::uint8_t> cookie;     ///< one unused cookie
  unsigned placeholders = 0;                ///< Cookie Placeholders: more cookies wanted
  std::span<const std::uint8_t> nonce;      ///< random, nts_nonce_size bytes
};

/// Appends Unique Identifier, NTS Cookie, the placeholders and the authenticator (sealed with
/// `keys.c2s` over everything before it, no encrypted fields) to `datagram`, a serialized NTPv4
/// header. Errors: errc::truncated (datagram under 48 bytes), errc::nts_bad_authenticator (an
/// empty cookie, a unique identifier under 32 bytes or an empty nonce), those of
/// append_nts_authenticator. `datagram` is unchanged on error.
NTPKIT_API result<void> append_nts_request(std::vector<std::uint8_t>& datagram,
                                           const nts_request_fields& fields, const nts_keys& keys);

/// What a verified NTS response carried.
struct nts_verified_response {
  /// NTS Cookie fields from inside the authenticator: the new cookies (their values, padding
  /// included, as a client sends them back).
  std::vector<std::vector<std::uint8_t>> cookies;
  std::size_t encrypted_fields = 0;  ///< fields inside the authenticator, cookies included
  std::size_t plaintext_fields = 0;  ///< fields before it besides the unique identifier
};

/// Verifies an NTS response to the request that carried `unique_id` (RFC 8915 §5.7): the
/// Unique Identifier field is there and equal, the authenticator is present and the last field,
/// its layout holds, the AEAD opens under `keys.s2c` over everything before it, and the
/// plaintext is a list of fields. Errors, in that order: those of parse_packet;
/// errc::nts_unique_id_missing, errc::nts_unique_id_mismatch, errc::nts_authenticator_missing,
/// errc::nts_authenticator_not_last (other fields or a MAC after it),
/// errc::nts_bad_authenticator, errc::nts_aead_failure (and the other errors of aead_open),
/// errc::nts_bad_encrypted_field.
NTPKIT_API result<nts_verified_response> verify_nts_response(
    std::span<const std::uint8_t> datagram, std::span<const std::uint8_t> unique_id,
    const nts_keys& keys);

/// True when `reply` is an NTS NAK for the request that carried `unique_id` (RFC 8915 §5.7):
/// a Kiss-o'-Death (stratum 0) with code NTSN, whose Unique Identifier field matches and which
/// has no authenticator (the server could not read our cookie, so it cannot seal anything).
NTPKIT_API bool is_nts_nak(const packet& reply, std::span<const std::uint8_t> unique_id) noexcept;

}  // namespace ntpkit::proto
