#include "ntpkit/proto/keys.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ntpkit/proto/errc.hpp"

using namespace ntpkit::proto;
using bytes = std::vector<std::uint8_t>;

namespace {

bytes ascii(std::string_view s) { return {s.begin(), s.end()}; }

bytes hex(std::string_view s) {
  bytes out;
  for (std::size_t i = 0; i + 1 < s.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(s.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

key_file parse_ok(std::string_view text) {
  key_file_error err;
  auto f = parse_key_file(text, &err);
  INFO("line ", err.line, ": ", err.reason);
  REQUIRE(f);
  return *f;
}

key_file_error parse_bad(std::string_view text) {
  key_file_error err;
  auto f = parse_key_file(text, &err);
  REQUIRE_FALSE(f);
  CHECK(f.error() == err.code);
  return err;
}

key_file_error parse_bad(std::string_view text, key_file_format format) {
  key_file_error err;
  auto f = parse_key_file(text, format, &err);
  REQUIRE_FALSE(f);
  CHECK(f.error() == err.code);
  return err;
}

bytes secret_of(const key_file& f, std::uint32_t id) {
  const auto* k = f.find(id);
  REQUIRE(k != nullptr);
  return {k->secret().begin(), k->secret().end()};
}

mac_algorithm algorithm_of(const key_file& f, std::uint32_t id) {
  const auto* k = f.find(id);
  REQUIRE(k != nullptr);
  return k->algorithm();
}

}  // namespace

// ---- ntp.keys ----------------------------------------------------------------------------------

TEST_CASE("ntp.keys: every type name ntpd accepts, in any case, with ASCII keys") {
  // ntp.keys(5) of NTPsec: names are OpenSSL digest names or AES ciphers ("-CBC" appended),
  // upper-cased first; "M" is the historic MD5 letter; AES and AES128CMAC mean AES-128.
  struct row {
    const char* type;
    mac_algorithm algorithm;
  };
  const row rows[] = {
      {"M", mac_algorithm::md5},
      {"m", mac_algorithm::md5},
      {"md5", mac_algorithm::md5},
      {"MD5", mac_algorithm::md5},
      {"sha1", mac_algorithm::sha1},
      {"SHA-1", mac_algorithm::sha1},
      {"sha224", mac_algorithm::sha224},
      {"SHA2-224", mac_algorithm::sha224},
      {"sha256", mac_algorithm::sha256},
      {"sha-256", mac_algorithm::sha256},
      {"SHA384", mac_algorithm::sha384},
      {"sha2-384", mac_algorithm::sha384},
      {"Sha512", mac_algorithm::sha512},
      {"SHA-512", mac_algorithm::sha512},
      {"sha3-224", mac_algorithm::sha3_224},
      {"SHA3-256", mac_algorithm::sha3_256},
      {"sha3-384", mac_algorithm::sha3_384},
      {"sha3-512", mac_algorithm::sha3_512},
  };
  for (const auto& r : rows) {
    const std::string shown(r.type);
    CAPTURE(shown);
    const auto f = parse_ok("42 " + std::string(r.type) + " s3cr3t!\n");
    CHECK(f.format == key_file_format::ntp_keys);
    REQUIRE(f.keys.size() == 1);
    CHECK(f.keys[0].id() == 42);
    CHECK(f.keys[0].algorithm() == r.algorithm);
    CHECK(secret_of(f, 42) == ascii("s3cr3t!"));
  }
}

TEST_CASE("ntp.keys: AES-CMAC names, with 16-character ASCII and hex keys") {
  const auto f = parse_ok(
      "1 aes 0123456789abcdef\n"
      "2 AES128CMAC 000102030405060708090a0b0c0d0e0f\n"
      "3 aes-128 000102030405060708090A0B0C0D0E0F\n"
      "4 AES-192 000102030405060708090a0b0c0d0e0f1011121314151617\n"
      "5 aes-256 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
  CHECK(f.format == key_file_format::ntp_keys);
  CHECK(algorithm_of(f, 1) == mac_algorithm::aes128_cmac);
  CHECK(secret_of(f, 1) == ascii("0123456789abcdef"));
  CHECK(algorithm_of(f, 2) == mac_algorithm::aes128_cmac);
  CHECK(secret_of(f, 2) == hex("000102030405060708090a0b0c0d0e0f"));
  CHECK(secret_of(f, 3) == secret_of(f, 2));
  CHECK(algorithm_of(f, 4) == mac_algorithm::aes192_cmac);
  CHECK(secret_of(f, 4).size() == 24);
  CHECK(algorithm_of(f, 5) == mac_algorithm::aes256_cmac);
  CHECK(secret_of(f, 5) == hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"));
}

TEST_CASE("ntp.keys: 20 characters are ASCII, 21 and more are hex") {
  // ntp.keys(5): "Keys longer than 20 characters are assumed to be hex."
  const auto f = parse_ok(
      "1 sha1 abcdefabcdefabcdefab\n"                      // 20: ASCII, even though hex-looking
      "2 sha1 933F62BE1D604E68A81B557F18CFA200483F5B70\n"  // 40: hex, 20 bytes
      "3 sha1 0102030405060708091011\n");                  // 22: hex, 11 bytes
  CHECK(secret_of(f, 1) == ascii("abcdefabcdefabcdefab"));
  CHECK(secret_of(f, 2) == hex("933F62BE1D604E68A81B557F18CFA200483F5B70"));
  CHECK(secret_of(f, 3) == hex("0102030405060708091011"));
}

TEST_CASE("ntp.keys: comments, blank lines, tabs, CRLF and the ignored fourth field") {
  const auto f = parse_ok(
      "# ntp.keys written by hand\r\n"
      "\r\n"
      "   # indented comment\n"
      "1\tmd5\tfirst  # trailing comment\r\n"
      "\t\n"
      "2 sha1 second #\n"
      "3 M third 127.0.0.1,::1\n"
      "65535 MD5 last");  // no final newline
  CHECK(f.format == key_file_format::ntp_keys);
  REQUIRE(f.keys.size() == 4);
  CHECK(secret_of(f, 1) == ascii("first"));
  CHECK(secret_of(f, 2) == ascii("second"));
  CHECK(secret_of(f, 3) == ascii("third"));
  CHECK(secret_of(f, 65535) == ascii("last"));
}

TEST_CASE("ntp.keys: bad lines are refused with their line number and a reason") {
  // Each text has its bad line at line 3, after a good key and a comment.
  struct row {
    const char* line;
    errc code;
    const char* reason;
  };
  const row rows[] = {
      {"0 md5 zero", errc::bad_key_file, "key id 0 is reserved"},
      {"x1 md5 abc", errc::bad_key_file, "key id is not a number"},
      {"-1 md5 abc", errc::bad_key_file, "key id is not a number"},
      {"4294967296 md5 abc", errc::bad_key_file, "key id is over 4294967295"},
      {"5 md5", errc::bad_key_file, "expected 'keyid type key'"},
      {"5 md5 a b c", errc::bad_key_file, "too many fields"},
      {"5 rot13 abc", errc::unsupported_algorithm, "unknown ntp.keys type 'rot13'"},
      {"5 ripemd160 abc", errc::unsupported_algorithm, "unknown ntp.keys type 'ripemd160'"},
      // Bytes of the file that reach the error line cannot drive the terminal (fuzz_keys).
      {"5 \x1b]0;x\x07\\ abc", errc::unsupported_algorithm,
       "unknown ntp.keys type '\\x1b]0;x\\x07\\x5c'"},
      {"5 AES-128-CMAC 0123456789abcdef", errc::unsupported_algorithm,
       "unknown ntp.keys type 'AES-128-CMAC'"},
      {"5 md5 0123456789abcdef0123z", errc::bad_key, "hex key has a character that is not hex"},
      {"5 md5 0123456789abcdef01234", errc::bad_key, "hex key has an odd number of digits"},
      {"5 md5 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00", errc::bad_key,
       "hex key is over 64 digits (32 bytes)"},
      {"5 aes short", errc::bad_key, "AES128-CMAC key must be 16 bytes, not 5"},
      {"5 aes-256 000102030405060708090a0b0c0d0e0f", errc::bad_key,
       "AES256-CMAC key must be 32 bytes, not 16"},
      {"5 md5 pass#word", errc::bad_key_file, "'#' inside a field (ntpd would end the line there)"},
      {"1 md5 again", errc::bad_key_file, "duplicate key id 1 (first on line 1)"},
  };
  for (const auto& r : rows) {
    const std::string shown(r.line);
    CAPTURE(shown);
    const auto err = parse_bad("1 md5 good\n# comment\n" + std::string(r.line) + "\n9 md5 after\n",
                               key_file_format::ntp_keys);
    CHECK(err.line == 3);
    CHECK(err.code == r.code);
    CHECK(err.reason == r.reason);
  }
}

TEST_CASE("ntp.keys: an ASCII key must be printable") {
  const auto err = parse_bad(
      "1 md5 ab\x01"
      "cd\n",
      key_file_format::ntp_keys);
  CHECK(err.code == errc::bad_key);
  CHECK(err.reason == "ASCII key has a character that is not printable");
  // Bytes over 0x7e too (UTF-8 here).
  CHECK(parse_bad("1 md5 gr\xc3\xbc\xc3\x9f\n", key_file_format::ntp_keys).code == errc::bad_key);
}

TEST_CASE("ntp.keys: a chrony comment character starts no comment") {
  const auto err = parse_bad("1 md5 a\n; not a comment for ntpd\n", key_file_format::ntp_keys);
  CHECK(err.line == 2);
  CHECK(err.code == errc::bad_key_file);
}

// ---- chrony.keys -------------------------------------------------------------------------------

TEST_CASE("chrony.keys: every type, the default MD5, and the ASCII:/HEX:/no prefix forms") {
  const auto f = parse_ok(
      "10 tulip\n"
      "11 MD5 ASCII:crocus\n"
      "12 SHA1 HEX:00112233445566778899AABBCCDDEEFF00112233\n"
      "13 SHA256 HEX:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
      "14 SHA384 plain-ascii-key-of-any-length-even-over-twenty\n"
      "15 SHA512 ASCII:HEX:literally\n"
      "16 SHA3-224 k1\n"
      "17 SHA3-256 k2\n"
      "18 SHA3-384 k3\n"
      "19 SHA3-512 k4\n"
      "20 AES128 HEX:000102030405060708090A0B0C0D0E0F\n"
      "21 AES256 HEX:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
      "22 AES128 ASCII:0123456789abcdef\n"
      "4294967295 MD5 highest-id\n");
  CHECK(f.format == key_file_format::chrony_keys);
  CHECK(f.detection == "line 1 has no type field (chrony.keys)");
  REQUIRE(f.keys.size() == 14);
  CHECK(algorithm_of(f, 10) == mac_algorithm::md5);
  CHECK(secret_of(f, 10) == ascii("tulip"));
  CHECK(secret_of(f, 11) == ascii("crocus"));
  CHECK(algorithm_of(f, 12) == mac_algorithm::sha1);
  CHECK(secret_of(f, 12) == hex("00112233445566778899AABBCCDDEEFF00112233"));
  CHECK(algorithm_of(f, 13) == mac_algorithm::sha256);
  CHECK(secret_of(f, 13).size() == 32);
  CHECK(algorithm_of(f, 14) == mac_algorithm::sha384);
  CHECK(secret_of(f, 14) == ascii("plain-ascii-key-of-any-length-even-over-twenty"));
  CHECK(secret_of(f, 15) == ascii("HEX:literally"));
  CHECK(algorithm_of(f, 16) == mac_algorithm::sha3_224);
  CHECK(algorithm_of(f, 17) == mac_algorithm::sha3_256);
  CHECK(algorithm_of(f, 18) == mac_algorithm::sha3_384);
  CHECK(algorithm_of(f, 19) == mac_algorithm::sha3_512);
  CHECK(algorithm_of(f, 20) == mac_algorithm::aes128_cmac);
  CHECK(secret_of(f, 20) == hex("000102030405060708090A0B0C0D0E0F"));
  CHECK(algorithm_of(f, 21) == mac_algorithm::aes256_cmac);
  CHECK(secret_of(f, 22) == ascii("0123456789abcdef"));
  CHECK(f.find(4294967295u) != nullptr);
  CHECK(f.find(9) == nullptr);
  CHECK(f.find(0) == nullptr);
}

TEST_CASE("chrony.keys: comment lines of four kinds, blank lines, CRLF; '#' inside a key") {
  // chrony's CPS_NormalizeLine skips lines whose first non-blank is one of ! ; # %.
  const auto f = parse_ok(
      "! bang\r\n"
      "; semicolon\n"
      "  % percent\n"
      "# hash\n"
      "\n"
      "1 MD5 HEX:0102\r\n"
      "2 SHA1 pass#word\n");
  CHECK(f.format == key_file_format::chrony_keys);
  REQUIRE(f.keys.size() == 2);
  CHECK(secret_of(f, 1) == hex("0102"));
  CHECK(secret_of(f, 2) == ascii("pass#word"));  // chrony has no trailing comments
}

TEST_CASE("chrony.keys: bad lines are refused with their line number and a reason") {
  struct row {
    const char* line;
    errc code;
    const char* reason;
  };
  const row rows[] = {
      {"0 MD5 HEX:01", errc::bad_key_file, "key id 0 is reserved"},
      {"99999999999 MD5 HEX:01", errc::bad_key_file, "key id is over 4294967295"},
      {"5", errc::bad_key_file, "expected 'ID [TYPE] KEY'"},
      {"5 MD5 HEX:01 # comment", errc::bad_key_file,
       "too many fields (chrony.keys has comments only on lines of their own)"},
      {"5 md5 HEX:01", errc::unsupported_algorithm, "unknown chrony.keys type 'md5'"},
      {"5 SHA224 HEX:01", errc::unsupported_algorithm, "unknown chrony.keys type 'SHA224'"},
      {"5 TIGER HEX:01", errc::unsupported_algorithm,
       "chrony type 'TIGER' is not implemented by ntpkit"},
      {"5 WHIRLPOOL HEX:01", errc::unsupported_algorithm,
       "chrony type 'WHIRLPOOL' is not implemented by ntpkit"},
      {"5 MD5 HEX:", errc::bad_key, "empty key"},
      {"5 MD5 ASCII:", errc::bad_key, "empty key"},
      {"5 MD5 HEX:012", errc::bad_key, "hex key has an odd number of digits"},
      {"5 MD5 HEX:01zz", errc::bad_key, "hex key has a character that is not hex"},
      {"5 AES128 HEX:0102", errc::bad_key, "AES128-CMAC key must be 16 bytes, not 2"},
      {"5 AES256 HEX:000102030405060708090A0B0C0D0E0F", errc::bad_key,
       "AES256-CMAC key must be 32 bytes, not 16"},
      {"1 SHA1 HEX:01", errc::bad_key_file, "duplicate key id 1 (first on line 1)"},
  };
  for (const auto& r : rows) {
    const std::string shown(r.line);
    CAPTURE(shown);
    const auto err = parse_bad("1 MD5 HEX:01\n! comment\n" + std::string(r.line) + "\n",
                               key_file_format::chrony_keys);
    CHECK(err.line == 3);
    CHECK(err.code == r.code);
    CHECK(err.reason == r.reason);
  }
  const auto long_line = "1 MD5 " + std::string(2042, 'k');  // 2048 characters
  CHECK(parse_bad(long_line, key_file_format::chrony_keys).reason ==
        "line is over 2047 characters");
  CHECK(parse_key_file("1 MD5 " + std::string(2041, 'k'), key_file_format::chrony_keys));
}

// ---- detection ---------------------------------------------------------------------------------

TEST_CASE("detection: each chrony-only form decides chrony.keys") {
  struct row {
    const char* text;
    const char* detection;
  };
  const row rows[] = {
      {"1 MD5 a\n2 key\n", "line 2 has no type field (chrony.keys)"},
      {"1 SHA1 HEX:0102\n", "line 1 has a HEX: or ASCII: prefix (chrony.keys)"},
      {"1 SHA1 ASCII:x\n", "line 1 has a HEX: or ASCII: prefix (chrony.keys)"},
      {"1 AES128 0123456789abcdef\n",
       "line 1 has type 'AES128', which only chrony spells so (chrony.keys)"},
      {"1 AES256 0123456789abcdef0123456789abcdef\n",
       "line 1 has type 'AES256', which only chrony spells so (chrony.keys)"},
      {"% comment\n1 MD5 a\n", "line 1 is a comment starting with '!', ';' or '%' (chrony.keys)"},
      {"1 SHA1 this-is-a-long-ascii-passphrase\n",
       "line 1 has a key of over 20 characters that is not hex (chrony.keys)"},
  };
  for (const auto& r : rows) {
    const std::string shown(r.text);
    CAPTURE(shown);
    const auto f = parse_ok(r.text);
    CHECK(f.format == key_file_format::chrony_keys);
    CHECK(f.detection == r.detection);
  }
}

TEST_CASE("detection: each ntpd-only form decides ntp.keys") {
  struct row {
    const char* text;
    const char* detection;
  };
  const row rows[] = {
      {"1 MD5 a\n2 md5 b\n", "line 2 has type 'md5', which only ntpd spells so (ntp.keys)"},
      {"1 M a\n", "line 1 has type 'M', which only ntpd spells so (ntp.keys)"},
      {"1 AES 0123456789abcdef\n", "line 1 has type 'AES', which only ntpd spells so (ntp.keys)"},
      {"1 SHA224 abc\n", "line 1 has type 'SHA224', which only ntpd spells so (ntp.keys)"},
      {"1 SHA-256 abc\n", "line 1 has type 'SHA-256', which only ntpd spells so (ntp.keys)"},
      {"1 MD5 abc 10.0.0.1\n", "line 1 has a fourth field (ntp.org's address list) (ntp.keys)"},
  };
  for (const auto& r : rows) {
    const std::string shown(r.text);
    CAPTURE(shown);
    const auto f = parse_ok(r.text);
    CHECK(f.format == key_file_format::ntp_keys);
    CHECK(f.detection == r.detection);
  }
}

TEST_CASE("detection: a file neither format claims is ntp.keys, so long keys are hex") {
  // The one real ambiguity: "ID TYPE KEY" with an upper-case type both daemons know and an
  // unprefixed key of over 20 hex characters. ntpd reads 20 bytes, chrony 40 ASCII bytes.
  const std::string_view text =
      "# shared by both daemons?\n"
      "1 SHA1 933F62BE1D604E68A81B557F18CFA200483F5B70\n"
      "2 MD5 short\n";
  const auto f = parse_ok(text);
  CHECK(f.format == key_file_format::ntp_keys);
  CHECK(f.detection == "no line is specific to either format; read as ntp.keys");
  CHECK(secret_of(f, 1).size() == 20);
  // Forcing chrony.keys reads the same text the way chronyd does.
  auto c = parse_key_file(text, key_file_format::chrony_keys);
  REQUIRE(c);
  CHECK(c->detection == "given by the caller");
  CHECK(secret_of(*c, 1) == ascii("933F62BE1D604E68A81B557F18CFA200483F5B70"));
  CHECK(secret_of(*c, 2) == secret_of(f, 2));
}

TEST_CASE("detection: mixed formats are refused at the first line that contradicts") {
  const auto err = parse_bad(
      "1 MD5 neutral\n"
      "2 SHA1 HEX:0102\n"  // decides chrony.keys
      "3 SHA1 HEX:0304\n"
      "4 md5 abc\n");  // contradicts
  CHECK(err.line == 4);
  CHECK(err.code == errc::bad_key_file);
  CHECK(err.reason ==
        "mixed formats: line 4 has type 'md5', which only ntpd spells so (ntp.keys) but line 2 "
        "has a HEX: or ASCII: prefix (chrony.keys)");
  // And the other way round.
  const auto err2 = parse_bad("1 aes 0123456789abcdef\n\n# c\n2 AES128 0123456789abcdef\n");
  CHECK(err2.line == 4);
  CHECK(err2.reason.starts_with("mixed formats: line 4 has type 'AES128'"));
}

TEST_CASE("detection ignores a trailing comment; the chosen format then judges it") {
  // chrony.keys has no trailing comments: in a chrony file the line is an error...
  const auto err = parse_bad("1 SHA1 HEX:0102\n2 SHA1 HEX:0304 # second key\n");
  CHECK(err.line == 2);
  CHECK(err.reason == "too many fields (chrony.keys has comments only on lines of their own)");
  // ... in an ntp.keys file it is a comment.
  const auto f = parse_ok("1 sha1 abc # first key\n");
  CHECK(secret_of(f, 1) == ascii("abc"));
}

TEST_CASE("an empty file or one of comments only is an empty ntp.keys file") {
  for (const char* text : {"", "\n\n", "# nothing\n   \n"}) {
    const auto f = parse_ok(text);
    CHECK(f.keys.empty());
    CHECK(f.format == key_file_format::ntp_keys);
  }
}

// ---- errors and policies -----------------------------------------------------------------------

TEST_CASE("errors print as PATH:LINE: reason and never contain the key") {
  const auto err = parse_bad("1 aes SECRETxyz\n");
  CHECK(to_string(err, "/etc/ntp.keys") ==
        "/etc/ntp.keys:1: AES128-CMAC key must be 16 bytes, not 9");
  for (const char* text : {"1 aes SECRETxyz\n", "1 MD5 HEX:SECRETxyz\n", "1 MD5 SECRETxyz a b c\n",
                           "1 md5 SECRETxyz#\n", "1 AES128 ASCII:SECRETxyz\n",
                           "1 md5 SECRETxyzSECRETxyzSECRETxyz\n"}) {
    const std::string shown(text);
    CAPTURE(shown);
    const auto e = parse_bad(text);
    CHECK(e.reason.find("SECRET") == std::string::npos);
  }
}

TEST_CASE("default_mac_policy: ntp.keys truncates to 20 in NTPv4, chrony.keys sends NTPv3") {
  CHECK(default_mac_policy(key_file_format::ntp_keys) ==
        mac_policy{digest_length::truncate_20, false});
  CHECK(default_mac_policy(key_file_format::chrony_keys) == mac_policy{digest_length::full, true});
  CHECK(to_string(key_file_format::ntp_keys) == "ntp.keys");
  CHECK(to_string(key_file_format::chrony_keys) == "chrony.keys");
}
