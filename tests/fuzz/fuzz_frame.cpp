// Fuzz target: capture::decode_frame and capture::classify_ntp over any frame (link layer to
// NTP: Ethernet/SLL/SLL2/NULL/LOOP/raw, VLAN, MPLS, IPv4/IPv6 and extension headers, tunnels).
//
// Input: one byte choosing the link type (an index into the supported types; values past
// them are passed as link types as they are), then the frame.
//
// Invariants:
// - the payload span lies inside the input, and is never longer than the UDP length says;
//   payload_truncated says exactly whether it is shorter;
// - a UDP datagram's two addresses are of one family; the depths stay within their bounds;
// - decoding is deterministic (a second decode gives the same fields);
// - an NTP packet classified as such serializes back to the payload (its first 48 bytes when
//   the capture cut it), so classify_ntp reads through proto::parse_packet and nothing else.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_check.hpp"
#include "ntpkit/capture/frame.hpp"
#include "ntpkit/proto/packet.hpp"

namespace {

using namespace ntpkit;
using namespace ntpkit::capture;

constexpr std::uint32_t link_types[] = {
    link::null, link::ethernet,  link::raw_dlt, link::raw_openbsd, link::raw,
    link::loop, link::linux_sll, link::ipv4,    link::ipv6,        link::linux_sll2};

bool same(const decoded_frame& a, const decoded_frame& b) {
  return a.status == b.status && a.layer == b.layer && a.source == b.source &&
         a.destination == b.destination && a.source_port == b.source_port &&
         a.destination_port == b.destination_port && a.protocol == b.protocol &&
         a.tunnel_depth == b.tunnel_depth && a.vlan_tags == b.vlan_tags &&
         a.payload.data() == b.payload.data() && a.payload.size() == b.payload.size() &&
         a.payload_length == b.payload_length && a.payload_truncated == b.payload_truncated &&
         a.first_fragment == b.first_fragment;
}

void check_ntp(const decoded_frame& d) {
  proto::packet p;
  const auto c = classify_ntp(d.payload, d.payload_truncated, p);
  if (!d.payload.empty()) {
    NTPKIT_FUZZ_CHECK(c.version == ((d.payload[0] >> 3) & 7));
    NTPKIT_FUZZ_CHECK(c.mode == (d.payload[0] & 7));
  }
  if (c.kind == ntp_kind::packet) {
    NTPKIT_FUZZ_CHECK(c.mode >= 1 && c.mode <= 5);
    const auto wire = c.header_only ? d.payload.first(proto::header_size) : d.payload;
    const auto out = proto::serialize_packet(p);
    NTPKIT_FUZZ_CHECK(out.size() == wire.size() &&
                      std::equal(out.begin(), out.end(), wire.begin()));
  }
  if (c.kind == ntp_kind::control || c.kind == ntp_kind::private_mode) {
    NTPKIT_FUZZ_CHECK(c.mode == 6 || c.mode == 7);
  }
  if (c.kind == ntp_kind::truncated) NTPKIT_FUZZ_CHECK(d.payload_truncated);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t n = std::size(link_types);
  const std::uint32_t lt = data[0] < n ? link_types[data[0]] : data[0];
  const std::span<const std::uint8_t> frame(data + 1, size - 1);
  const auto d = decode_frame(lt, frame);
  if (!d.payload.empty()) {
    NTPKIT_FUZZ_CHECK(d.payload.data() >= frame.data());
    NTPKIT_FUZZ_CHECK(d.payload.data() + d.payload.size() <= frame.data() + frame.size());
  }
  NTPKIT_FUZZ_CHECK(d.payload.size() <= d.payload_length);
  NTPKIT_FUZZ_CHECK(d.payload_truncated == (d.payload.size() < d.payload_length));
  NTPKIT_FUZZ_CHECK(d.tunnel_depth <= max_tunnel_depth);
  NTPKIT_FUZZ_CHECK(d.vlan_tags <= max_vlan_tags);
  NTPKIT_FUZZ_CHECK(link_type_supported(lt) || d.status == frame_status::unsupported_link);
  if (d.status == frame_status::udp || d.status == frame_status::fragment) {
    NTPKIT_FUZZ_CHECK(d.source.family == d.destination.family);
  }
  if (d.status != frame_status::udp) NTPKIT_FUZZ_CHECK(d.payload.empty());
  NTPKIT_FUZZ_CHECK(same(d, decode_frame(lt, frame)));
  if (d.status == frame_status::udp) check_ntp(d);
  return 0;
}
