#include "ntpkit/proto/refid.hpp"

#include "crypto.hpp"
#include "dotted_quad.hpp"
#include "escape.hpp"


#include <algorithm>
#include <cstdio>
#include <memory>

namespace ntpkit::proto {
namespace {

struct code_meaning {
  std::string_view code;
  std::string_view meaning;
};

// RFC 5905 §7.4, Figure 13; NTSN from RFC 8915 §5.7.
constexpr code_meaning kiss_codes[] = {
    {"ACST", "the association belongs to a unicast server"},
    {"AUTH", "server authentication failed"},
    {"AUTO", "autokey sequence failed"},
    {"BCST", "the association belongs to a broadcast server"},
    {"CRYP", "cryptographic authentication or identification failed"},
    {"DENY", "access denied by remote server"},
    {"DROP", "lost peer in symmetric mode"},
    {"RSTR", "access denied due to local policy"},
    {"INIT", "the association has not yet synchronized for the first time"},
    {"MCST", "the association belongs to a dynamically discovered server"},
    {"NKEY", "no key found"},
    {"NTSN", "NTS negative acknowledgment (NAK)"},
    {"RATE", "rate exceeded: the client must send less often"},
    {"RMOT", "alteration of association from a remote host running ntpdc"},
    {"STEP", "a step change in system time has occurred"},
};

// RFC 5905 §7.3, Figure 12, and names that refclock drivers of ntpd, NTPsec and chrony use.
constexpr code_meaning sources[] = {
    {"GOES", "Geosynchronous Orbit Environment Satellite"},
    {"GPS", "Global Positioning System"},
    {"GAL", "Galileo Positioning System"},
    {"GLN", "GLONASS"},
    {"BDS", "BeiDou Navigation Satellite System"},
    {"GNSS", "Global Navigation Satellite System"},
    {"PPS", "generic pulse-per-second"},
    {"IRIG", "Inter-Range Instrumentation Group"},
    {"WWVB", "LF radio WWVB Ft. Collins, CO 60 kHz"},
    {"DCF", "LF radio DCF77 Mainflingen, DE 77.5 kHz"},
    {"HBG", "LF radio HBG Prangins, HB 75 kHz"},
    {"MSF", "LF radio MSF Anthorn, UK 60 kHz"},
    {"JJY", "LF radio JJY Fukushima, JP 40 kHz, Saga, JP 60 kHz"},
    {"LORC", "MF radio LORAN C station, 100 kHz"},
    {"TDF", "MF radio Allouis, FR 162 kHz"},
    {"CHU", "HF radio CHU Ottawa, Ontario"},
    {"WWV", "HF radio WWV Ft. Collins, CO"},
    {"WWVH", "HF radio WWVH Kauai, HI"},
    {"NIST", "NIST telephone modem"},
    {"ACTS", "NIST telephone modem"},
    {"USNO", "USNO telephone modem"},
    {"PTB", "European telephone modem"},
    {"LOCL", "local clock (undisciplined)"},
    {"LOCAL", "local clock (undisciplined)"},
    {"ATOM", "atomic clock"},
    {"SHM", "shared-memory reference clock"},
    {"PHC", "PTP hardware clock"},
    {"PTP", "Precision Time Protocol"},
    {"NMEA", "GPS receiver (NMEA)"},
    {"GPSD", "GPS receiver via gpsd"},
    {"SOCK", "chrony SOCK reference clock"},
    {"ROOT", "root server (ntpd orphan/local)"},
    {"XFAC", "interface changed (ntpd)"},
    {"POOL", "pool association (ntpd)"},
    {"DNS", "DNS lookup pending (ntpd)"},
};

std::string_view lookup(std::span<const code_meaning> table, std::string_view code) {
  for (const auto& row : table) {
    if (row.code == code) return row.meaning;
  }
  return {};
}

std::string ascii_text(const std::array<std::uint8_t, 4>& r) {
  std::size_t n = 4;
  while (n > 0 && r[n - 1] == 0) --n;
  return detail::escape_bytes(
      std::string_view(reinterpret_cast<const char*>(r.data()), n));
}

bool is_printable_code(const std::array<std::uint8_t, 4>& r) {
  std::size_t n = 4;
  while (n > 0 && r[n - 1] == 0) --n;
  if (n == 0) return false;
  for (std::size_t i = 0; i < n; ++i) {
    if (r[i] < 0x20 || r[i] >= 0x7f) return false;
  }
  return true;
}

std::string hex_text(const std::array<std::uint8_t, 4>& r) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
  return buf;
}

}  // namespace

std::string_view kiss_code_meaning(std::string_view code) noexcept {
  return lookup(kiss_codes, code);
}

std::string_view reference_source_meaning(std::string_view code) noexcept {
  return lookup(sources, code);
}

namespace detail {

std::string dotted_quad(const std::array<std::uint8_t, 4>& octets) {
  char text[16];
  char* p = text;
  for (std::size_t i = 0; i < octets.size(); ++i) {
    if (i != 0) *p++ = '.';
    const unsigned v = octets[i];
    if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
  }
  return std::string(text, p);
}

}  // namespace detail

refid_info decode_refid(std::array<std::uint8_t, 4> r, std::uint8_t stratum) {
  if (r == std::array<std::uint8_t, 4>{}) return {};
  if (stratum == 0) {
    auto text = ascii_text(r);
    auto meaning = kiss_code_meaning(text);
    return {refid_kind::kiss_code, std::move(text), meaning};
  }
  // Stratum 1 names its source; unsynchronised servers (16) put a state such as INIT there.
  if (stratum == 1 || (stratum >= 16 && is_printable_code(r))) {
    auto text = ascii_text(r);
    auto meaning = stratum == 1 ? reference_source_meaning(text) : kiss_code_meaning(text);
    return {refid_kind::reference_source, std::move(text), meaning};
  }
  if (r[0] == 0 || r[0] >= 224) return {refid_kind::ipv6_hash, hex_text(r), {}};
  return {refid_kind::ipv4, detail::dotted_quad(r), {}};
}

std::array<std::uint8_t, 4> refid_of_ipv6(std::span<const std::uint8_t, 16> address) {
  std::array<std::uint8_t, 4> out{};
  const auto* c = detail::crypto();
  if (c == nullptr) return out;
  EVP_MD* md5 = c->EVP_MD_fetch(nullptr, "MD5", nullptr);
  std::unique_ptr<EVP_MD_CTX, decltype(c->EVP_MD_CTX_free)> ctx(c->EVP_MD_CTX_new(),
                                                                c->EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (md5 != nullptr && ctx && c->EVP_DigestInit_ex2(ctx.get(), md5, nullptr) == 1 &&
      c->EVP_DigestUpdate(ctx.get(), address.data(), address.size()) == 1 &&
      c->EVP_DigestFinal_ex(ctx.get(), digest, &size) == 1 && size >= 4) {
    std::copy_n(digest, 4, out.begin());
  }
  if (md5 != nullptr) c->EVP_MD_free(md5);
  return out;
}

}  // namespace ntpkit::proto
