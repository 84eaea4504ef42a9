#include "ntpkit/capture/frame.hpp"

#include <algorithm>

#include "ntpkit/proto/bytes.hpp"

namespace ntpkit::capture {
namespace {

using bytes = std::span<const std::uint8_t>;
using proto::load_be16;
using proto::load_be32;

constexpr std::uint16_t ethertype_ipv4 = 0x0800;
constexpr std::uint16_t ethertype_ipv6 = 0x86dd;
constexpr std::uint16_t ethertype_vlan = 0x8100;      // IEEE 802.1Q
constexpr std::uint16_t ethertype_qinq = 0x88a8;      // IEEE 802.1ad
constexpr std::uint16_t ethertype_qinq_old = 0x9100;  // pre-standard QinQ
constexpr std::uint16_t ethertype_mpls = 0x8847;
constexpr std::uint16_t ethertype_mpls_multicast = 0x8848;
constexpr std::uint16_t gre_teb = 0x6558;  // transparent Ethernet bridging
constexpr std::uint16_t gre_erspan2 = 0x88be;
constexpr std::uint16_t gre_erspan3 = 0x22eb;
constexpr std::uint8_t ip_proto_ipip = 4;
constexpr std::uint8_t ip_proto_udp = 17;
constexpr std::uint8_t ip_proto_ipv6 = 41;
constexpr std::uint8_t ip_proto_gre = 47;
constexpr std::size_t max_mpls_labels = 8;

// One decoding: the bytes are walked from the link header inwards; each step either hands a
// narrower span to the next or ends with a status in `out`.
class decoder {
 public:
  explicit decoder(const decode_options& options) : options_(options) {}
  decoded_frame run(std::uint32_t link_type, bytes frame);

 private:
  void stop(frame_status s, frame_layer l) {
    out_.status = s;
    out_.layer = l;
  }
  bool enter_tunnel(frame_layer l) {
    if (out_.tunnel_depth >= max_tunnel_depth) {
      stop(frame_status::too_deep, l);
      return false;
    }
    ++out_.tunnel_depth;
    return true;
  }
  void null_loopback(bytes b, bool network_order);
  void linux_sll(bytes b, std::size_t header, std::size_t protocol_at);
  void raw_ip(bytes b);
  void ethernet(bytes b);
  void ethertype(std::uint16_t type, bytes b, frame_layer layer);
  void mpls(bytes b);
  void ipv4(bytes b);
  void ipv6(bytes b);
  bool ipv6_fragment(bytes b);
  void ip_payload(std::uint8_t protocol, bytes b, std::size_t declared);
  void fragment(std::uint8_t protocol, bytes b, bool first, frame_layer layer);
  void gre(bytes b);
  void udp(bytes b, std::size_t declared);

