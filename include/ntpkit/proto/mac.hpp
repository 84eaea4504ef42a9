#pragma once

// Symmetric-key message authentication codes for NTP packets (RFC 5905 §7.3, RFC 8573).
//
// The MAC trails the packet: a 32-bit key id, then a digest computed over everything before
// it (the 48-byte header and any extension fields):
//
//   classic (MD5, SHA-1, SHA-2, SHA-3):  digest = H(key ‖ message)        (RFC 5905 §7.3)
//   AES-CMAC:                             digest = AES-CMAC(key, message)  (RFC 8573, RFC 4493)
//
// Digest length on the wire. An NTPv4 receiver reads trailing bytes as a MAC only when at most
// 24 bytes (key id + 20) remain (RFC 7822 §7.5); anything longer is walked as extension fields.
// The daemons resolve this for digests longer than 20 bytes (SHA-224 and up) differently:
//
//   NTPsec ntpd   truncates every digest to its first 20 bytes and accepts only that length;
//                 it keeps NTPv4. (ntp.keys(5): "Digests or CMACs longer than 20 bytes will be
//                 truncated".)
//   chrony        sends the full digest and, when it is longer than 20 bytes, sends the packet
//                 as NTPv3, where no extension fields exist (chrony's NAU_GetSuggestedNtpVersion).
//                 As a server it answers in the request's version, and it accepts a 20-byte
//                 truncated digest in NTPv4 as well as a full one in NTPv3.
//
// `digest_length` and `mac_policy` select between these; keys.hpp's default_mac_policy() picks
// the convention that matches the key file's format. verify_mac() accepts both lengths.
//
// This header exposes no OpenSSL type; the implementation uses OpenSSL 3 EVP.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/proto/packet.hpp"
#include "ntpkit/result.hpp"

namespace ntpkit::proto {

/// A MAC algorithm. Classic ones are H(key ‖ message); the *_cmac ones are AES-CMAC (RFC 8573).
enum class mac_algorithm : std::uint8_t {
  md5,
  sha1,
  sha224,
  sha256,
  sha384,
  sha512,
  sha3_224,
  sha3_256,
  sha3_384,
  sha3_512,
  aes128_cmac,  ///< RFC 8573's recommended MAC; chrony "AES128", ntpd "AES"/"AES128CMAC"
  aes192_cmac,  ///< NTPsec only ("AES-192"); chrony has no such type
  aes256_cmac,  ///< chrony "AES256", NTPsec "AES-256"
};

/// One row of the algorithm table (beevik/ntp auth.go's shape). Sizes are in bytes.
struct mac_algorithm_info {
  mac_algorithm algorithm;
  std::string_view name;    ///< display name: "MD5", "SHA256", "SHA3-256", "AES128-CMAC", ...
  std::size_t min_key;      ///< shortest secret accepted
  std::size_t max_key;      ///< longest secret accepted (CMAC: exactly the AES key size)
  std::size_t digest_size;  ///< full digest: 16 (MD5, CMAC), 20 (SHA1), 28 .. 64 (SHA-2/3)
  bool is_cmac;             ///< true for AES-CMAC, false for H(key ‖ message)
};

/// Every supported algorithm, in enum order.
NTPKIT_API std::span<const mac_algorithm_info> mac_algorithms() noexcept;

/// The table row of `a`, which must be one of the enumerators.
NTPKIT_API const mac_algorithm_info& info(mac_algorithm a) noexcept;

/// The display name of `a` (the `name` column), e.g. "SHA256" or "AES128-CMAC".
NTPKIT_API std::string_view to_string(mac_algorithm a) noexcept;

/// Looks up an algorithm by its display name, case-insensitively ("sha3-256", "AES128-CMAC").
/// Key-file type names (which differ between ntpd and chrony) are parsed by keys.hpp instead.
NTPKIT_API std::optional<mac_algorithm> find_mac_algorithm(std::string_view name) noexcept;

/// Length of the longest digest (SHA-512, SHA3-512), in bytes.
inline constexpr std::size_t max_digest_size = 64;
/// Length in bytes to which NTPsec truncates digests, and the longest digest an NTPv4 packet
/// can carry without being read as an extension field (RFC 7822 §7.5).
inline constexpr std::size_t truncated_digest_size = 20;

/// A symmetric key: id, algorithm and secret. The secret is never formatted by the library:
/// there is no operator<<, redacted() shows id and algorithm only, and the destructor wipes
/// the secret bytes (OPENSSL_cleanse). Reach the bytes through secret() when you must.
class NTPKIT_API symmetric_key {
 public:
  /// Builds a key. Any id is accepted here, 0 included (key files restrict ids to
  /// 1..2^32-1). Errors: errc::unsupported_algorithm (not an enumerator),
  /// errc::bad_key (secret length outside [min_key, max_key] of the algorithm; AES-CMAC
  /// needs exactly 16, 24 or 32 bytes).
  static result<symmetric_key> make(std::uint32_t id, mac_algorithm algorithm,
                                    std::span<const std::uint8_t> secret);

  symmetric_key(const symmetric_key& other);
  symmetric_key(symmetric_key&& other) noexcept;
  symmetric_key& operator=(const symmetric_key& other);
  symmetric_key& operator=(symmetric_key&& other) noexcept;
  ~symmetric_key();

