#include "ntpkit/capture/frame.hpp"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "capture/frame_builder.hpp"

using namespace ntpkit;
using namespace ntpkit::capture;
namespace f = ntpkit::test::frames;

namespace {

const f::bytes request = f::ntp(4, 3, 0x1122334455667788ull);

// An NTP request from the test client to the test server as an IPv4 and an IPv6 packet.
f::bytes request4() { return f::ipv4(f::client4, f::server4, 17, f::udp(50000, 123, request)); }
f::bytes request6(const std::vector<f::ipv6_ext>& chain = {}) {
  return f::ipv6(f::client6, f::server6, 17, f::udp(50000, 123, request), chain);
}

model::ip_address addr4(f::v4 a) { return model::ip_address::v4(a); }
model::ip_address addr6(f::v6 a) { return model::ip_address::v6(a); }

bool inside(std::span<const std::uint8_t> part, const f::bytes& whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

// The frame decodes to the test request over IPv4 (or IPv6) with these depths.
void check_request(const decoded_frame& d, bool v6, int tunnels = 0, int tags = 0) {
  CAPTURE(static_cast<int>(d.status));
  CAPTURE(static_cast<int>(d.layer));
  REQUIRE(d.status == frame_status::udp);
  CHECK(d.source == (v6 ? addr6(f::client6) : addr4(f::client4)));
  CHECK(d.destination == (v6 ? addr6(f::server6) : addr4(f::server4)));
  CHECK(d.source_port == 50000);
  CHECK(d.destination_port == 123);
  CHECK(d.protocol == 17);
  CHECK(d.tunnel_depth == tunnels);
  CHECK(d.vlan_tags == tags);
  CHECK_FALSE(d.payload_truncated);
  CHECK(d.payload_length == request.size());
  CHECK(f::bytes(d.payload.begin(), d.payload.end()) == request);
}

}  // namespace

TEST_CASE("every supported link type carries the request to the same datagram") {
  struct sample {
    std::uint32_t link;
    f::bytes frame;
    bool v6;
  };
  const std::vector<sample> samples = {
      {link::ethernet, f::ethernet(0x0800, request4()), false},
      {link::ethernet, f::ethernet(0x86dd, request6()), true},
      {link::linux_sll, f::sll(0x0800, request4()), false},
      {link::linux_sll, f::sll(0x86dd, request6()), true},
      {link::linux_sll2, f::sll2(0x0800, request4()), false},
      {link::linux_sll2, f::sll2(0x86dd, request6()), true},
      {link::null, f::null_le(2, request4()), false},
      {link::null, f::null_le(30, request6()), true},  // macOS AF_INET6
      {link::null, f::null_le(28, request6()), true},  // FreeBSD
      {link::null, f::null_le(24, request6()), true},  // NetBSD/OpenBSD
      {link::null, f::loop(2, request4()), false},     // written on a big-endian host
      {link::loop, f::loop(2, request4()), false},
      {link::loop, f::loop(24, request6()), true},
      {link::raw_dlt, request4(), false},
      {link::raw_dlt, request6(), true},
      {link::raw_openbsd, request4(), false},
      {link::raw, request6(), true},
      {link::ipv4, request4(), false},
      {link::ipv6, request6(), true},
  };
  for (const auto& s : samples) {
    CAPTURE(s.link);
    CHECK(link_type_supported(s.link));
    check_request(decode_frame(s.link, s.frame), s.v6);
  }
}

TEST_CASE("link layers that do not carry IP are typed, not guessed") {
  const auto arp = f::ethernet(0x0806, f::bytes(28, 0));
  CHECK(decode_frame(link::ethernet, arp).status == frame_status::not_ip);
  // An 802.3 length field (under 0x0600) means LLC follows.
  CHECK(decode_frame(link::ethernet, f::ethernet(0x0040, f::bytes(64, 0))).status ==
        frame_status::not_ip);
  CHECK(decode_frame(link::null, f::null_le(7, request4())).status == frame_status::not_ip);
  CHECK(decode_frame(link::raw, f::bytes{0x50, 1, 2, 3}).status == frame_status::not_ip);
  const auto d = decode_frame(147, request4());  // LINKTYPE_USER0
  CHECK(d.status == frame_status::unsupported_link);
  CHECK_FALSE(link_type_supported(147));
}

TEST_CASE("802.1Q, 802.1ad and 0x9100 tags are passed and counted; a fifth is too deep") {
  check_request(decode_frame(link::ethernet, f::ethernet(0x0800, request4(), {0x8100})), false, 0,
                1);
  check_request(decode_frame(link::ethernet, f::ethernet(0x86dd, request6(), {0x88a8, 0x8100})),
                true, 0, 2);
  check_request(decode_frame(link::ethernet, f::ethernet(0x0800, request4(), {0x9100, 0x8100})),
                false, 0, 2);
  const auto deep = decode_frame(
      link::ethernet, f::ethernet(0x0800, request4(), {0x88a8, 0x8100, 0x8100, 0x8100, 0x8100}));
  CHECK(deep.status == frame_status::too_deep);
  CHECK(deep.layer == frame_layer::vlan);
  // SLL keeps a tag when the driver did not strip it.
  f::bytes tagged = {0x00, 0x05, 0x08, 0x00};
  f::append(tagged, request4());
  check_request(decode_frame(link::linux_sll, f::sll(0x8100, tagged)), false, 0, 1);
}

TEST_CASE("MPLS label stacks over IPv4 and IPv6 are passed") {
  f::bytes labels = {0x00, 0x01, 0x00, 0x40, 0x00, 0x02, 0x01, 0x40};  // two, bottom-of-stack
  f::bytes frame = labels;
  f::append(frame, request4());
  check_request(decode_frame(link::ethernet, f::ethernet(0x8847, frame)), false);
  frame = labels;
  f::append(frame, request6());
  check_request(decode_frame(link::ethernet, f::ethernet(0x8847, frame)), true);
}

TEST_CASE("IPv4 options are skipped by the header length; impossible lengths are bad headers") {
  for (std::size_t words = 1; words <= 10; ++words) {
    f::ipv4_opts o;
    o.options = f::bytes(4 * words, 1);  // NOPs
    const auto p = f::ipv4(f::client4, f::server4, 17, f::udp(50000, 123, request), o);
    check_request(decode_frame(link::raw, p), false);
  }
  auto p = request4();
  p[0] = 0x44;  // IHL 4: under the 20-byte minimum
  auto d = decode_frame(link::raw, p);
  CHECK(d.status == frame_status::bad_header);
  CHECK(d.layer == frame_layer::ipv4);
  p = request4();
  p[0] = 0x4f;  // IHL 15 = 60 bytes: more than the total length says
  p[2] = 0;
  p[3] = 40;
  CHECK(decode_frame(link::raw, p).status == frame_status::bad_header);
  p = request4();
  p[0] = 0x55;  // version 5
  CHECK(decode_frame(link::ipv4, p).status == frame_status::bad_header);
}

TEST_CASE("IPv4 total length: padding is cut off, a short capture is marked, 0 means captured") {
  // 4 payload bytes: the Ethernet frame is padded to 60 bytes; the payload stays 4 bytes.
  const f::bytes small = {1, 2, 3, 4};
  auto d = decode_frame(link::ethernet, f::ethernet(0x0800, f::ipv4(f::client4, f::server4, 17,
                                                                    f::udp(50000, 123, small))));
  REQUIRE(d.status == frame_status::udp);
  CHECK(d.payload.size() == 4);
  CHECK_FALSE(d.payload_truncated);
  // Cut after 20 bytes of the NTP payload.
  auto p = request4();
  p.resize(20 + 8 + 20);
  d = decode_frame(link::raw, p);
  REQUIRE(d.status == frame_status::udp);
  CHECK(d.payload_truncated);
  CHECK(d.payload.size() == 20);
  CHECK(d.payload_length == 48);
  // Total length 0 (TSO capture on the sender): the captured length stands in.
  p = request4();
  p[2] = p[3] = 0;
  check_request(decode_frame(link::raw, p), false);
}

TEST_CASE("IPv4 fragments are counted as fragments, never read as NTP") {
  const auto datagram = f::udp(50000, 123, request);
  f::ipv4_opts first;
  first.more_fragments = true;
  auto d =
      decode_frame(link::raw, f::ipv4(f::client4, f::server4, 17,
                                      f::bytes(datagram.begin(), datagram.begin() + 32), first));
  CHECK(d.status == frame_status::fragment);
  CHECK(d.first_fragment);
  CHECK(d.protocol == 17);
  CHECK(d.source == addr4(f::client4));
  CHECK(d.destination_port == 123);
  CHECK(d.payload.empty());
  f::ipv4_opts last;
  last.offset8 = 4;
  d = decode_frame(link::raw, f::ipv4(f::client4, f::server4, 17,
                                      f::bytes(datagram.begin() + 32, datagram.end()), last));
  CHECK(d.status == frame_status::fragment);
  CHECK_FALSE(d.first_fragment);
  CHECK(d.destination_port == 0);
}

TEST_CASE("IPv6 extension chains are walked to UDP, bounded, and fragments stop there") {
  const f::ipv6_ext hop{0, f::bytes(6, 0)};
  const f::ipv6_ext routing{43, f::bytes{0, 0, 0, 0, 0, 0}};
  const f::ipv6_ext dest{60, f::bytes(14, 1)};  // 16 bytes
  const f::ipv6_ext ah{51, f::bytes(18, 0)};    // 12-byte ICV: 24 bytes
  check_request(decode_frame(link::ipv6, request6({hop, routing, dest, ah})), true);
  const f::ipv6_ext atomic{44, f::bytes{0, 0, 0, 0, 0, 0, 1}};  // offset 0, M 0 (RFC 6946)
  check_request(decode_frame(link::ipv6, request6({hop, atomic})), true);

  const f::ipv6_ext more{44, f::bytes{0, 0, 1, 0, 0, 0, 2}};  // offset 0, M 1
  auto d = decode_frame(link::ipv6, request6({more}));
  CHECK(d.status == frame_status::fragment);
  CHECK(d.first_fragment);
  CHECK(d.destination_port == 123);
  const f::ipv6_ext later{44, f::bytes{0, 0, 0x40, 0, 0, 0, 2}};  // offset 8 (units of 8)
  d = decode_frame(link::ipv6, request6({later}));
  CHECK(d.status == frame_status::fragment);
  CHECK_FALSE(d.first_fragment);

  d = decode_frame(link::ipv6, request6(std::vector<f::ipv6_ext>(9, dest)));
  CHECK(d.status == frame_status::too_deep);
  CHECK(d.layer == frame_layer::ipv6_extension);
  check_request(decode_frame(link::ipv6, request6(std::vector<f::ipv6_ext>(8, dest))), true);

  // An extension header longer than the payload length is a bad header.
  auto p = request6({dest});
  p[41] = 200;
  CHECK(decode_frame(link::ipv6, p).status == frame_status::bad_header);
  // ESP: encrypted, another protocol.
  d = decode_frame(link::ipv6, f::ipv6(f::client6, f::server6, 50, f::bytes(40, 0)));
  CHECK(d.status == frame_status::other_protocol);
  CHECK(d.protocol == 50);
}

TEST_CASE("tunnels report the innermost addresses and their depth") {
  // 6in4 (protocol 41), IPv4-in-IPv4 (4), IPv4 in IPv6, IPv6 in IPv6.
  const f::v4 a = {203, 0, 113, 1}, b = {203, 0, 113, 2};
  check_request(decode_frame(link::raw, f::ipv4(a, b, 41, request6())), true, 1);
  check_request(decode_frame(link::raw, f::ipv4(a, b, 4, request4())), false, 1);
  check_request(decode_frame(link::raw, f::ipv6(f::server6, f::client6, 4, request4())), false, 1);
  check_request(decode_frame(link::raw, f::ipv6(f::server6, f::client6, 41, request6())), true, 1);
  // GRE with every combination of optional fields, carrying IPv4, IPv6 and Ethernet.
  for (int flags = 0; flags < 8; ++flags) {
    const bool c = flags & 1, k = flags & 2, s = flags & 4;
    CAPTURE(flags);
    check_request(decode_frame(link::raw, f::ipv4(a, b, 47, f::gre(0x0800, request4(), c, k, s))),
                  false, 1);
    check_request(decode_frame(link::raw, f::ipv4(a, b, 47, f::gre(0x86dd, request6(), c, k, s))),
                  true, 1);
    const auto teb = f::gre(0x6558, f::ethernet(0x0800, request4(), {0x8100}), c, k, s);
    check_request(decode_frame(link::raw, f::ipv4(a, b, 47, teb)), false, 1, 1);
  }
  // ERSPAN type II: 8 bytes after a GRE header with a sequence number, then Ethernet.
  auto erspan = f::bytes{0x10, 0x01, 0, 0, 0, 0, 0, 0};
  f::append(erspan, f::ethernet(0x0800, request4()));
  check_request(
      decode_frame(link::raw, f::ipv4(a, b, 47, f::gre(0x88be, erspan, false, false, true))), false,
      1);
  // GRE version 1 (PPTP) and the RFC 1701 routing bit are not decoded.
  auto v1 = f::gre(0x880b, request4());
  v1[1] = 1;
  CHECK(decode_frame(link::raw, f::ipv4(a, b, 47, v1)).status == frame_status::bad_header);
  // VXLAN: outer UDP to 4789 carrying Ethernet carrying the request.
  const auto vx = f::ipv4(a, b, 17, f::udp(40000, 4789, f::vxlan(f::ethernet(0x0800, request4()))));
  check_request(decode_frame(link::ethernet, f::ethernet(0x0800, vx)), false, 1);
  // ... unless VXLAN decoding is off, or the I flag is clear: plain UDP on 4789.
  decode_options no_vxlan;
  no_vxlan.vxlan_port = 0;
  auto d = decode_frame(link::raw, vx, no_vxlan);
  CHECK(d.status == frame_status::udp);
  CHECK(d.destination_port == 4789);
  // GRE in VXLAN in 6in4 in IPIP: depth 4 is allowed, one more is too deep.
  const auto three =
      f::ipv4(a, b, 4,
              f::ipv4(a, b, 41,
                      f::ipv6(f::server6, f::client6, 17,
                              f::udp(1, 4789, f::vxlan(f::ethernet(0x0800, request4()))))));
  check_request(decode_frame(link::raw, three), false, 3);
  const auto four = f::ipv4(a, b, 47, f::gre(0x0800, three));
  check_request(decode_frame(link::raw, four), false, 4);
  d = decode_frame(link::raw, f::ipv4(a, b, 4, four));
  CHECK(d.status == frame_status::too_deep);
}

TEST_CASE("other protocols and bad UDP lengths are typed") {
  auto d = decode_frame(link::raw, f::ipv4(f::client4, f::server4, 6, f::bytes(20, 0)));
  CHECK(d.status == frame_status::other_protocol);
  CHECK(d.protocol == 6);
  // ICMP quoting an NTP request (an error message): not NTP.
  d = decode_frame(link::raw, f::ipv4(f::server4, f::client4, 1, request4()));
  CHECK(d.status == frame_status::other_protocol);
  // UDP length larger than the IP payload, and smaller than its own header.
  d = decode_frame(link::raw, f::ipv4(f::client4, f::server4, 17, f::udp(1, 123, request, 100)));
  CHECK(d.status == frame_status::bad_header);
  CHECK(d.layer == frame_layer::udp);
  d = decode_frame(link::raw, f::ipv4(f::client4, f::server4, 17, f::udp(1, 123, request, 7)));
  CHECK(d.status == frame_status::bad_header);
  // An IP payload too short for a UDP header, all of it captured: bad, not truncated.
  const auto six = f::udp(1, 123, request);
  d = decode_frame(link::raw,
                   f::ipv4(f::client4, f::server4, 17, f::bytes(six.begin(), six.begin() + 6)));
  CHECK(d.status == frame_status::bad_header);
  CHECK(d.layer == frame_layer::udp);
}

TEST_CASE("every truncation of a valid frame gives a typed reason and stays inside the input") {
  const f::v4 a = {203, 0, 113, 1}, b = {203, 0, 113, 2};
  const std::vector<std::pair<std::uint32_t, f::bytes>> frames = {
      {link::ethernet, f::ethernet(0x0800, request4(), {0x88a8, 0x8100})},
      {link::ethernet, f::ethernet(0x86dd, request6({{0, f::bytes(6, 0)}, {51, f::bytes(10, 0)}}))},
      {link::linux_sll, f::sll(0x0800, request4())},
      {link::linux_sll2, f::sll2(0x86dd, request6())},
      {link::null, f::null_le(2, request4())},
      {link::loop, f::loop(24, request6())},
      {link::raw, f::ipv4(a, b, 41, request6())},
      {link::raw,
       f::ipv4(a, b, 47, f::gre(0x6558, f::ethernet(0x0800, request4()), true, true, true))},
      {link::ethernet,
       f::ethernet(0x0800,
                   f::ipv4(a, b, 17, f::udp(1, 4789, f::vxlan(f::ethernet(0x86dd, request6())))))},
  };
  for (const auto& [lt, full] : frames) {
    const auto whole = decode_frame(lt, full);
    REQUIRE(whole.status == frame_status::udp);
    for (std::size_t n = 0; n < full.size(); ++n) {
      CAPTURE(lt);
      CAPTURE(n);
      const f::bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
      const auto d = decode_frame(lt, cut);
      CHECK(inside(d.payload, cut));
      CHECK(d.payload.size() <= d.payload_length);
      const bool typed =
          d.status == frame_status::truncated ||
          (d.status == frame_status::udp && d.payload_truncated) ||
          (d.status == frame_status::udp && d.payload.size() == whole.payload.size());
      CHECK(typed);
      const auto again = decode_frame(lt, cut);
      CHECK(again.status == d.status);
      CHECK(again.layer == d.layer);
    }
  }
}

TEST_CASE("random bytes under every link type never read outside the frame") {
  const std::uint64_t seed = 0x5eed0001;
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const std::uint32_t links[] = {link::null,      link::ethernet,   link::raw,  link::loop,
                                 link::linux_sll, link::linux_sll2, link::ipv4, link::ipv6};
  for (int i = 0; i < 20000; ++i) {
    f::bytes frame(rng() % 200);
    for (auto& x : frame) x = static_cast<std::uint8_t>(rng());
    // Make deeper layers likely: a plausible IP version nibble near the start.
    if (frame.size() > 20 && (i & 1)) frame[rng() % 20] = (i & 2) ? 0x45 : 0x60;
    const auto lt = links[rng() % std::size(links)];
    const auto d = decode_frame(lt, frame);
    REQUIRE(inside(d.payload, frame));
    if (d.status == frame_status::udp) {
      CHECK(d.payload.size() <= d.payload_length);
      CHECK(d.source.family == d.destination.family);
    }
  }
}

TEST_CASE("NTP payloads are classified by proto::parse_packet and the mode bits") {
  proto::packet p;
  auto c = classify_ntp(request, false, p);
  CHECK(c.kind == ntp_kind::packet);
  CHECK(c.version == 4);
  CHECK(c.mode == 3);
  CHECK(p.transmit.bits() == 0x1122334455667788ull);
  CHECK(p.mode == proto::association_mode::client);

  const f::bytes control = {0x16, 0x02, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};  // v2 READVAR
  c = classify_ntp(control, false, p);
  CHECK(c.kind == ntp_kind::control);
  CHECK(c.version == 2);
  CHECK(classify_ntp(f::bytes{0x17, 0, 3, 42, 0, 0, 0, 0}, false, p).kind ==
        ntp_kind::private_mode);
  CHECK(classify_ntp(f::bytes{0x16, 0x02, 0}, false, p).kind == ntp_kind::malformed);
  CHECK(classify_ntp(f::bytes{0x16, 0x02, 0}, true, p).kind == ntp_kind::truncated);

  auto mode0 = request;
  mode0[0] = 0x20;
  CHECK(classify_ntp(mode0, false, p).kind == ntp_kind::malformed);
  const f::bytes short_one(request.begin(), request.begin() + 30);
  CHECK(classify_ntp(short_one, false, p).kind == ntp_kind::malformed);
  CHECK(classify_ntp(short_one, true, p).kind == ntp_kind::truncated);
  CHECK(classify_ntp({}, false, p).kind == ntp_kind::malformed);

  // 48 + 7 bytes: neither a field nor a MAC.
  auto odd = request;
  odd.resize(55, 0xaa);
  c = classify_ntp(odd, false, p);
  CHECK(c.kind == ntp_kind::malformed);
  CHECK(c.error == proto::errc::bad_mac_length);
  // The same cut by the capture: the header alone is read.
  c = classify_ntp(odd, true, p);
  CHECK(c.kind == ntp_kind::packet);
  CHECK(c.header_only);
}
