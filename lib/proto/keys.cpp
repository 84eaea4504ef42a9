#include "ntpkit/proto/keys.hpp"


#include <algorithm>
#include <array>
#include <optional>

#include "crypto.hpp"
#include "ntpkit/proto/errc.hpp"
#include "escape.hpp"

namespace ntpkit::proto {
namespace {

// ---- text ----------------------------------------------------------------------------------

struct text_line {
  std::size_t number;  // 1-based
  std::string_view text;
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

char to_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

bool iequal(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return to_upper(x) == to_upper(y); });
}

std::vector<text_line> split_lines(std::string_view text) {
  std::vector<text_line> out;
  std::size_t number = 1;
  while (!text.empty()) {
    const auto end = text.find('\n');
    out.push_back({number++, text.substr(0, end)});
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
  }
  return out;
}

std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> words;
  std::size_t at = 0;
  while (at < s.size()) {
    while (at < s.size() && is_space(s[at])) ++at;
    const std::size_t begin = at;
    while (at < s.size() && !is_space(s[at])) ++at;
    if (at > begin) words.push_back(s.substr(begin, at - begin));
  }
  return words;
}

enum class line_kind { blank, comment, chrony_comment, key };

line_kind kind_of(std::string_view line) {
  const auto first = std::find_if_not(line.begin(), line.end(), is_space);
  if (first == line.end()) return line_kind::blank;
  if (*first == '#') return line_kind::comment;
  // chrony's CPS_NormalizeLine also skips lines starting with '!', ';' or '%'.
  if (*first == '!' || *first == ';' || *first == '%') return line_kind::chrony_comment;
  return line_kind::key;
}

bool is_hex_digit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_hex(std::string_view s) { return std::all_of(s.begin(), s.end(), is_hex_digit); }

std::uint8_t hex_value(char c) {
  if (c <= '9') return static_cast<std::uint8_t>(c - '0');
  return static_cast<std::uint8_t>(to_upper(c) - 'A' + 10);
}

// ---- type names ----------------------------------------------------------------------------

struct type_name {
  std::string_view name;
  mac_algorithm algorithm;
};

// chrony 4.3 UTI_HashNameToAlgorithm / UTI_CmacNameToAlgorithm: exact, upper case.
constexpr std::array<type_name, 11> chrony_types{{
    {"MD5", mac_algorithm::md5},
    {"SHA1", mac_algorithm::sha1},
    {"SHA256", mac_algorithm::sha256},
    {"SHA384", mac_algorithm::sha384},
    {"SHA512", mac_algorithm::sha512},
    {"SHA3-224", mac_algorithm::sha3_224},
    {"SHA3-256", mac_algorithm::sha3_256},
    {"SHA3-384", mac_algorithm::sha3_384},
    {"SHA3-512", mac_algorithm::sha3_512},
    {"AES128", mac_algorithm::aes128_cmac},
    {"AES256", mac_algorithm::aes256_cmac},
}};
// chrony types that ntpkit does not implement.
constexpr std::array<std::string_view, 2> chrony_unimplemented{"TIGER", "WHIRLPOOL"};

// NTPsec authreadkeys.c: upper-cased, then tried as "<NAME>-CBC" cipher for CMAC (AES and
// AES128CMAC mean AES-128), then as an OpenSSL digest name; "M" is its MD5 shorthand.
constexpr std::array<type_name, 24> ntpd_types{{
    {"M", mac_algorithm::md5},
    {"MD5", mac_algorithm::md5},
    {"SHA1", mac_algorithm::sha1},
    {"SHA-1", mac_algorithm::sha1},
    {"SHA224", mac_algorithm::sha224},
    {"SHA-224", mac_algorithm::sha224},
    {"SHA2-224", mac_algorithm::sha224},
    {"SHA256", mac_algorithm::sha256},
    {"SHA-256", mac_algorithm::sha256},
    {"SHA2-256", mac_algorithm::sha256},
    {"SHA384", mac_algorithm::sha384},
    {"SHA-384", mac_algorithm::sha384},
    {"SHA2-384", mac_algorithm::sha384},
    {"SHA512", mac_algorithm::sha512},
    {"SHA-512", mac_algorithm::sha512},
    {"SHA2-512", mac_algorithm::sha512},
    {"SHA3-224", mac_algorithm::sha3_224},
    {"SHA3-256", mac_algorithm::sha3_256},
    {"SHA3-384", mac_algorithm::sha3_384},
    {"SHA3-512", mac_algorithm::sha3_512},
    {"AES", mac_algorithm::aes128_cmac},
    {"AES-128", mac_algorithm::aes128_cmac},
    {"AES128CMAC", mac_algorithm::aes128_cmac},
    {"AES-192", mac_algorithm::aes192_cmac},
}};
constexpr type_name ntpd_aes256{"AES-256", mac_algorithm::aes256_cmac};

