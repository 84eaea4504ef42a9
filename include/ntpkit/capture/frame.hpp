#pragma once

// Pure decoding of one captured frame down to its innermost UDP datagram, and the NTP
// classification of that datagram's payload. No libpcap here: the caller hands the link type
// number and the bytes (capture/pcap_source.hpp does for files and interfaces).
//
// Decoded: Ethernet II (with 802.1Q, 802.1ad and the old 0x9100 QinQ tags), Linux cooked
// SLL and SLL2, BSD loopback (DLT_NULL, host byte order) and OpenBSD DLT_LOOP (network
// order), raw IP (DLT_RAW 12/14, LINKTYPE_RAW 101, LINKTYPE_IPV4 228, LINKTYPE_IPV6 229);
// IPv4 with options; IPv6 with hop-by-hop, routing, destination options, fragment and AH
// extension headers; tunnels: IPv6-in-IPv4 (6in4, protocol 41), IPv4-in-IPv4 (4), the same
// inside IPv6, GRE (47, RFC 2784/2890: checksum, key and sequence fields) carrying IPv4,
// IPv6, Ethernet (TEB) or ERSPAN type II/III mirrored Ethernet, VXLAN (RFC 7348, UDP port
// 4789) carrying Ethernet, and MPLS label stacks over IPv4/IPv6. The addresses and ports
// reported are the innermost ones.
//
// Never throws, never reads outside `frame`, allocates nothing.

#include <cstddef>
#include <cstdint>
#include <span>

#include "ntpkit/export.hpp"
#include "ntpkit/model/address.hpp"
#include "ntpkit/proto/errc.hpp"
#include "ntpkit/proto/packet.hpp"

namespace ntpkit::capture {

/// Link-layer header types: libpcap's DLT_ values as pcap_datalink() returns them, and the
/// LINKTYPE_ values of the file formats where they differ (www.tcpdump.org/linktypes.html).
namespace link {
inline constexpr std::uint32_t null = 0;          ///< BSD loopback, AF in host byte order
inline constexpr std::uint32_t ethernet = 1;      ///< Ethernet II / 802.3
inline constexpr std::uint32_t raw_dlt = 12;      ///< DLT_RAW on most systems
inline constexpr std::uint32_t raw_openbsd = 14;  ///< DLT_RAW on OpenBSD
inline constexpr std::uint32_t raw = 101;         ///< LINKTYPE_RAW
inline constexpr std::uint32_t loop = 108;        ///< OpenBSD loopback, AF in network order
inline constexpr std::uint32_t linux_sll = 113;   ///< Linux cooked capture v1
inline constexpr std::uint32_t ipv4 = 228;        ///< LINKTYPE_IPV4
inline constexpr std::uint32_t ipv6 = 229;        ///< LINKTYPE_IPV6
inline constexpr std::uint32_t linux_sll2 = 276;  ///< Linux cooked capture v2
}  // namespace link

/// True for the link types decode_frame knows.
NTPKIT_API bool link_type_supported(std::uint32_t link_type) noexcept;

/// Whether a frame held a UDP datagram, and if not, why not.
enum class frame_status : std::uint8_t {
  udp,               ///< a UDP datagram (addresses, ports and payload are set)
  unsupported_link,  ///< a link type decode_frame does not know
  not_ip,            ///< the link layer carries something else (ARP, LLC, ...)
  truncated,         ///< the captured bytes end inside the header of `layer`
  bad_header,        ///< `layer` has an impossible version, length or flag
  fragment,          ///< an IPv4 or IPv6 fragment (addresses set; `protocol` too)
  other_protocol,    ///< IP carrying another protocol than UDP (`protocol`)
  too_deep,          ///< more tags, tunnels or extension headers than the bounds allow
};

/// The header where decoding stopped.
enum class frame_layer : std::uint8_t {
  link,  ///< Ethernet, SLL, SLL2, NULL/LOOP
  vlan,  ///< an 802.1Q/802.1ad tag
  ipv4,
  ipv6,
  ipv6_extension,  ///< an IPv6 extension header
  gre,
  udp,
  vxlan,
};

/// Bounds on nesting: each keeps decoding cheap and finite on hostile input.
inline constexpr std::size_t max_vlan_tags = 4;
inline constexpr std::size_t max_tunnel_depth = 4;  ///< IP, GRE or VXLAN encapsulations
inline constexpr std::size_t max_ipv6_extensions = 8;

/// Options for decode_frame.
struct decode_options {
  std::uint16_t vxlan_port = 4789;  ///< UDP destination port taken as VXLAN; 0: none
};

/// What decode_frame found.
struct decoded_frame {
  frame_status status = frame_status::unsupported_link;
  frame_layer layer = frame_layer::link;  ///< for truncated, bad_header, too_deep
  model::ip_address source, destination;  ///< innermost IP header (udp, fragment, other)
  std::uint16_t source_port = 0, destination_port = 0;  ///< udp only
  std::uint8_t protocol = 0;                            ///< innermost IP protocol (17 for udp)
  std::uint8_t tunnel_depth = 0;                        ///< encapsulations passed (0: none)
  std::uint8_t vlan_tags = 0;                           ///< 802.1Q/802.1ad tags passed, all levels
  /// The UDP payload as captured: inside `frame`, without link-layer padding.
  std::span<const std::uint8_t> payload;
  std::uint16_t payload_length = 0;  ///< as the UDP header says (payload.size() or more)
  /// The capture cut the datagram: payload.size() < payload_length.
  bool payload_truncated = false;
  /// For fragment: this is the first fragment (offset 0) and it holds the UDP ports.
  bool first_fragment = false;
};

/// Decodes `frame`, captured on a link of type `link_type`, down to the innermost UDP
/// datagram. `frame` holds the captured bytes (possibly fewer than were on the wire).
NTPKIT_API decoded_frame decode_frame(std::uint32_t link_type, std::span<const std::uint8_t> frame,
                                      const decode_options& options = {}) noexcept;

/// What an NTP-port UDP payload is.
enum class ntp_kind : std::uint8_t {
  packet,        ///< modes 1-5, parsed by proto::parse_packet (`packet` is set)
  control,       ///< mode 6 (RFC 9327): classified by the mode bits only
  private_mode,  ///< mode 7 (ntpd's private protocol): by the mode bits only
  truncated,     ///< the capture cut it before the end of the 48-byte header
  malformed,     ///< not NTP: under 48 bytes, mode 0, or parse_packet refused it (`error`)
};

/// The classification of one payload.
struct ntp_classification {
  ntp_kind kind = ntp_kind::malformed;
  std::uint8_t version = 0;  ///< from the first octet (when there is one)
  std::uint8_t mode = 0;
  /// The capture cut the payload after the header: `packet` is the header alone.
  bool header_only = false;
  proto::errc error{};  ///< for malformed refused by parse_packet; else 0
};

/// Classifies a UDP payload on the NTP port. For modes 1-5, `packet` receives what
/// proto::parse_packet returned; when `truncated` (the capture cut it) and 48 bytes or more
/// were captured, the first 48 are parsed as a header alone. Throws only std::bad_alloc
/// (parse_packet copies extension fields and MACs).
NTPKIT_API ntp_classification classify_ntp(std::span<const std::uint8_t> payload, bool truncated,
                                           proto::packet& packet);

}  // namespace ntpkit::capture