  decode_options options_;
  decoded_frame out_;
  std::size_t labels_ = 0;
};

decoded_frame decoder::run(std::uint32_t link_type, bytes frame) {
  switch (link_type) {
    case link::null:
      null_loopback(frame, false);
      break;
    case link::loop:
      null_loopback(frame, true);
      break;
    case link::ethernet:
      ethernet(frame);
      break;
    case link::linux_sll:
      linux_sll(frame, 16, 14);
      break;
    case link::linux_sll2:
      linux_sll(frame, 20, 0);
      break;
    case link::raw_dlt:
    case link::raw_openbsd:
    case link::raw:
      raw_ip(frame);
      break;
    case link::ipv4:
      ipv4(frame);
      break;
    case link::ipv6:
      ipv6(frame);
      break;
    default:
      stop(frame_status::unsupported_link, frame_layer::link);
      break;
  }
  return out_;
}

// DLT_NULL: a 4-byte address family in the capturing host's byte order, which a file read
// elsewhere does not say, so both orders are tried (the values are small). AF_INET is 2
// everywhere; AF_INET6 is 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS) or 10 (Linux).
void decoder::null_loopback(bytes b, bool network_order) {
  if (b.size() < 4) return stop(frame_status::truncated, frame_layer::link);
  const std::uint32_t be = load_be32(b, 0);
  const std::uint32_t le = std::uint32_t{b[0]} | std::uint32_t{b[1]} << 8 |
                           std::uint32_t{b[2]} << 16 | std::uint32_t{b[3]} << 24;
  auto is = [&](std::uint32_t af) { return be == af || (!network_order && le == af); };
  if (is(2)) return ipv4(b.subspan(4));
  if (is(24) || is(28) || is(30) || is(10)) return ipv6(b.subspan(4));
  stop(frame_status::not_ip, frame_layer::link);
}

// Linux cooked headers: SLL (16 bytes, protocol at 14) and SLL2 (20 bytes, protocol at 0).
// The protocol is an Ethertype for the link types that matter here.
void decoder::linux_sll(bytes b, std::size_t header, std::size_t protocol_at) {
  if (b.size() < header) return stop(frame_status::truncated, frame_layer::link);
  ethertype(load_be16(b, protocol_at), b.subspan(header), frame_layer::link);
}

void decoder::raw_ip(bytes b) {
  if (b.empty()) return stop(frame_status::truncated, frame_layer::link);
  switch (b[0] >> 4) {
    case 4:
      return ipv4(b);
    case 6:
      return ipv6(b);
    default:
      return stop(frame_status::not_ip, frame_layer::link);
  }
}

void decoder::ethernet(bytes b) {
  if (b.size() < 14) return stop(frame_status::truncated, frame_layer::link);
  ethertype(load_be16(b, 12), b.subspan(14), frame_layer::link);
}

// `b` follows a header whose type field said `type`. Values under 0x0600 are 802.3 lengths
// (LLC follows): not IP.
void decoder::ethertype(std::uint16_t type, bytes b, frame_layer layer) {
  switch (type) {
    case ethertype_ipv4:
      return ipv4(b);
    case ethertype_ipv6:
      return ipv6(b);
    case ethertype_vlan:
    case ethertype_qinq:
    case ethertype_qinq_old:
      if (out_.vlan_tags >= max_vlan_tags) return stop(frame_status::too_deep, frame_layer::vlan);
      if (b.size() < 4) return stop(frame_status::truncated, frame_layer::vlan);
      ++out_.vlan_tags;
      return ethertype(load_be16(b, 2), b.subspan(4), frame_layer::vlan);
    case ethertype_mpls:
    case ethertype_mpls_multicast:
      return mpls(b);
    default:
      return stop(frame_status::not_ip, layer);
  }
}

// RFC 3032 label stack; after the bottom label the payload's first nibble says IPv4 or IPv6
// (what routers assume too). Anything else (a pseudowire control word) is not decoded.
void decoder::mpls(bytes b) {
  for (;;) {
    if (labels_ >= max_mpls_labels) return stop(frame_status::too_deep, frame_layer::link);
    if (b.size() < 4) return stop(frame_status::truncated, frame_layer::link);
    ++labels_;
    const bool bottom = (b[2] & 1) != 0;
    b = b.subspan(4);
    if (bottom) break;
  }
  if (!b.empty() && (b[0] >> 4) == 4) return ipv4(b);
  if (!b.empty() && (b[0] >> 4) == 6) return ipv6(b);
  stop(b.empty() ? frame_status::truncated : frame_status::not_ip, frame_layer::link);
}

// RFC 791. The checksum is not verified (captures on the sending host carry unfinished
// checksums when the NIC computes them). Total length 0 is what TSO/GSO captures show: the
// captured length stands in for it, as in Wireshark.
void decoder::ipv4(bytes b) {
  if (b.size() < 20) return stop(frame_status::truncated, frame_layer::ipv4);
  if ((b[0] >> 4) != 4) return stop(frame_status::bad_header, frame_layer::ipv4);
  const std::size_t ihl = std::size_t{b[0] & 0x0fu} * 4;
  if (ihl < 20) return stop(frame_status::bad_header, frame_layer::ipv4);
  if (b.size() < ihl) return stop(frame_status::truncated, frame_layer::ipv4);
  std::size_t total = load_be16(b, 2);
  if (total == 0) total = b.size();
  if (total < ihl) return stop(frame_status::bad_header, frame_layer::ipv4);
  out_.source = model::ip_address::v4(b.subspan<12, 4>());
  out_.destination = model::ip_address::v4(b.subspan<16, 4>());
  out_.protocol = b[9];
  const bytes payload = b.subspan(ihl, std::min(total, b.size()) - ihl);
  const std::uint16_t fragment_field = load_be16(b, 6);
  const bool more_fragments = (fragment_field & 0x2000u) != 0;
  const std::uint16_t offset = fragment_field & 0x1fffu;
  if (more_fragments || offset != 0) return fragment(b[9], payload, offset == 0, frame_layer::ipv4);
  ip_payload(b[9], payload, total - ihl);
}

// RFC 8200. Payload length 0 (a jumbogram, or a TSO capture) uses the captured length.
void decoder::ipv6(bytes b) {
  if (b.size() < 40) return stop(frame_status::truncated, frame_layer::ipv6);
  if ((b[0] >> 4) != 6) return stop(frame_status::bad_header, frame_layer::ipv6);
  std::size_t declared = load_be16(b, 4);
  if (declared == 0) declared = b.size() - 40;
  out_.source = model::ip_address::v6(b.subspan<8, 16>());
  out_.destination = model::ip_address::v6(b.subspan<24, 16>());
  std::uint8_t next = b[6];
  bytes rest = b.subspan(40, std::min(declared, b.size() - 40));
  for (std::size_t n = 0;; ++n) {
    std::size_t length = 0;
    switch (next) {
      case 0:    // hop-by-hop options
      case 43:   // routing
      case 60:   // destination options
      case 135:  // mobility
      case 139:  // HIP
      case 140:  // shim6
        length = rest.size() >= 2 ? (std::size_t{rest[1]} + 1) * 8 : 2;
        break;
      case 51:
        length = rest.size() >= 2 ? (std::size_t{rest[1]} + 2) * 4 : 2;
        break;  // AH
      case 44:
        length = 8;
        break;  // fragment
      default:
        out_.protocol = next;
        return ip_payload(next, rest, declared);
    }
    if (n >= max_ipv6_extensions) return stop(frame_status::too_deep, frame_layer::ipv6_extension);
    if (length > declared) return stop(frame_status::bad_header, frame_layer::ipv6_extension);
    if (rest.size() < length) return stop(frame_status::truncated, frame_layer::ipv6_extension);
    if (next == 44 && !ipv6_fragment(rest)) return;
    next = rest[0];
    rest = rest.subspan(length);
    declared -= length;
  }
}

// An IPv6 fragment header: a real fragment ends decoding; an atomic fragment (offset 0, no
// more fragments, RFC 6946) is a whole datagram: true, and decoding goes on.
bool decoder::ipv6_fragment(bytes b) {
  const std::uint16_t field = load_be16(b, 2);
  const std::uint16_t offset = field >> 3;
  const bool more = (field & 1u) != 0;
  if (offset == 0 && !more) return true;
  fragment(b[0], b.subspan(8), offset == 0, frame_layer::ipv6_extension);
  return false;
}

void decoder::fragment(std::uint8_t protocol, bytes b, bool first, frame_layer layer) {
  stop(frame_status::fragment, layer);
  out_.protocol = protocol;
  out_.first_fragment = first;
  if (first && protocol == ip_proto_udp && b.size() >= 4) {
    out_.source_port = load_be16(b, 0);
    out_.destination_port = load_be16(b, 2);
  }
}

// What an IP header carries: `b` is what was captured of it, `declared` what the header says.
void decoder::ip_payload(std::uint8_t protocol, bytes b, std::size_t declared) {
  out_.protocol = protocol;
  switch (protocol) {
    case ip_proto_udp:
      return udp(b, declared);
    case ip_proto_ipip:
      if (enter_tunnel(frame_layer::ipv4)) ipv4(b);
      return;
    case ip_proto_ipv6:
      if (enter_tunnel(frame_layer::ipv6)) ipv6(b);
      return;
    case ip_proto_gre:
      if (enter_tunnel(frame_layer::gre)) gre(b);
      return;
    default:
      return stop(frame_status::other_protocol, frame_layer::ipv4);
  }
}

// RFC 2784 with RFC 2890's key and sequence number. Version 1 (PPTP's enhanced GRE) carries
// PPP and the RFC 1701 routing field is deprecated: neither is decoded.
void decoder::gre(bytes b) {
  if (b.size() < 4) return stop(frame_status::truncated, frame_layer::gre);
  const std::uint16_t flags = load_be16(b, 0);
  if ((flags & 0x0007u) != 0 || (flags & 0x4000u) != 0) {
    return stop(frame_status::bad_header, frame_layer::gre);
  }
  std::size_t header = 4;
  if (flags & 0x8000u) header += 4;  // checksum and reserved
  if (flags & 0x2000u) header += 4;  // key
  if (flags & 0x1000u) header += 4;  // sequence number
  std::uint16_t type = load_be16(b, 2);
  if (type == gre_erspan2) header += 8;
  if (type == gre_erspan3) {
    header += 12;
    // The O flag (last bit of the ERSPAN III header) announces an 8-byte platform subheader.
    if (b.size() >= header && (b[header - 1] & 1u) != 0) header += 8;
  }
  if (b.size() < header) return stop(frame_status::truncated, frame_layer::gre);
  if (type == gre_teb || type == gre_erspan2 || type == gre_erspan3) {
    return ethernet(b.subspan(header));
  }
  ethertype(type, b.subspan(header), frame_layer::gre);
}

// RFC 768. The UDP length must fit what the IP header declared; the payload is what was
// captured of it (Ethernet padding after the datagram is left out).
void decoder::udp(bytes b, std::size_t declared) {
  if (declared < 8) return stop(frame_status::bad_header, frame_layer::udp);  // cannot fit
  if (b.size() < 8) return stop(frame_status::truncated, frame_layer::udp);
  const std::uint16_t length = load_be16(b, 4);
  if (length < 8 || length > declared) return stop(frame_status::bad_header, frame_layer::udp);
  out_.source_port = load_be16(b, 0);
  out_.destination_port = load_be16(b, 2);
  out_.payload_length = static_cast<std::uint16_t>(length - 8);
  out_.payload = b.subspan(8, std::min<std::size_t>(length, b.size()) - 8);
  out_.payload_truncated = out_.payload.size() < out_.payload_length;
  out_.status = frame_status::udp;
  out_.layer = frame_layer::udp;
  // RFC 7348: an 8-byte header whose I flag says the VNI is valid, then Ethernet.
  if (options_.vxlan_port != 0 && out_.destination_port == options_.vxlan_port &&
      out_.payload.size() >= 8 && (out_.payload[0] & 0x08u) != 0) {
    const bytes inner = out_.payload.subspan(8);
    out_.payload = {};
    out_.payload_length = 0;
    out_.payload_truncated = false;
    out_.source_port = out_.destination_port = 0;
    if (enter_tunnel(frame_layer::vxlan)) ethernet(inner);
  }
}

}  // namespace

bool link_type_supported(std::uint32_t t) noexcept {
  switch (t) {
    case link::null:
    case link::ethernet:
    case link::raw_dlt:
    case link::raw_openbsd:
    case link::raw:
    case link::loop:
    case link::linux_sll:
    case link::ipv4:
    case link::ipv6:
    case link::linux_sll2:
      return true;
    default:
      return false;
  }
}

decoded_frame decode_frame(std::uint32_t link_type, std::span<const std::uint8_t> frame,
                           const decode_options& options) noexcept {
  return decoder(options).run(link_type, frame);
}

ntp_classification classify_ntp(std::span<const std::uint8_t> payload, bool truncated,
                                proto::packet& packet) {
  ntp_classification c;
  if (payload.empty()) {
    c.kind = truncated ? ntp_kind::truncated : ntp_kind::malformed;
    return c;
  }
  c.version = (payload[0] >> 3) & 7u;
  c.mode = payload[0] & 7u;
  if (c.mode == 6 || c.mode == 7) {
    // RFC 9327's header is 12 bytes; ntpd's mode 7 header is 8.
    const std::size_t minimum = c.mode == 6 ? 12 : 8;
    if (payload.size() >= minimum) {
      c.kind = c.mode == 6 ? ntp_kind::control : ntp_kind::private_mode;
    } else {
      c.kind = truncated ? ntp_kind::truncated : ntp_kind::malformed;
    }
    return c;
  }
  if (c.mode == 0) return c;  // reserved: malformed
  if (payload.size() < proto::header_size) {
    c.kind = truncated ? ntp_kind::truncated : ntp_kind::malformed;
    return c;
  }
  c.header_only = truncated;
  auto parsed = proto::parse_packet(truncated ? payload.first(proto::header_size) : payload);
  if (!parsed) {
    c.error = static_cast<proto::errc>(parsed.error().value());
    return c;
  }
  packet = std::move(*parsed);
  c.kind = ntp_kind::packet;
  return c;
}

}  // namespace ntpkit::capture