  /// The 32-bit key identifier carried in the MAC trailer.
  std::uint32_t id() const noexcept { return id_; }
  /// The MAC algorithm.
  mac_algorithm algorithm() const noexcept { return algorithm_; }
  /// The secret bytes. Do not log them.
  std::span<const std::uint8_t> secret() const noexcept { return secret_; }
  /// "key 5 (SHA256)": id and algorithm only, never the secret or its length.
  std::string redacted() const;

  /// Same id, algorithm and secret.
  friend NTPKIT_API bool operator==(const symmetric_key& a, const symmetric_key& b) noexcept;

 private:
  symmetric_key(std::uint32_t id, mac_algorithm algorithm, std::vector<std::uint8_t> secret);
  std::uint32_t id_ = 0;
  mac_algorithm algorithm_ = mac_algorithm::md5;
  std::vector<std::uint8_t> secret_;
};

/// How long the digest on the wire is.
enum class digest_length : std::uint8_t {
  full,         ///< the whole digest (chrony; NTPv3 when longer than 20 bytes)
  truncate_20,  ///< digests longer than 20 bytes cut to their first 20 (NTPsec ntpd)
};

/// What to send: the digest length, and whether to fall back to NTPv3 for long digests.
/// The default is chrony's convention; keys.hpp's default_mac_policy() derives one from the
/// key file's format.
struct mac_policy {
  digest_length length = digest_length::full;
  /// When the digest on the wire is longer than 20 bytes, rewrite an NTPv4 packet that has no
  /// extension fields as NTPv3, so that the trailer cannot be read as an extension field.
  bool ntpv3_for_long_mac = true;
  friend bool operator==(const mac_policy&, const mac_policy&) = default;
};

/// Digest bytes on the wire for `a` under `length`: digest_size, or min(digest_size, 20).
NTPKIT_API std::size_t wire_digest_size(mac_algorithm a, digest_length length) noexcept;

/// The NTP version a packet signed under `policy` must carry: 3 when `version` is 4 and the
/// policy's NTPv3 fallback applies to a digest longer than 20 bytes, else `version`.
NTPKIT_API std::uint8_t version_for_mac(mac_algorithm a, mac_policy policy,
                                        std::uint8_t version) noexcept;

/// Loads the crypto library that MACs need (OpenSSL's libcrypto, loaded when first needed,
/// not at program start) and returns "" when it is usable, else why not, e.g.
/// "libcrypto.so.3: cannot open shared object file: No such file or directory". A program
/// about to sign or check MACs can ask first, to report a missing library once rather than
/// errc::crypto_failure for every packet.
NTPKIT_API std::string crypto_library_error();

/// The full digest of `message` under `key` (digest_size bytes). Errors: errc::crypto_failure.
NTPKIT_API result<std::vector<std::uint8_t>> compute_mac(const symmetric_key& key,
                                                         std::span<const std::uint8_t> message);

/// Appends the MAC trailer (key id, then the digest cut to the policy's length) to `datagram`,
/// a serialized packet without a MAC: the 48-byte header and any extension fields, all of which
/// the digest covers. When version_for_mac() says so, the version bits of datagram[0] are set to
/// 3 first (only for a datagram of exactly 48 bytes, i.e. without extension fields).
/// Errors: errc::truncated (under 48 bytes), errc::crypto_failure; `datagram` is unchanged then.
NTPKIT_API result<void> append_mac(std::vector<std::uint8_t>& datagram, const symmetric_key& key,
                                   mac_policy policy = {});

/// Signs `p` in place: sets p.version as version_for_mac() says (when p has no extension
/// fields) and p.mac to the MAC of serialize_packet(p) without a MAC. Errors:
/// errc::crypto_failure; `p` is unchanged then.
NTPKIT_API result<void> sign_packet(packet& p, const symmetric_key& key, mac_policy policy = {});

/// Appends a crypto-NAK (RFC 5905 §7.4: a 4-byte MAC trailer holding only `key_id`, usually
/// 0) to `datagram`. Errors: errc::truncated (under 48 bytes).
NTPKIT_API result<void> append_crypto_nak(std::vector<std::uint8_t>& datagram,
                                          std::uint32_t key_id = 0);

/// Checks the MAC of a received datagram against `key`. The trailer is located as
/// parse_packet() does (mac_offset()), and the digest must be the full digest or, for digests
/// longer than 20 bytes, the first 20 bytes; it is compared in constant time. Returns which of
/// the two lengths the sender used. Errors, in the order they are checked: those of
/// parse_packet (errc::truncated, errc::bad_extension_field, errc::bad_mac_length);
/// errc::mac_missing (no trailer); errc::crypto_nak (a 4-byte trailer);
/// errc::key_id_mismatch (the trailer names another key id); errc::bad_mac_length (digest
/// length is neither full nor truncated for the key's algorithm); errc::crypto_failure;
/// errc::mac_mismatch (the digest is wrong).
NTPKIT_API result<digest_length> verify_mac(const symmetric_key& key,
                                            std::span<const std::uint8_t> datagram);

/// verify_mac() on a parsed packet, whose bytes are rebuilt with serialize_packet() (exact for
/// every packet parse_packet() returns). Errors as above, without those of parse_packet.
NTPKIT_API result<digest_length> verify_mac(const symmetric_key& key, const packet& p);

}  // namespace ntpkit::proto
