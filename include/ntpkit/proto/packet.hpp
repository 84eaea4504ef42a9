#pragma once

// The NTP packet (RFC 5905 §7.3), its extension fields (RFC 7822) and the trailing MAC.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/proto/timestamp.hpp"
#include "ntpkit/result.hpp"

namespace ntpkit::proto {

/// RFC 5905 §7.3 leap indicator.
enum class leap_indicator : std::uint8_t {
  none = 0,          ///< no warning
  add_second = 1,    ///< last minute of the day has 61 seconds
  del_second = 2,    ///< last minute of the day has 59 seconds
  unsynchronised = 3 ///< clock not synchronised (alarm)
};

/// RFC 5905 §7.3 association mode.
enum class association_mode : std::uint8_t {
  reserved = 0,
  symmetric_active = 1,
  symmetric_passive = 2,
  client = 3,
  server = 4,
  broadcast = 5,
  control = 6,  ///< RFC 9327 mode 6
  private_use = 7,
};

/// RFC 7822 extension field: type, then the value including its padding. The length on the
/// wire is value.size() + 4.
struct extension_field {
  std::uint16_t type = 0;
  std::vector<std::uint8_t> value;
  friend bool operator==(const extension_field&, const extension_field&) = default;
};

/// The trailing message authentication code: a 32-bit key id and the digest. A 4-byte trailer
/// (key id, no digest) is a crypto-NAK (RFC 5905 §7.4).
struct mac_field {
  std::uint32_t key_id = 0;
  std::vector<std::uint8_t> digest;
  bool is_crypto_nak() const noexcept { return digest.empty(); }
  friend bool operator==(const mac_field&, const mac_field&) = default;
};

/// An NTP packet (modes 1-5).
///
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |LI | VN  |Mode |    Stratum     |     Poll      |  Precision   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         Root Delay                            |
/// |                         Root Dispersion                       |
/// |                          Reference ID                         |
/// |                     Reference Timestamp (64)                  |
/// |                      Origin Timestamp (64)                    |
/// |                      Receive Timestamp (64)                   |
/// |                      Transmit Timestamp (64)                  |
/// |                 Extension Fields (variable, RFC 7822)         |
/// |                          Key Identifier                       |
/// |                            dgst (128..512)                    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
struct packet {
  leap_indicator leap = leap_indicator::none;
  std::uint8_t version = 4;  ///< 0..7 as received; 1..4 are defined
  association_mode mode = association_mode::client;
  std::uint8_t stratum = 0;
  std::int8_t poll = 0;       ///< log2 seconds
  std::int8_t precision = 0;  ///< log2 seconds
  short_duration root_delay;
  short_duration root_dispersion;
  std::array<std::uint8_t, 4> refid{};
  timestamp reference;
  timestamp origin;
  timestamp receive;
  timestamp transmit;
  std::vector<extension_field> extensions;
  std::optional<mac_field> mac;

  friend bool operator==(const packet&, const packet&) = default;
};

/// Size of the fixed header.
inline constexpr std::size_t header_size = 48;
/// RFC 7822 §7.5: in an NTPv4 packet, trailing bytes up to this length are a MAC, not fields.
inline constexpr std::size_t max_v4_mac_size = 24;
/// Longest MAC trailer we accept: key id + a SHA-512 digest.
inline constexpr std::size_t max_mac_size = 4 + 64;

/// Decodes a datagram. Extension fields are walked only in NTPv4 packets, while more than 24
/// bytes remain (RFC 7822); what is left is the MAC, a crypto-NAK or nothing. Directly after
/// an NTPv4 header, up to 68 bytes that are not a valid field are a legacy long MAC (chrony
/// accepts those from older chrony clients); behind a field they are errc::bad_extension_field.
/// Errors: errc::truncated (under 48 bytes), errc::bad_extension_field, errc::bad_mac_length.
NTPKIT_API result<packet> parse_packet(std::span<const std::uint8_t> datagram);

/// Bytes that serialize_packet will write for `p`.
NTPKIT_API std::size_t serialized_size(const packet& p) noexcept;

/// Encodes `p`; the inverse of parse_packet for every packet it returns. Extension values
/// are written as given (callers pad them to a multiple of 4).
NTPKIT_API std::vector<std::uint8_t> serialize_packet(const packet& p);

/// The length in bytes of the authenticated part of `datagram`: everything before the MAC.
/// Errors as parse_packet.
NTPKIT_API result<std::size_t> mac_offset(std::span<const std::uint8_t> datagram);

/// A client request (mode 3) as chrony sends one: every field zero but version, mode and the
/// transmit timestamp, which carries `transmit` (callers pass random bits, not the time).
NTPKIT_API packet make_client_request(timestamp transmit, std::uint8_t version = 4) noexcept;

}  // namespace ntpkit::proto
