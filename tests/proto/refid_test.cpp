#include "ntpkit/proto/refid.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <string_view>

using namespace ntpkit::proto;

namespace {

using refid = std::array<std::uint8_t, 4>;

// Four characters as refid bytes.
refid ascii(std::string_view s) {
  REQUIRE(s.size() == 4);
  return {static_cast<std::uint8_t>(s[0]), static_cast<std::uint8_t>(s[1]),
          static_cast<std::uint8_t>(s[2]), static_cast<std::uint8_t>(s[3])};
}

}  // namespace

TEST_CASE("stratum 0 refids are kiss codes with their RFC 5905 meaning") {
  // RFC 5905 §7.4 Figure 13: RATE, DENY and RSTR are the codes a client must act on.
  for (const char* code : {"RATE", "DENY", "RSTR"}) {
    CAPTURE(code);
    const auto info = decode_refid(ascii(code), 0);
    CHECK(info.kind == refid_kind::kiss_code);
    CHECK(info.text == code);
    CHECK_FALSE(info.meaning.empty());
    CHECK(info.meaning == kiss_code_meaning(code));
  }
  CHECK(kiss_code_meaning("RATE").find("rate") != std::string_view::npos);
  CHECK(kiss_code_meaning("DENY").find("denied") != std::string_view::npos);
  CHECK_FALSE(kiss_code_meaning("NTSN").empty());  // RFC 8915 §5.7
}

TEST_CASE("an unknown kiss code is shown verbatim with no meaning") {
  // The code is the server's word: an unknown one must still be shown as sent, neither
  // dropped nor mapped to a known code.
  const auto info = decode_refid(ascii("ZQX9"), 0);
  CHECK(info.kind == refid_kind::kiss_code);
  CHECK(info.text == "ZQX9");
  CHECK(info.meaning.empty());
  // Kiss codes shorter than four characters are NUL-padded on the wire.
  CHECK(decode_refid({'A', 'B', 0, 0}, 0).text == "AB");
}

TEST_CASE("stratum 1 refids name the reference source, trailing NULs dropped") {
  // RFC 5905 Figure 12: "GPS", "PPS", "DCF" are left-justified and zero-padded.
  struct row {
    refid r;
    const char* text;
  };
  for (const auto& [r, text] : {row{{'G', 'P', 'S', 0}, "GPS"}, row{{'P', 'P', 'S', 0}, "PPS"},
                                row{{'D', 'C', 'F', 0}, "DCF"}, row{ascii("GOES"), "GOES"}}) {
    CAPTURE(text);
    const auto info = decode_refid(r, 1);
    CHECK(info.kind == refid_kind::reference_source);
    CHECK(info.text == text);
    CHECK_FALSE(info.meaning.empty());
    CHECK(info.meaning == reference_source_meaning(text));
  }
  CHECK(reference_source_meaning("GPS").find("Global Positioning") != std::string_view::npos);
  CHECK(reference_source_meaning("XYZ").empty());
}

TEST_CASE("unprintable refid bytes are escaped as \\xNN, a backslash too") {
  // Pins that an embedded NUL does not end the text (only trailing NULs are padding), and
  // that a literal backslash is escaped so the output stays unambiguous.
  CHECK(decode_refid({'G', 0, 'P', 'S'}, 1).text == "G\\x00PS");
  CHECK(decode_refid({'A', 0x01, 0xff, '\\'}, 1).text == "A\\x01\\xff\\x5c");
  CHECK(decode_refid({0x7f, 'X', 0, 0}, 0).text == "\\x7fX");
}

TEST_CASE("stratum 2..15 refids are IPv4 addresses as dotted quads") {
  // ntpsec tests/libntp/macencrypt.c IPv4AddressToRefId: 192.0.2.1 is refid c0000201.
  const auto info = decode_refid({0xc0, 0x00, 0x02, 0x01}, 2);
  CHECK(info.kind == refid_kind::ipv4);
  CHECK(info.text == "192.0.2.1");
  CHECK(info.meaning.empty());
  CHECK(decode_refid({10, 0, 0, 1}, 15).text == "10.0.0.1");
  // Letters at stratum 2 are still an address: 71.80.83.0 is not "GPS".
  CHECK(decode_refid({'G', 'P', 'S', 0}, 2).text == "71.80.83.0");
}

TEST_CASE("stratum 16 shows INIT as a source name and addresses as addresses") {
  // An unsynchronised ntpd answers stratum 16 with refid INIT (RFC 5905 Figure 13 lists
  // INIT); once it has picked an upstream but is still unsynchronised, the refid can be
  // that upstream's address, whose bytes are not all printable.
  const auto init = decode_refid(ascii("INIT"), 16);
  CHECK(init.kind == refid_kind::reference_source);
  CHECK(init.text == "INIT");
  CHECK(init.meaning == kiss_code_meaning("INIT"));
  const auto addr = decode_refid({127, 0, 0, 1}, 16);
  CHECK(addr.kind == refid_kind::ipv4);
  CHECK(addr.text == "127.0.0.1");
}

TEST_CASE("a first octet of 0 or 224 and above cannot be IPv4: it is an IPv6 hash") {
  for (const std::uint8_t first : {std::uint8_t{0}, std::uint8_t{224}, std::uint8_t{255}}) {
    CAPTURE(int(first));
    const auto info = decode_refid({first, 0x12, 0x34, 0x56}, 3);
    CHECK(info.kind == refid_kind::ipv6_hash);
    CHECK(info.text.size() == 8);
  }
  CHECK(decode_refid({0x00, 0x12, 0x34, 0x56}, 3).text == "00123456");
  CHECK(decode_refid({0xe0, 0xab, 0xcd, 0xef}, 3).text == "e0abcdef");
  CHECK(decode_refid({223, 0, 0, 1}, 3).kind == refid_kind::ipv4);
}

TEST_CASE("an all-zero refid is none at every stratum") {
  for (const int stratum : {0, 1, 2, 16}) {
    CAPTURE(stratum);
    const auto info = decode_refid({}, static_cast<std::uint8_t>(stratum));
    CHECK(info.kind == refid_kind::none);
    CHECK(info.text.empty());
  }
}

TEST_CASE("refid_of_ipv6 is the first four octets of MD5 of the address") {
  // ntpsec tests/libntp/macencrypt.c IPv6AddressToRefId (transcribed via
  // ntp-symmetric-mac.json): 2001:db8:85a3:8d3:1319:8a2e:370:7334 -> 52fdcf75.
  constexpr std::array<std::uint8_t, 16> doc_addr{0x20, 0x01, 0x0d, 0xb8, 0x85, 0xa3, 0x08, 0xd3,
                                                  0x13, 0x19, 0x8a, 0x2e, 0x03, 0x70, 0x73, 0x34};
  const auto r = refid_of_ipv6(doc_addr);
  CHECK(r == std::array<std::uint8_t, 4>{0x52, 0xfd, 0xcf, 0x75});
  // That hash starts with 0x52, so decode_refid cannot tell it from 82.253.207.117: the
  // ambiguity refid_of_ipv6 exists to resolve against candidate addresses.
  CHECK(decode_refid(r, 2).kind == refid_kind::ipv4);
  CHECK(decode_refid(r, 2).text == "82.253.207.117");

  // ::1 -> cf404dc8 (Python hashlib.md5 of the 16 address bytes).
  std::array<std::uint8_t, 16> loopback{};
  loopback[15] = 1;
  const auto lo = refid_of_ipv6(loopback);
  CHECK(lo == std::array<std::uint8_t, 4>{0xcf, 0x40, 0x4d, 0xc8});
}
