#pragma once

// Symmetric key files: ntpd's ntp.keys (NTPsec, ntp.org) and chrony's chrony.keys.
//
// proto is pure: the caller reads the file and passes its text.
//
// ntp.keys (ntp.keys(5) of NTPsec 1.2; ntp.org 4.2.8):
//
//     keyid type key [ip-list]        # '#' starts a comment anywhere
//
//   keyid  decimal. ntpd accepts 1..65535; ntpkit accepts 1..2^32-1 (the MAC field is 32 bits,
//          and chrony uses the whole range), so a file ntpkit reads may hold ids ntpd refuses.
//   type   case-insensitive, as NTPsec resolves it through OpenSSL: M, MD5; SHA1, SHA-1;
//          SHA224 .. SHA512 (also SHA-256, SHA2-256, ...); SHA3-224 .. SHA3-512; AES, AES-128,
//          AES128CMAC (AES-128-CMAC); AES-192; AES-256. ("AES128" and "AES-128-CMAC" are not
//          ntpd names.) NTPsec also reads any other unknown word starting with M as MD5;
//          ntpkit refuses such words rather than guess.
//   key    up to 20 characters: ASCII (printable, no '#'); longer: hex, at most 64 digits (32
//          bytes), an even number of them.
//   ip-list  ntp.org's optional fourth field; accepted and ignored (NTPsec ignores it too).
//
// chrony.keys (chrony.conf(5), "keyfile"; chrony 4.3 keys.c):
//
//     ID [TYPE] [ASCII:|HEX:]KEY      # comments only on lines of their own ('#', '!', ';', '%')
//
//   ID     1..2^32-1.
//   TYPE   case-sensitive: MD5 (the default when omitted), SHA1, SHA256, SHA384, SHA512,
//          SHA3-224, SHA3-256, SHA3-384, SHA3-512, AES128, AES256.
//   KEY    no prefix or ASCII: → the bytes as written; HEX: → hex digits, an even number.
//
// Both formats: blank lines are skipped, CR and tabs count as white space, AES-CMAC keys must
// be exactly 16, 24 or 32 bytes (NTPsec pads or truncates other lengths with a warning; chrony
// refuses them; ntpkit refuses them), and a key id may appear only once (chrony picks an
// arbitrary one of duplicates, ntpd the last: ntpkit refuses).
//
// Format detection, per file. Each key line is looked at in order; the first line that only
// one format can produce decides:
//   chrony.keys  a line with two fields (type omitted); a HEX: or ASCII: prefix; a type spelled
//                as only chrony spells it (AES128, AES256, TIGER, WHIRLPOOL); a comment line
//                starting with '!', ';' or '%'; a key longer than 20 characters that is not
//                hex (ntpd would read it as hex and refuse it).
//   ntp.keys     a type spelled as only ntpd spells it (anything not exactly one of chrony's
//                upper-case names, e.g. md5, M, AES, SHA-256, SHA224); a fourth field.
// A later line that only the other format can produce makes the file an error (mixed
// formats), reported at that line. When no line decides (every line is "ID TYPE KEY" with
// TYPE one of MD5 SHA1 SHA256 SHA384 SHA512 SHA3-* and an unprefixed key), the file is read
// as ntp.keys, so a key longer than 20 characters is hex; chrony would read it as ASCII. Pass
// the format explicitly to override detection.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/proto/mac.hpp"
#include "ntpkit/result.hpp"

namespace ntpkit::proto {

/// The two key file formats.
enum class key_file_format : std::uint8_t {
  ntp_keys,     ///< ntpd (NTPsec, ntp.org): "keyid type key"
  chrony_keys,  ///< chronyd: "ID [TYPE] [ASCII:|HEX:]KEY"
};

/// "ntp.keys" or "chrony.keys".
NTPKIT_API std::string_view to_string(key_file_format f) noexcept;

/// The MAC convention of the daemon that reads `f`:
///   ntp_keys    → {digest_length::truncate_20, ntpv3_for_long_mac = false} (NTPsec ntpd)
///   chrony_keys → {digest_length::full, ntpv3_for_long_mac = true} (chronyd)
/// The two agree for MD5, SHA1 and AES-CMAC (digests of at most 20 bytes).
NTPKIT_API mac_policy default_mac_policy(key_file_format f) noexcept;

/// Why a key file was refused.
struct key_file_error {
  std::size_t line = 0;  ///< 1-based line number
  std::error_code code;  ///< errc::bad_key_file, errc::unsupported_algorithm or errc::bad_key
  std::string reason;    ///< a short lowercase phrase; never contains key material
};

/// "PATH:LINE: reason", the form compilers use; the CLI prints this.
NTPKIT_API std::string to_string(const key_file_error& e, std::string_view path);

/// The keys of one file.
struct key_file {
  key_file_format format = key_file_format::ntp_keys;
  /// Why `format` was chosen, e.g. "line 3 has a HEX: prefix" or "given by the caller".
  std::string detection;
  /// True when no line decided the format and ntp.keys was assumed (see detection above): a
  /// chrony.keys file with unprefixed keys that look like hex is read wrongly then.
  bool guessed = false;
  /// The keys in file order; ids are unique.
  std::vector<symmetric_key> keys;

  /// The key with id `id`, or nullptr.
  NTPKIT_API const symmetric_key* find(std::uint32_t id) const noexcept;
};

/// Parses key file text, detecting its format (see the top of this header). Stops at the
/// first bad line. Errors: errc::bad_key_file (syntax, key id, mixed formats, a duplicate id),
/// errc::unsupported_algorithm (a type ntpkit does not know or implement), errc::bad_key (key
/// encoding or length); `*error`, when given, receives the line and reason.
NTPKIT_API result<key_file> parse_key_file(std::string_view text, key_file_error* error = nullptr);

/// Parses key file text in the given format, without detection. Errors as above.
NTPKIT_API result<key_file> parse_key_file(std::string_view text, key_file_format format,
                                           key_file_error* error = nullptr);

}  // namespace ntpkit::proto
