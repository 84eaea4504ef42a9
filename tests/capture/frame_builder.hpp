#pragma once

// A small generator of synthetic frames and capture files for the capture tests: each
// function wraps a payload in one header, written from the RFCs' layouts (checksums left 0,
// which the decoder does not read), and the pcap/pcapng writers follow the file formats
// (pcap: tcpdump.org's LINKTYPES/file format; pcapng: draft-ietf-opsawg-pcapng).

#include <array>
#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace ntpkit::test::frames {

using bytes = std::vector<std::uint8_t>;
using v4 = std::array<std::uint8_t, 4>;
using v6 = std::array<std::uint8_t, 16>;

inline void put16(bytes& b, std::uint32_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
inline void put32(bytes& b, std::uint32_t v) {
  put16(b, v >> 16);
  put16(b, v & 0xffff);
}
inline void put64(bytes& b, std::uint64_t v) {
  put32(b, static_cast<std::uint32_t>(v >> 32));
  put32(b, static_cast<std::uint32_t>(v));
}
inline void append(bytes& b, const bytes& tail) { b.insert(b.end(), tail.begin(), tail.end()); }

/// A 48-byte NTP header: first octet from version and mode, the given stratum, refid,
/// origin, receive and transmit.
inline bytes ntp(std::uint8_t version, std::uint8_t mode, std::uint64_t transmit,
                 std::uint64_t origin = 0, std::uint64_t receive = 0, std::uint8_t stratum = 0,
                 std::array<std::uint8_t, 4> refid = {}) {
  bytes b;
  b.push_back(static_cast<std::uint8_t>(version << 3 | mode));
  b.push_back(stratum);
  b.push_back(6);     // poll
  b.push_back(0xec);  // precision
  put32(b, 0);
  put32(b, 0);
  b.insert(b.end(), refid.begin(), refid.end());
  put64(b, 0);  // reference
  put64(b, origin);
  put64(b, receive);
  put64(b, transmit);
  return b;
}

/// RFC 768: ports, length, checksum 0. `length` overrides the length field when non-zero.
inline bytes udp(std::uint16_t sport, std::uint16_t dport, const bytes& payload,
                 std::uint32_t length = 0) {
  bytes b;
  put16(b, sport);
  put16(b, dport);
  put16(b, length ? length : static_cast<std::uint32_t>(payload.size() + 8));
  put16(b, 0);
  append(b, payload);
  return b;
}

struct ipv4_opts {
  bytes options;  ///< multiple of 4 bytes
  bool more_fragments = false;
  std::uint16_t offset8 = 0;  ///< fragment offset in 8-byte units
  std::uint32_t total = 0;    ///< total length override (0: computed)
};

/// RFC 791 header (checksum 0) around `payload`.
inline bytes ipv4(v4 src, v4 dst, std::uint8_t protocol, const bytes& payload,
                  const ipv4_opts& o = {}) {
  bytes b;
  const std::size_t ihl = 20 + o.options.size();
  b.push_back(static_cast<std::uint8_t>(0x40 | ihl / 4));
  b.push_back(0);
  put16(b, o.total ? o.total : static_cast<std::uint32_t>(ihl + payload.size()));
  put16(b, 0x1234);
  put16(b, (o.more_fragments ? 0x2000u : 0u) | o.offset8);
  b.push_back(64);
  b.push_back(protocol);
  put16(b, 0);
  b.insert(b.end(), src.begin(), src.end());
  b.insert(b.end(), dst.begin(), dst.end());
  append(b, o.options);
  append(b, payload);
  return b;
}

/// One IPv6 extension header: its type and its body after the next-header octet (the
/// builder writes next header and, for all but the fragment header, the length octet).
struct ipv6_ext {
  std::uint8_t type;
  bytes body;  ///< for 0/43/60: 6 + 8k bytes; for 51 (AH): 10 + 4k; for 44: 7 bytes
};

/// RFC 8200 header and the extension chain around `payload` (whose protocol is `next`).
inline bytes ipv6(v6 src, v6 dst, std::uint8_t next, const bytes& payload,
                  const std::vector<ipv6_ext>& chain = {}) {
  bytes exts;
  for (std::size_t i = 0; i < chain.size(); ++i) {
    const std::uint8_t following = i + 1 < chain.size() ? chain[i + 1].type : next;
    exts.push_back(following);
    const auto& e = chain[i];
    if (e.type == 44) {
      append(exts, e.body);
    } else if (e.type == 51) {
      exts.push_back(static_cast<std::uint8_t>((e.body.size() + 2) / 4 - 2));
      append(exts, e.body);
    } else {
      exts.push_back(static_cast<std::uint8_t>((e.body.size() + 2) / 8 - 1));
      append(exts, e.body);
    }
  }
  bytes b;
  put32(b, 0x60000000);
  put16(b, static_cast<std::uint32_t>(exts.size() + payload.size()));
  b.push_back(chain.empty() ? next : chain.front().type);
  b.push_back(64);
  b.insert(b.end(), src.begin(), src.end());
  b.insert(b.end(), dst.begin(), dst.end());
  append(b, exts);
  append(b, payload);
  return b;
}

/// Ethernet II with VLAN tags (each TPID 0x8100, 0x88a8 or 0x9100), innermost last.
inline bytes ethernet(std::uint16_t ethertype, const bytes& payload,
                      std::initializer_list<std::uint16_t> tags = {}) {
  bytes b = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};
  std::uint16_t vid = 100;
  for (const auto tpid : tags) {
    put16(b, tpid);
    put16(b, vid++);
  }
  put16(b, ethertype);
  append(b, payload);
  while (b.size() < 60) b.push_back(0);  // minimum frame: padding the decoder must skip
  return b;
}