std::optional<mac_algorithm> chrony_type(std::string_view name) {
  for (const auto& t : chrony_types) {
    if (t.name == name) return t.algorithm;
  }
  return std::nullopt;
}

std::optional<mac_algorithm> ntpd_type(std::string_view name) {
  for (const auto& t : ntpd_types) {
    if (iequal(t.name, name)) return t.algorithm;
  }
  if (iequal(ntpd_aes256.name, name)) return ntpd_aes256.algorithm;
  return std::nullopt;
}

bool is_chrony_spelling(std::string_view name) {
  return chrony_type(name) || std::find(chrony_unimplemented.begin(), chrony_unimplemented.end(),
                                        name) != chrony_unimplemented.end();
}

// ---- detection -----------------------------------------------------------------------------

struct evidence {
  key_file_format format;
  std::string why;  // completes "line N ..."
};

bool has_prefix(std::string_view word) {
  return word.starts_with("HEX:") || word.starts_with("ASCII:");
}

// What a key line says about the format, if anything (see keys.hpp).
std::optional<evidence> classify(std::string_view line) {
  using enum key_file_format;
  if (kind_of(line) == line_kind::chrony_comment) {
    return evidence{chrony_keys, "is a comment starting with '!', ';' or '%'"};
  }
  const auto words = split_words(line);
  if (words.size() == 2) return evidence{chrony_keys, "has no type field"};
  if (words.size() == 3 && has_prefix(words[2])) {
    return evidence{chrony_keys, "has a HEX: or ASCII: prefix"};
  }
  if (words.size() >= 3) {
    const std::string type(words[1]);
    if (is_chrony_spelling(words[1]) && !ntpd_type(words[1])) {
      return evidence{chrony_keys, "has type '" + type + "', which only chrony spells so"};
    }
    if (!is_chrony_spelling(words[1]) && ntpd_type(words[1])) {
      return evidence{ntp_keys, "has type '" + type + "', which only ntpd spells so"};
    }
  }
  if (split_words(line.substr(0, line.find('#'))).size() == 4) {
    return evidence{ntp_keys, "has a fourth field (ntp.org's address list)"};
  }
  if (words.size() == 3 && words[2].size() > 20 && !is_hex(words[2])) {
    return evidence{chrony_keys, "has a key of over 20 characters that is not hex"};
  }
  return std::nullopt;
}

std::string describe(const text_line& line, const evidence& e) {
  return "line " + std::to_string(line.number) + " " + e.why + " (" +
         std::string(to_string(e.format)) + ")";
}

// ---- parsing -------------------------------------------------------------------------------

// Fills `err` and returns nullopt, so that parsers can `return fail(...)`.
std::nullopt_t fail(key_file_error& err, errc code, std::string reason) {
  err.code = code;
  err.reason = std::move(reason);
  return std::nullopt;
}

std::optional<std::uint32_t> parse_key_id(std::string_view word, key_file_error& err) {
  std::uint64_t id = 0;
  for (const char c : word) {
    if (c < '0' || c > '9') return fail(err, errc::bad_key_file, "key id is not a number");
    id = id * 10 + static_cast<std::uint64_t>(c - '0');
    if (id > 0xffffffffu) return fail(err, errc::bad_key_file, "key id is over 4294967295");
  }
  if (id == 0) return fail(err, errc::bad_key_file, "key id 0 is reserved");
  return static_cast<std::uint32_t>(id);
}

