#pragma once

// An IP address as a compact value (17 bytes, no heap): what a capture saw on the wire, used
// as a key by the client census. An IPv4 address is held as its IPv4-mapped IPv6 form
// (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) with family ipv4, so both families share one layout and
// one hash; an IPv6 packet whose address happens to be ::ffff:a.b.c.d stays family ipv6.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "ntpkit/export.hpp"
#include "ntpkit/model/run.hpp"

namespace ntpkit::model {

/// An IPv4 or IPv6 address.
struct ip_address {
  std::array<std::uint8_t, 16> octets{};  ///< IPv6 order; IPv4 as ::ffff:a.b.c.d
  model::family family = model::family::ipv4;

  /// The IPv4 address a.b.c.d from its 4 octets in network order.
  static constexpr ip_address v4(std::span<const std::uint8_t, 4> a) noexcept {
    ip_address r;
    r.octets[10] = 0xff;
    r.octets[11] = 0xff;
    for (std::size_t i = 0; i < 4; ++i) r.octets[12 + i] = a[i];
    return r;
  }
  /// The IPv6 address from its 16 octets in network order.
  static constexpr ip_address v6(std::span<const std::uint8_t, 16> a) noexcept {
    ip_address r;
    for (std::size_t i = 0; i < 16; ++i) r.octets[i] = a[i];
    r.family = model::family::ipv6;
    return r;
  }
  /// The IPv4 address as a 32-bit number (a << 24 | ...); 0 for IPv6.
  constexpr std::uint32_t v4_value() const noexcept {
    if (family != model::family::ipv4) return 0;
    return std::uint32_t{octets[12]} << 24 | std::uint32_t{octets[13]} << 16 |
           std::uint32_t{octets[14]} << 8 | octets[15];
  }
  friend constexpr bool operator==(const ip_address&, const ip_address&) = default;
  friend constexpr auto operator<=>(const ip_address&, const ip_address&) = default;
};

/// True for a multicast, broadcast (255.255.255.255) or unspecified (0.0.0.0, ::) address:
/// never the source of a real client's request.
NTPKIT_API bool is_multicast_broadcast_or_unspecified(const ip_address& a) noexcept;

/// True for 127.0.0.0/8 and ::1.
NTPKIT_API bool is_loopback(const ip_address& a) noexcept;

/// Numeric text: "192.0.2.1" or the RFC 5952 form "2001:db8::1".
NTPKIT_API std::string to_string(const ip_address& a);

/// Parses numeric text ("192.0.2.1", "2001:db8::1"); false when `text` is neither.
NTPKIT_API bool parse_ip_address(const std::string& text, ip_address& out) noexcept;

}  // namespace ntpkit::model