/// Linux cooked v1 (16 bytes) and v2 (20 bytes) headers.
inline bytes sll(std::uint16_t protocol, const bytes& payload) {
  bytes b;
  put16(b, 0);  // packet type: to us
  put16(b, 1);  // ARPHRD_ETHER
  put16(b, 6);
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<std::uint8_t>(i < 6 ? 0x10 + i : 0));
  put16(b, protocol);
  append(b, payload);
  return b;
}
inline bytes sll2(std::uint16_t protocol, const bytes& payload) {
  bytes b;
  put16(b, protocol);
  put16(b, 0);
  put32(b, 2);  // interface index
  put16(b, 1);  // ARPHRD_ETHER
  b.push_back(0);
  b.push_back(6);
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<std::uint8_t>(i < 6 ? 0x20 + i : 0));
  append(b, payload);
  return b;
}

/// DLT_NULL (family in little-endian, as an x86 BSD writes it) and DLT_LOOP (big-endian).
inline bytes null_le(std::uint32_t af, const bytes& payload) {
  bytes b = {static_cast<std::uint8_t>(af), static_cast<std::uint8_t>(af >> 8),
             static_cast<std::uint8_t>(af >> 16), static_cast<std::uint8_t>(af >> 24)};
  append(b, payload);
  return b;
}
inline bytes loop(std::uint32_t af, const bytes& payload) {
  bytes b;
  put32(b, af);
  append(b, payload);
  return b;
}

/// RFC 2784/2890 GRE with the optional checksum, key and sequence fields.
inline bytes gre(std::uint16_t protocol, const bytes& payload, bool checksum = false,
                 bool key = false, bool sequence = false) {
  bytes b;
  put16(b, (checksum ? 0x8000u : 0u) | (key ? 0x2000u : 0u) | (sequence ? 0x1000u : 0u));
  put16(b, protocol);
  if (checksum) put32(b, 0);
  if (key) put32(b, 0xdeadbeef);
  if (sequence) put32(b, 7);
  append(b, payload);
  return b;
}

/// RFC 7348: flags (I), VNI, then the inner Ethernet frame.
inline bytes vxlan(const bytes& inner_ethernet, std::uint32_t vni = 42) {
  bytes b = {0x08, 0, 0, 0};
  put32(b, vni << 8);
  append(b, inner_ethernet);
  return b;
}