std::optional<std::vector<std::uint8_t>> decode_hex(std::string_view hex, key_file_error& err) {
  if (!is_hex(hex)) return fail(err, errc::bad_key, "hex key has a character that is not hex");
  if (hex.size() % 2 != 0) return fail(err, errc::bad_key, "hex key has an odd number of digits");
  std::vector<std::uint8_t> out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::uint8_t>(hex_value(hex[2 * i]) << 4 | hex_value(hex[2 * i + 1]));
  }
  return out;
}

// ntp.keys (ntp.keys(5)): up to 20 characters are ASCII, longer keys are hex.
std::optional<std::vector<std::uint8_t>> decode_ntp_key(std::string_view key, key_file_error& err) {
  if (key.size() > 20) {
    if (key.size() > 64) return fail(err, errc::bad_key, "hex key is over 64 digits (32 bytes)");
    return decode_hex(key, err);
  }
  const bool printable =
      std::all_of(key.begin(), key.end(), [](char c) { return c > ' ' && c < 0x7f; });
  if (!printable)
    return fail(err, errc::bad_key, "ASCII key has a character that is not printable");
  return std::vector<std::uint8_t>(key.begin(), key.end());
}

// chrony 4.3 keys.c decode_key(): "ASCII:" or no prefix → bytes as written, "HEX:" → hex.
std::optional<std::vector<std::uint8_t>> decode_chrony_key(std::string_view key,
                                                           key_file_error& err) {
  std::optional<std::vector<std::uint8_t>> out;
  if (key.starts_with("HEX:")) {
    out = decode_hex(key.substr(4), err);
  } else {
    if (key.starts_with("ASCII:")) key.remove_prefix(6);
    out.emplace(key.begin(), key.end());
  }
  if (out && out->empty()) return fail(err, errc::bad_key, "empty key");
  return out;
}

std::optional<symmetric_key> make_key(std::uint32_t id, mac_algorithm algorithm,
                                      std::vector<std::uint8_t> secret, key_file_error& err) {
  auto key = symmetric_key::make(id, algorithm, secret);
  const auto length = secret.size();
  detail::cleanse(secret.data(), secret.size());
  if (key) return std::move(*key);
  const auto& row = info(algorithm);
  if (row.is_cmac) {
    return fail(err, errc::bad_key,
                std::string(row.name) + " key must be " + std::to_string(row.max_key) +
                    " bytes, not " + std::to_string(length));
  }
  return fail(err, errc::bad_key, "key is over " + std::to_string(row.max_key) + " bytes");
}

std::optional<symmetric_key> parse_ntp_line(std::string_view line, key_file_error& err) {
  const auto hash = line.find('#');
  if (hash != std::string_view::npos && hash > 0 && !is_space(line[hash - 1])) {
    return fail(err, errc::bad_key_file, "'#' inside a field (ntpd would end the line there)");
  }
  const auto words = split_words(line.substr(0, hash));
  if (words.size() < 3) return fail(err, errc::bad_key_file, "expected 'keyid type key'");
  if (words.size() > 4) return fail(err, errc::bad_key_file, "too many fields");
  const auto id = parse_key_id(words[0], err);
  if (!id) return std::nullopt;
  const auto algorithm = ntpd_type(words[1]);
  if (!algorithm) {
    return fail(err, errc::unsupported_algorithm,
                "unknown ntp.keys type '" + detail::escape_bytes(words[1]) + "'");
  }
  auto secret = decode_ntp_key(words[2], err);
  if (!secret) return std::nullopt;
  return make_key(*id, *algorithm, std::move(*secret), err);
}

std::optional<symmetric_key> parse_chrony_line(std::string_view line, key_file_error& err) {
  // chrony reads lines with fgets() into 2048 bytes: a longer line becomes two.
  if (line.size() > 2047) return fail(err, errc::bad_key_file, "line is over 2047 characters");
  const auto words = split_words(line);
  if (words.size() < 2) return fail(err, errc::bad_key_file, "expected 'ID [TYPE] KEY'");
  if (words.size() > 3) {
    return fail(err, errc::bad_key_file,
                "too many fields (chrony.keys has comments only on lines of their own)");
  }
  const auto id = parse_key_id(words[0], err);
  if (!id) return std::nullopt;
  const std::string_view type = words.size() == 3 ? words[1] : "MD5";
  const auto algorithm = chrony_type(type);
  if (!algorithm) {
    const bool known = is_chrony_spelling(type);
    return fail(err, errc::unsupported_algorithm,
                (known ? "chrony type '" : "unknown chrony.keys type '") + detail::escape_bytes(type) +
                    (known ? "' is not implemented by ntpkit" : "'"));
  }
  auto secret = decode_chrony_key(words.back(), err);
  if (!secret) return std::nullopt;
  return make_key(*id, *algorithm, std::move(*secret), err);
}

