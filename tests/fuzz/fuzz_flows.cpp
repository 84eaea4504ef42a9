// Fuzz target: the census engine (capture/flows.hpp) fed a sequence of synthetic datagrams.
//
// Input: byte 0 sets the outstanding bound (1..16) and the response timeout (1..8 s), then
// records of 6 bytes each:
//   op      low 3 bits: NTP mode of the datagram; bit 3: from the server (else to it);
//           bits 4-5: stratum 0 (a kiss) / 2; bits 6-7: 0 normal, 1 source port 0,
//           2 a multicast source, 3 an undecodable frame
//   who     low 3 bits: one of 8 clients (IPv4 and IPv6), bits 3-5: its port
//   stamp   the transmit (requests) or origin (responses) timestamp, from a set of 16
//   gap     capture time since the previous datagram, in 8 ms units
//   gap2    ... in 2 s units (long gaps expire requests and open intervals)
//   t3      T3 - T2 in 10 µs units, the top bit making it negative
//
// Invariants, after every 32nd record and at the end (the outstanding bound after each):
// - each request that is not a duplicate ends in exactly one of matched, late, unanswered,
//   dropped and pending_at_end, so those add up to requests - duplicate_requests;
// - the outstanding table never holds more than its bound, nor the peak;
// - every matched answer is in the delta summary and histogram once, and in the processing
//   statistics or the negative count once;
// - clients split by family add up; the intervals' packets add up to the NTP datagrams and
//   their requests to the requests counted; frames add up over their outcomes.

#include <array>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>

#include "fuzz_check.hpp"
#include "ntpkit/capture/flows.hpp"
#include "ntpkit/proto/bytes.hpp"

