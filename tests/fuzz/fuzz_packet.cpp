// Fuzz target: proto::parse_packet and proto::mac_offset over any datagram (RFC 5905 §7.3
// header, RFC 7822 extension fields, MAC or crypto-NAK trailer).
//
// Invariants, after ntpd-rs's packet_parsing_sound:
// - parse_packet and mac_offset accept the same datagrams and fail with the same errc;
// - an accepted datagram serializes back to the identical bytes, and those bytes parse to an
//   equal packet;
// - the MAC starts where mac_offset says, and everything before it is header and fields;
// - the shapes RFC 7822 allows: fields only in NTPv4, each at least 16 bytes and a multiple
//   of 4; a trailer of 4 bytes (crypto-NAK) or a key id and a 16..64-byte digest.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_check.hpp"
#include "ntpkit/proto/bytes.hpp"
#include "ntpkit/proto/errc.hpp"
#include "ntpkit/proto/packet.hpp"

namespace {

using namespace ntpkit::proto;

void check_rejected(std::span<const std::uint8_t> in, std::error_code parse_error,
                    std::error_code offset_error) {
  NTPKIT_FUZZ_CHECK(parse_error == offset_error);
  NTPKIT_FUZZ_CHECK(parse_error.category() == proto_category());
  NTPKIT_FUZZ_CHECK(parse_error == errc::truncated || parse_error == errc::bad_extension_field ||
                    parse_error == errc::bad_mac_length);
  NTPKIT_FUZZ_CHECK((in.size() < header_size) == (parse_error == errc::truncated));
}

void check_header(std::span<const std::uint8_t> in, const packet& p) {
  NTPKIT_FUZZ_CHECK(static_cast<unsigned>(p.leap) == in[0] >> 6u);
  NTPKIT_FUZZ_CHECK(p.version == ((in[0] >> 3u) & 7u));
  NTPKIT_FUZZ_CHECK(static_cast<unsigned>(p.mode) == (in[0] & 7u));
  NTPKIT_FUZZ_CHECK(p.stratum == in[1]);
  NTPKIT_FUZZ_CHECK(p.root_delay.bits() == load_be32(in, 4));
  NTPKIT_FUZZ_CHECK(p.root_dispersion.bits() == load_be32(in, 8));
  NTPKIT_FUZZ_CHECK(std::equal(p.refid.begin(), p.refid.end(), in.begin() + 12));
  NTPKIT_FUZZ_CHECK(p.reference.bits() == load_be64(in, 16));
  NTPKIT_FUZZ_CHECK(p.origin.bits() == load_be64(in, 24));
  NTPKIT_FUZZ_CHECK(p.receive.bits() == load_be64(in, 32));
  NTPKIT_FUZZ_CHECK(p.transmit.bits() == load_be64(in, 40));
}

void check_layout(std::span<const std::uint8_t> in, const packet& p, std::size_t mac_at) {
  NTPKIT_FUZZ_CHECK(p.version == 4 || p.extensions.empty());
  std::size_t at = header_size;
  for (const auto& f : p.extensions) {
    NTPKIT_FUZZ_CHECK(f.value.size() + 4 >= 16 && f.value.size() % 4 == 0);
    NTPKIT_FUZZ_CHECK(load_be16(in, at) == f.type);
    NTPKIT_FUZZ_CHECK(load_be16(in, at + 2) == f.value.size() + 4);
    at += 4 + f.value.size();
  }
  NTPKIT_FUZZ_CHECK(at == mac_at);
  if (!p.mac) {
    NTPKIT_FUZZ_CHECK(mac_at == in.size());
    return;
  }
  const auto n = p.mac->digest.size();
  NTPKIT_FUZZ_CHECK(p.mac->is_crypto_nak() == (n == 0));
  NTPKIT_FUZZ_CHECK(n == 0 || (n >= 16 && n + 4 <= max_mac_size && n % 4 == 0));
  NTPKIT_FUZZ_CHECK(in.size() - mac_at == 4 + n);
  NTPKIT_FUZZ_CHECK(load_be32(in, mac_at) == p.mac->key_id);
  NTPKIT_FUZZ_CHECK(
      std::equal(p.mac->digest.begin(), p.mac->digest.end(), in.begin() + mac_at + 4));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);
  const auto parsed = parse_packet(in);
  const auto mac_at = mac_offset(in);
  NTPKIT_FUZZ_CHECK(parsed.has_value() == mac_at.has_value());
  if (!parsed) {
    check_rejected(in, parsed.error(), mac_at.error());
    return 0;
  }
  const packet& p = *parsed;
  check_header(in, p);
  check_layout(in, p, *mac_at);

  NTPKIT_FUZZ_CHECK(serialized_size(p) == size);
  const auto out = serialize_packet(p);
  NTPKIT_FUZZ_CHECK(out.size() == size && std::equal(out.begin(), out.end(), in.begin()));
  const auto again = parse_packet(out);
  NTPKIT_FUZZ_CHECK(again.has_value() && *again == p);
  return 0;
}