constexpr std::string_view undecided_text =
    "no line is specific to either format; read as ntp.keys";

// Decides the format of a whole file; see keys.hpp.
std::optional<std::pair<key_file_format, std::string>> detect(const std::vector<text_line>& lines,
                                                              key_file_error& err) {
  std::optional<evidence> decided;
  const text_line* decided_at = nullptr;
  for (const auto& line : lines) {
    const auto kind = kind_of(line.text);
    if (kind == line_kind::blank || kind == line_kind::comment) continue;
    const auto e = classify(line.text);
    if (!e) continue;
    if (!decided) {
      decided = e;
      decided_at = &line;
    } else if (e->format != decided->format) {
      err.line = line.number;
      return fail(
          err, errc::bad_key_file,
          "mixed formats: " + describe(line, *e) + " but " + describe(*decided_at, *decided));
    }
  }
  if (!decided) {
    return std::pair{key_file_format::ntp_keys, std::string(undecided_text)};
  }
  return std::pair{decided->format, describe(*decided_at, *decided)};
}

result<key_file> parse_lines(const std::vector<text_line>& lines, key_file out,
                             key_file_error* error) {
  key_file_error err;
  std::vector<std::size_t> key_lines;
  for (const auto& line : lines) {
    const auto kind = kind_of(line.text);
    if (kind == line_kind::blank || kind == line_kind::comment) continue;
    if (kind == line_kind::chrony_comment && out.format == key_file_format::chrony_keys) continue;
    err.line = line.number;
    auto key = out.format == key_file_format::chrony_keys ? parse_chrony_line(line.text, err)
                                                          : parse_ntp_line(line.text, err);
    if (key) {
      if (const auto* earlier = out.find(key->id())) {
        const auto first_line = key_lines[static_cast<std::size_t>(earlier - out.keys.data())];
        fail(err, errc::bad_key_file,
             "duplicate key id " + std::to_string(key->id()) + " (first on line " +
                 std::to_string(first_line) + ")");
        key.reset();
      }
    }
    if (!key) {
      if (error) *error = err;
      return err.code;
    }
    out.keys.push_back(std::move(*key));
    key_lines.push_back(line.number);
  }
  return out;
}

}  // namespace

std::string_view to_string(key_file_format f) noexcept {
  return f == key_file_format::chrony_keys ? "chrony.keys" : "ntp.keys";
}

mac_policy default_mac_policy(key_file_format f) noexcept {
  if (f == key_file_format::chrony_keys) return {digest_length::full, true};
  return {digest_length::truncate_20, false};
}

std::string to_string(const key_file_error& e, std::string_view path) {
  return std::string(path) + ":" + std::to_string(e.line) + ": " + e.reason;
}

const symmetric_key* key_file::find(std::uint32_t id) const noexcept {
  const auto it =
      std::find_if(keys.begin(), keys.end(), [&](const symmetric_key& k) { return k.id() == id; });
  return it == keys.end() ? nullptr : &*it;
}

result<key_file> parse_key_file(std::string_view text, key_file_error* error) {
  const auto lines = split_lines(text);
  key_file_error err;
  auto format = detect(lines, err);
  if (!format) {
    if (error) *error = err;
    return err.code;
  }
  key_file out;
  out.format = format->first;
  out.detection = std::move(format->second);
  out.guessed = out.detection == undecided_text;
  return parse_lines(lines, std::move(out), error);
}

result<key_file> parse_key_file(std::string_view text, key_file_format format,
                                key_file_error* error) {
  key_file out;
  out.format = format;
  out.detection = "given by the caller";
  return parse_lines(split_lines(text), std::move(out), error);
}

}  // namespace ntpkit::proto
