// Fuzz target: proto::parse_key_file over any text, with format detection and in each format
// (ntpd's ntp.keys, chrony's chrony.keys; include/ntpkit/proto/keys.hpp).
//
// Invariants:
// - a refused file names a line that exists (1 .. number of lines), an error of the documented
//   set, and a reason that is a non-empty phrase without control characters (it reaches the
//   terminal as "PATH:LINE: reason");
// - an accepted file has unique key ids, find() returns each key, and every secret has a length
//   its algorithm allows;
// - detection is the explicit parse of the format it chose: the same keys, in the same order;
// - no key material leaks: the detection text is made of keys.cpp's fixed words, numbers and
//   type names only, and a key's redacted() form is "key ID (ALGORITHM)";
// - the keys written back in each format that can hold them (chrony.keys: "ID TYPE ASCII:..."
//   or "ID TYPE HEX:..."; ntp.keys: ASCII up to 20 printable characters, else hex up to 32
//   bytes) parse, with detection and explicitly, to equal keys.

#include <algorithm>
#include <cstdio>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "ntpkit/proto/errc.hpp"
#include "ntpkit/proto/keys.hpp"
#include "ntpkit/proto/mac.hpp"

namespace {

using namespace ntpkit::proto;

std::size_t line_count(std::string_view text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
}

bool printable_phrase(std::string_view s) {
  return !s.empty() && std::none_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

std::string hex_of(std::span<const std::uint8_t> b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (const auto x : b) {
    out += digits[x >> 4];
    out += digits[x & 15];
  }
  return out;
}

bool iequal(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) {
           return lower(x) == lower(y);
         });
}

// Words the detection text may hold: keys.cpp's fixed phrases and the type names of both
// formats (as the file spelled them, so case-insensitively). A word from anywhere else in the
// file, a secret above all, makes the check fail.
constexpr std::string_view detection_words[] = {
    "line", "has", "type", "which", "only", "chrony", "ntpd", "spells", "so", "is", "a",
    "comment", "starting", "with", "'!'", "';'", "or", "'%'", "no", "field", "HEX:", "ASCII:",
    "prefix", "fourth", "ntp.org's", "address", "list", "key", "of", "over", "characters",
    "that", "not", "hex", "chrony.keys", "ntp.keys", "given", "by", "the", "caller", "to",
    "either", "format", "read", "as", "specific"};
constexpr std::string_view type_names[] = {
    "M", "MD5", "SHA1", "SHA-1", "SHA224", "SHA-224", "SHA2-224", "SHA256", "SHA-256",
    "SHA2-256", "SHA384", "SHA-384", "SHA2-384", "SHA512", "SHA-512", "SHA2-512", "SHA3-224",
    "SHA3-256", "SHA3-384", "SHA3-512", "AES", "AES-128", "AES128CMAC", "AES-192", "AES-256",
    "AES128", "AES256", "TIGER", "WHIRLPOOL"};

bool detection_word(std::string_view w) {
  while (!w.empty() && (w.back() == ',' || w.back() == ';' || w.back() == ')')) {
    w.remove_suffix(1);
  }
  while (!w.empty() && w.front() == '(') w.remove_prefix(1);
  if (w.empty()) return true;
  if (std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; })) return true;
  if (std::find(std::begin(detection_words), std::end(detection_words), w) !=
      std::end(detection_words)) {
    return true;
  }
  if (w.size() >= 2 && w.front() == '\'' && w.back() == '\'') w = w.substr(1, w.size() - 2);
  return std::any_of(std::begin(type_names), std::end(type_names),
                     [&](std::string_view t) { return iequal(t, w); });
}

void check_detection_text(std::string_view text) {
  std::size_t at = 0;
  while (at < text.size()) {
    const auto end = std::min(text.find(' ', at), text.size());
    const auto word = text.substr(at, end - at);
    if (!detection_word(word)) {
      std::fprintf(stderr, "detection text has a word from the file: '%.*s'\n",
                   static_cast<int>(word.size()), word.data());
      NTPKIT_FUZZ_CHECK(detection_word(word));
    }
    at = end + 1;
  }
}

bool same_keys(const key_file& a, const key_file& b) {
  return a.keys == b.keys;
}

// chrony.keys names (chrony 4.3); AES-192 and SHA-224 have none.
std::optional<std::string_view> chrony_name(mac_algorithm a) {
  switch (a) {
    case mac_algorithm::md5: return "MD5";
    case mac_algorithm::sha1: return "SHA1";
    case mac_algorithm::sha256: return "SHA256";
    case mac_algorithm::sha384: return "SHA384";
    case mac_algorithm::sha512: return "SHA512";
    case mac_algorithm::sha3_224: return "SHA3-224";
    case mac_algorithm::sha3_256: return "SHA3-256";
    case mac_algorithm::sha3_384: return "SHA3-384";
    case mac_algorithm::sha3_512: return "SHA3-512";
    case mac_algorithm::aes128_cmac: return "AES128";
    case mac_algorithm::aes256_cmac: return "AES256";
    default: return std::nullopt;
  }
}

// ntp.keys names as NTPsec reads them.
std::string_view ntpd_name(mac_algorithm a) {
  switch (a) {
    case mac_algorithm::md5: return "MD5";
    case mac_algorithm::sha1: return "SHA1";
    case mac_algorithm::sha224: return "SHA224";
    case mac_algorithm::sha256: return "SHA256";
    case mac_algorithm::sha384: return "SHA384";
    case mac_algorithm::sha512: return "SHA512";
    case mac_algorithm::sha3_224: return "SHA3-224";
    case mac_algorithm::sha3_256: return "SHA3-256";
    case mac_algorithm::sha3_384: return "SHA3-384";
    case mac_algorithm::sha3_512: return "SHA3-512";
    case mac_algorithm::aes128_cmac: return "AES-128";
    case mac_algorithm::aes192_cmac: return "AES-192";
    case mac_algorithm::aes256_cmac: return "AES-256";
  }
  return "?";
}