inline constexpr v4 client4 = {192, 0, 2, 10};
inline constexpr v4 server4 = {198, 51, 100, 1};
inline constexpr v6 client6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
inline constexpr v6 server6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};

/// One frame to write: capture time in ns since the epoch, link type (pcapng: interface).
struct record {
  std::int64_t time_ns = 0;
  bytes data;
  std::uint32_t original_length = 0;  ///< 0: data.size()
  std::uint32_t interface = 0;        ///< pcapng only
};

inline void le16(bytes& b, std::uint32_t v) {
  b.push_back(static_cast<std::uint8_t>(v));
  b.push_back(static_cast<std::uint8_t>(v >> 8));
}
inline void le32(bytes& b, std::uint32_t v) {
  le16(b, v & 0xffff);
  le16(b, v >> 16);
}

/// A classic little-endian pcap file (nanosecond magic a1b23c4d when `nanoseconds`).
inline bytes pcap_file(std::uint32_t link_type, const std::vector<record>& records,
                       bool nanoseconds = true, std::uint32_t snaplen = 65535) {
  bytes b;
  le32(b, nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4);
  le16(b, 2);
  le16(b, 4);
  le32(b, 0);
  le32(b, 0);
  le32(b, snaplen);
  le32(b, link_type);
  for (const auto& r : records) {
    le32(b, static_cast<std::uint32_t>(r.time_ns / 1'000'000'000));
    const auto sub = r.time_ns % 1'000'000'000;
    le32(b, static_cast<std::uint32_t>(nanoseconds ? sub : sub / 1000));
    le32(b, static_cast<std::uint32_t>(r.data.size()));
    le32(b, r.original_length ? r.original_length : static_cast<std::uint32_t>(r.data.size()));
    append(b, r.data);
  }
  return b;
}

/// A pcapng block: type, total length, body padded to 4, total length again.
inline void pcapng_block(bytes& out, std::uint32_t type, const bytes& body) {
  bytes padded = body;
  while (padded.size() % 4) padded.push_back(0);
  const auto total = static_cast<std::uint32_t>(12 + padded.size());
  le32(out, type);
  le32(out, total);
  append(out, padded);
  le32(out, total);
}

/// One pcapng interface: link type, snaplen, if_tsresol exponent (9: ns, 6: µs).
struct interface_desc {
  std::uint32_t link_type;
  std::uint32_t snaplen = 65535;
  std::uint8_t tsresol = 9;
};

/// A little-endian pcapng file: SHB, the IDBs, then an EPB per record.
inline bytes pcapng_file(const std::vector<interface_desc>& interfaces,
                         const std::vector<record>& records) {
  bytes out;
  bytes shb;
  le32(shb, 0x1a2b3c4d);
  le16(shb, 1);
  le16(shb, 0);
  le32(shb, 0xffffffff);  // section length unknown
  le32(shb, 0xffffffff);
  pcapng_block(out, 0x0a0d0d0a, shb);
  for (const auto& i : interfaces) {
    bytes idb;
    le16(idb, i.link_type);
    le16(idb, 0);
    le32(idb, i.snaplen);
    le16(idb, 9);  // if_tsresol
    le16(idb, 1);
    idb.push_back(i.tsresol);
    idb.insert(idb.end(), {0, 0, 0});
    le32(idb, 0);  // opt_endofopt
    pcapng_block(out, 1, idb);
  }
  for (const auto& r : records) {
    std::uint64_t units = static_cast<std::uint64_t>(r.time_ns);
    if (interfaces.at(r.interface).tsresol == 6) units /= 1000;
    bytes epb;
    le32(epb, r.interface);
    le32(epb, static_cast<std::uint32_t>(units >> 32));
    le32(epb, static_cast<std::uint32_t>(units));
    le32(epb, static_cast<std::uint32_t>(r.data.size()));
    le32(epb, r.original_length ? r.original_length : static_cast<std::uint32_t>(r.data.size()));
    append(epb, r.data);
    pcapng_block(out, 6, epb);
  }
  return out;
}

/// Writes `b` to `path`.
inline void write_file(const std::string& path, const bytes& b) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

}  // namespace ntpkit::test::frames
