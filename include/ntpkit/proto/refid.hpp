#pragma once

// Reference identifiers (RFC 5905 §7.3): kiss codes at stratum 0, reference source names at
// stratum 1, the upstream's IPv4 address or the hash of its IPv6 address above.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "ntpkit/export.hpp"

namespace ntpkit::proto {

/// What a reference id holds.
enum class refid_kind {
  none,              ///< all zero
  kiss_code,         ///< stratum 0: a Kiss-o'-Death code (RFC 5905 §7.4)
  reference_source,  ///< stratum 1 (and unsynchronised servers' .INIT. etc.): ASCII name
  ipv4,              ///< stratum >= 2: the upstream's IPv4 address
  ipv6_hash,         ///< stratum >= 2: first 32 bits of MD5 of the upstream's IPv6 address
};

/// A decoded reference id.
struct refid_info {
  refid_kind kind = refid_kind::none;
  /// Kiss code or source name (trailing NULs dropped, other unprintable bytes as \xNN), the
  /// dotted quad for ipv4, or 8 hex digits for ipv6_hash; empty for none.
  std::string text;
  /// What the code or source means ("GPS: Global Positioning System"), empty if unknown.
  std::string_view meaning;
};

/// Decodes `refid` as the server at `stratum` meant it. At stratum >= 2 a value whose first
/// octet cannot start a unicast IPv4 address (0, or 224 and above) is reported as an IPv6
/// hash; any other value may still be one (the wire does not say), which refid_of_ipv6 lets a
/// caller test against candidate addresses.
NTPKIT_API refid_info decode_refid(std::array<std::uint8_t, 4> refid, std::uint8_t stratum);

/// The refid a server synchronised to IPv6 address `address` sends: the first four octets of
/// the MD5 digest of the 16 address bytes (RFC 5905 §7.3, as ntpd and chrony compute it).
NTPKIT_API std::array<std::uint8_t, 4> refid_of_ipv6(std::span<const std::uint8_t, 16> address);

/// RFC 5905 Figure 13 (plus NTS's NTSN, RFC 8915): meaning of a kiss code, or empty.
NTPKIT_API std::string_view kiss_code_meaning(std::string_view code) noexcept;

/// RFC 5905 Figure 12 and common refclock names: meaning of a stratum 1 refid, or empty.
NTPKIT_API std::string_view reference_source_meaning(std::string_view code) noexcept;

}  // namespace ntpkit::proto