namespace {

using namespace ntpkit;
using namespace ntpkit::capture;
using bytes = std::vector<std::uint8_t>;

constexpr std::array<std::uint8_t, 4> server{198, 51, 100, 1};

model::ip_address client_address(unsigned who) {
  std::array<std::uint8_t, 16> v6{0x20, 0x01, 0x0d, 0xb8};
  v6[15] = static_cast<std::uint8_t>(who);
  const std::array<std::uint8_t, 4> v4{192, 0, 2, static_cast<std::uint8_t>(who)};
  return who & 4 ? model::ip_address::v6(v6) : model::ip_address::v4(v4);
}

model::ip_address server_address(const model::ip_address& client) {
  std::array<std::uint8_t, 16> v6{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return client.family == model::family::ipv6 ? model::ip_address::v6(v6)
                                              : model::ip_address::v4(server);
}

bytes ntp_bytes(std::uint8_t mode, std::uint8_t stratum, std::uint64_t stamp, std::int64_t t3_ns) {
  bytes b(48, 0);
  b[0] = static_cast<std::uint8_t>(4 << 3 | mode);
  b[1] = stratum;
  b[12] = 'R';
  b[13] = 'A';
  b[14] = 'T';
  b[15] = 'E';
  const std::uint64_t t2 = 0xe000000000000000ull;
  const auto t3 = t2 + static_cast<std::uint64_t>(proto::duration::from_ns(t3_ns).bits());
  if (mode == 4) {
    proto::store_be64(b, 24, stamp);
    proto::store_be64(b, 32, t2);
    proto::store_be64(b, 40, t3);
  } else {
    proto::store_be64(b, 40, stamp);
  }
  return b;
}

void check(const census& c, const census_options& o) {
  const auto r = c.result();
  const auto& m = r.matching;
  NTPKIT_FUZZ_CHECK(c.outstanding() <= o.max_outstanding);
  NTPKIT_FUZZ_CHECK(r.outstanding_peak <= o.max_outstanding);
  NTPKIT_FUZZ_CHECK(m.matched + m.late + m.unanswered + m.dropped + m.pending_at_end ==
                    m.requests - m.duplicate_requests);
  NTPKIT_FUZZ_CHECK(m.matched <= m.requests);
  NTPKIT_FUZZ_CHECK(r.delta.count == m.matched);
  const auto hist = std::accumulate(r.delta_histogram.counts.begin(),
                                    r.delta_histogram.counts.end(), std::uint64_t{0});
  NTPKIT_FUZZ_CHECK(hist == m.matched);
  NTPKIT_FUZZ_CHECK(r.processing.count + m.negative_processing == m.matched);
  NTPKIT_FUZZ_CHECK(r.delta.min <= r.delta.median && r.delta.median <= r.delta.p90);
  NTPKIT_FUZZ_CHECK(r.delta.p90 <= r.delta.p99 && r.delta.p99 <= r.delta.max);
  NTPKIT_FUZZ_CHECK(r.client_split.by_family[0] + r.client_split.by_family[1] == r.clients);
  NTPKIT_FUZZ_CHECK(r.clients == c.clients());
  std::uint64_t packets = 0, requests = 0;
  for (const auto& i : r.intervals) {
    packets += i.packets;
    requests += i.requests;
    NTPKIT_FUZZ_CHECK(i.clients <= r.clients);
    NTPKIT_FUZZ_CHECK(i.peak_pps <= i.packets);
  }
  NTPKIT_FUZZ_CHECK(packets == r.datagrams.ntp);
  NTPKIT_FUZZ_CHECK(requests >= m.requests);
  const auto& f = r.frames;
  NTPKIT_FUZZ_CHECK(f.frames == f.ntp + f.other_udp + f.unsupported_link + f.not_ip + f.truncated +
                                    f.bad_header + f.fragments + f.other_protocol + f.too_deep);
  NTPKIT_FUZZ_CHECK(f.ntp == r.datagrams.ntp + r.datagrams.malformed + r.datagrams.truncated);
  NTPKIT_FUZZ_CHECK(r.slowest.size() <= std::min<std::uint64_t>(o.slowest, m.matched));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  census_options o;
  o.max_outstanding = 1 + (data[0] & 15u);
  o.response_timeout = std::chrono::seconds(1 + (data[0] >> 4 & 7u));
  o.interval = std::chrono::seconds(60);
  o.slowest = 3;
  census c(o);
  std::int64_t t = 1'700'000'000'000'000'000;
  std::uint64_t frame = 0;
  for (std::size_t at = 1; at + 6 <= size; at += 6) {
    const std::uint8_t op = data[at], who = data[at + 1];
    t += std::int64_t{data[at + 3]} * 8'000'000 + std::int64_t{data[at + 4]} * 2'000'000'000;
    const std::uint8_t mode = op & 7u;
    const bool from_server = op & 8u;
    const std::uint8_t stratum = (op >> 4 & 3u) == 0 ? 0 : 2;
    const unsigned variant = op >> 6;
    const std::int64_t t3 = (data[at + 5] & 0x7f) * 10'000 * ((data[at + 5] & 0x80) ? -1 : 1);
    const auto payload = ntp_bytes(mode, stratum, 0x1000 + (data[at + 2] & 15u), t3);
    decoded_frame d;
    d.status = variant == 3 ? frame_status::truncated : frame_status::udp;
    model::ip_address client = client_address(who & 7u);
    if (variant == 2) client = model::ip_address::v4(std::array<std::uint8_t, 4>{224, 0, 1, 1});
    const auto srv = server_address(client);
    const std::uint16_t port =
        variant == 1 ? 0 : static_cast<std::uint16_t>(40000 + (who >> 3 & 7u));
    d.source = from_server ? srv : client;
    d.destination = from_server ? client : srv;
    d.source_port = from_server ? 123 : port;
    d.destination_port = from_server ? port : 123;
    d.protocol = 17;
    if (d.status == frame_status::udp) {
      d.payload = payload;
      d.payload_length = static_cast<std::uint16_t>(payload.size());
    }
    c.add_decoded(proto::sys_nanoseconds(std::chrono::nanoseconds(t)), d, {0, ++frame});
    NTPKIT_FUZZ_CHECK(c.outstanding() <= o.max_outstanding);
    if (frame % 32 == 0) check(c, o);  // result() walks the histograms: not after each one
  }
  check(c, o);
  return 0;
}
