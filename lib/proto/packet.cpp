#include "ntpkit/proto/packet.hpp"

#include <algorithm>

#include "ntpkit/proto/bytes.hpp"
#include "ntpkit/proto/errc.hpp"

namespace ntpkit::proto {
namespace {

// RFC 7822 §3: an extension field is at least 16 bytes and a multiple of 4.
constexpr std::size_t min_extension_size = 16;

struct field_span {
  std::size_t at;
  std::size_t size;  // including the 4-byte type/length header
};

struct layout {
  std::vector<field_span> fields;
  std::size_t mac_at;  // == datagram size when there is no trailer
};

bool is_mac_size(std::size_t n) {
  // 4: crypto-NAK (key id only); else key id + a digest of 16..64 bytes.
  return n == 4 || (n >= 4 + 16 && n <= max_mac_size && n % 4 == 0);
}

// The length of the valid extension field at `at`, or 0 when the bytes there are not one.
std::size_t extension_at(std::span<const std::uint8_t> d, std::size_t at) {
  if (d.size() - at < 4) return 0;
  const std::size_t length = load_be16(d, at + 2);
  if (length < min_extension_size || length % 4 != 0 || length > d.size() - at) return 0;
  return length;
}

// Splits the bytes after the header into extension fields and a trailer, as chrony's
// parse_packet does: fields only in NTPv4 and only while more than a MAC's worth remains.
// Like chrony, a longer trailer that is no field is taken as a legacy MAC (older chrony
// clients sent SHA256 MACs in NTPv4) only directly after the header; behind a field, RFC 7822
// limits the MAC to 24 bytes, so such bytes are a malformed field.
result<layout> split(std::span<const std::uint8_t> d) {
  if (d.size() < header_size) return errc::truncated;
  const std::uint8_t version = (d[0] >> 3) & 7;
  layout out;
  std::size_t at = header_size;
  bool stopped_on_bad_field = false;
  if (version == 4) {
    while (d.size() - at > max_v4_mac_size) {
      const std::size_t length = extension_at(d, at);
      if (length == 0) {
        if (!out.fields.empty()) return errc::bad_extension_field;
        stopped_on_bad_field = true;
        break;
      }
      out.fields.push_back({at, length});
      at += length;
    }
  }
  const std::size_t rest = d.size() - at;
  if (rest != 0 && !is_mac_size(rest)) {
    return stopped_on_bad_field ? errc::bad_extension_field : errc::bad_mac_length;
  }
  out.mac_at = at;
  return out;
}

}  // namespace

result<packet> parse_packet(std::span<const std::uint8_t> d) {
  auto shape = split(d);
  if (!shape) return shape.error();
  packet p;
  p.leap = static_cast<leap_indicator>(d[0] >> 6);
  p.version = (d[0] >> 3) & 7;
  p.mode = static_cast<association_mode>(d[0] & 7);
  p.stratum = d[1];
  p.poll = static_cast<std::int8_t>(d[2]);
  p.precision = static_cast<std::int8_t>(d[3]);
  p.root_delay = short_duration::from_bits(load_be32(d, 4));
  p.root_dispersion = short_duration::from_bits(load_be32(d, 8));
  std::copy_n(d.begin() + 12, 4, p.refid.begin());
  p.reference = timestamp::from_bits(load_be64(d, 16));
  p.origin = timestamp::from_bits(load_be64(d, 24));
  p.receive = timestamp::from_bits(load_be64(d, 32));
  p.transmit = timestamp::from_bits(load_be64(d, 40));
  p.extensions.reserve(shape->fields.size());
  for (const auto& f : shape->fields) {
    const auto value = d.subspan(f.at + 4, f.size - 4);
    p.extensions.push_back({load_be16(d, f.at), {value.begin(), value.end()}});
  }
  if (shape->mac_at != d.size()) {
    const auto digest = d.subspan(shape->mac_at + 4);
    p.mac = mac_field{load_be32(d, shape->mac_at), {digest.begin(), digest.end()}};
  }
  return p;
}

std::size_t serialized_size(const packet& p) noexcept {
  std::size_t n = header_size;
  for (const auto& f : p.extensions) n += 4 + f.value.size();
  if (p.mac) n += 4 + p.mac->digest.size();
  return n;
}

std::vector<std::uint8_t> serialize_packet(const packet& p) {
  std::vector<std::uint8_t> out(serialized_size(p));
  std::span<std::uint8_t> b(out);
  b[0] = static_cast<std::uint8_t>((static_cast<unsigned>(p.leap) << 6) | ((p.version & 7u) << 3) |
                                   (static_cast<unsigned>(p.mode) & 7u));
  b[1] = p.stratum;
  b[2] = static_cast<std::uint8_t>(p.poll);
  b[3] = static_cast<std::uint8_t>(p.precision);
  store_be32(b, 4, p.root_delay.bits());
  store_be32(b, 8, p.root_dispersion.bits());
  std::copy(p.refid.begin(), p.refid.end(), b.begin() + 12);
  store_be64(b, 16, p.reference.bits());
  store_be64(b, 24, p.origin.bits());
  store_be64(b, 32, p.receive.bits());
  store_be64(b, 40, p.transmit.bits());
  std::size_t at = header_size;
  for (const auto& f : p.extensions) {
    store_be16(b, at, f.type);
    store_be16(b, at + 2, static_cast<std::uint16_t>(f.value.size() + 4));
    std::copy(f.value.begin(), f.value.end(), b.begin() + static_cast<std::ptrdiff_t>(at + 4));
    at += 4 + f.value.size();
  }
  if (p.mac) {
    store_be32(b, at, p.mac->key_id);
    std::copy(p.mac->digest.begin(), p.mac->digest.end(),
              b.begin() + static_cast<std::ptrdiff_t>(at + 4));
  }
  return out;
}

result<std::size_t> mac_offset(std::span<const std::uint8_t> datagram) {
  auto shape = split(datagram);
  if (!shape) return shape.error();
  return shape->mac_at;
}

packet make_client_request(timestamp transmit, std::uint8_t version) noexcept {
  packet p;
  p.version = version;
  p.mode = association_mode::client;
  p.transmit = transmit;
  return p;
}

}  // namespace ntpkit::proto