// The secret as an ntp.keys key field, when that format can hold it.
std::optional<std::string> ntpd_key_text(std::span<const std::uint8_t> s) {
  const bool ascii = s.size() <= 20 && std::all_of(s.begin(), s.end(), [](std::uint8_t c) {
                       return c > ' ' && c < 0x7f && c != '#';
                     });
  const std::string text(s.begin(), s.end());
  // A key starting HEX: or ASCII: would be read as chrony.keys evidence (keys.hpp); as hex
  // it is not.
  if (ascii && !text.starts_with("HEX:") && !text.starts_with("ASCII:")) return text;
  if (s.size() > 10 && s.size() <= 32) return hex_of(s);
  return std::nullopt;
}

// Writes the keys that `format` can express; returns them in the same order.
std::vector<symmetric_key> write_back(const key_file& file, key_file_format format,
                                      std::string& text) {
  std::vector<symmetric_key> written;
  for (const auto& k : file.keys) {
    std::string line = std::to_string(k.id()) + ' ';
    if (format == key_file_format::chrony_keys) {
      const auto name = chrony_name(k.algorithm());
      if (!name) continue;
      const auto s = k.secret();
      const bool ascii =
          std::all_of(s.begin(), s.end(), [](std::uint8_t c) { return c > ' ' && c < 0x7f; });
      line += std::string(*name) + (ascii ? " ASCII:" + std::string(s.begin(), s.end())
                                          : " HEX:" + hex_of(s));
      if (line.size() > 2047) continue;  // chrony reads at most 2047 characters a line
    } else {
      const auto key = ntpd_key_text(k.secret());
      if (!key) continue;
      line += std::string(ntpd_name(k.algorithm())) + ' ' + *key;
    }
    text += line + '\n';
    written.push_back(k);
  }
  return written;
}

void check_round_trip(const key_file& file, key_file_format format) {
  std::string text = format == key_file_format::chrony_keys ? "# chrony.keys\n" : "# ntp.keys\n";
  const auto written = write_back(file, format, text);
  key_file_error error;
  const auto explicit_parse = parse_key_file(text, format, &error);
  NTPKIT_FUZZ_CHECK(explicit_parse.has_value());
  NTPKIT_FUZZ_CHECK(explicit_parse->keys == written);
  // Detection: a HEX: prefix marks chrony.keys; an ntp.keys file of only classic names and
  // unprefixed keys is read as ntp.keys when nothing decides, so both round trips detect.
  const auto detected = parse_key_file(text, &error);
  NTPKIT_FUZZ_CHECK(detected.has_value());
  NTPKIT_FUZZ_CHECK(detected->keys == written);
  if (!written.empty()) NTPKIT_FUZZ_CHECK(detected->format == format);
}

void check_accepted(const key_file& file) {
  for (std::size_t i = 0; i < file.keys.size(); ++i) {
    const auto& k = file.keys[i];
    NTPKIT_FUZZ_CHECK(k.id() != 0);
    NTPKIT_FUZZ_CHECK(file.find(k.id()) == &k);
    for (std::size_t j = i + 1; j < file.keys.size(); ++j) {
      NTPKIT_FUZZ_CHECK(file.keys[j].id() != k.id());
    }
    const auto& row = info(k.algorithm());
    NTPKIT_FUZZ_CHECK(k.secret().size() >= row.min_key && k.secret().size() <= row.max_key);
    NTPKIT_FUZZ_CHECK(k.redacted() == "key " + std::to_string(k.id()) + " (" +
                                           std::string(to_string(k.algorithm())) + ")");
  }
  NTPKIT_FUZZ_CHECK(printable_phrase(file.detection));
  check_detection_text(file.detection);
}

void check_refused(std::string_view text, const key_file_error& error, std::error_code code) {
  NTPKIT_FUZZ_CHECK(error.code == code);
  NTPKIT_FUZZ_CHECK(code == errc::bad_key_file || code == errc::unsupported_algorithm ||
                    code == errc::bad_key);
  NTPKIT_FUZZ_CHECK(error.line >= 1 && error.line <= line_count(text));
  NTPKIT_FUZZ_CHECK(printable_phrase(error.reason));
  NTPKIT_FUZZ_CHECK(printable_phrase(to_string(error, "keys")));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  key_file_error error;
  const auto detected = parse_key_file(text, &error);
  if (detected) {
    check_accepted(*detected);
    key_file_error again_error;
    const auto again = parse_key_file(text, detected->format, &again_error);
    NTPKIT_FUZZ_CHECK(again.has_value() && same_keys(*again, *detected));
    check_round_trip(*detected, key_file_format::chrony_keys);
    check_round_trip(*detected, key_file_format::ntp_keys);
  } else {
    check_refused(text, error, detected.error());
  }

  for (const auto format : {key_file_format::ntp_keys, key_file_format::chrony_keys}) {
    key_file_error format_error;
    const auto parsed = parse_key_file(text, format, &format_error);
    if (parsed) {
      NTPKIT_FUZZ_CHECK(parsed->format == format);
      check_accepted(*parsed);
    } else {
      check_refused(text, format_error, parsed.error());
    }
  }
  return 0;
}
