#include "ntpkit/capture/flows.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "../../lib/capture/latency.hpp"
#include "capture/frame_builder.hpp"

using namespace ntpkit;
using namespace ntpkit::capture;
using namespace std::chrono_literals;
namespace f = ntpkit::test::frames;

namespace {

constexpr std::int64_t base_ns = 1'699'999'800'000'000'000;  // 2023-11-14, a 5-minute boundary
constexpr std::int64_t ms = 1'000'000;
constexpr std::int64_t sec = 1'000'000'000;

struct harness {
  census c;
  std::uint64_t frame = 0;
  explicit harness(census_options o = {}) : c(std::move(o)) {}

  void add(std::int64_t t, const f::bytes& ip) {
    c.add_frame(proto::sys_nanoseconds(std::chrono::nanoseconds(base_ns + t)), link::raw, ip,
                frame_ref{0, ++frame});
  }
  // A mode 3 request from client:port to the server with transmit `xmt`.
  void request(std::int64_t t, f::v4 client, std::uint16_t port, std::uint64_t xmt,
               std::uint8_t version = 4, std::uint8_t mode = 3, f::v4 server = f::server4) {
    add(t, f::ipv4(client, server, 17, f::udp(port, 123, f::ntp(version, mode, xmt))));
  }
  // The server's answer to `origin`, T3 - T2 = processing_ns, with stratum (0: a kiss).
  void response(std::int64_t t, f::v4 client, std::uint16_t port, std::uint64_t origin,
                std::int64_t processing_ns = 20'000, std::uint8_t stratum = 2,
                std::array<std::uint8_t, 4> refid = {'R', 'A', 'T', 'E'}) {
    const std::uint64_t t2 = 0xe000000000000000ull;
    const std::uint64_t t3 =
        t2 + static_cast<std::uint64_t>(proto::duration::from_ns(processing_ns).bits());
    add(t, f::ipv4(f::server4, client, 17,
                   f::udp(123, port, f::ntp(4, 4, t3, origin, t2, stratum, refid))));
  }
};

constexpr f::v4 a = {192, 0, 2, 1}, b = {192, 0, 2, 2}, c3 = {192, 0, 2, 3};

}  // namespace

TEST_CASE("answers are matched by 5-tuple and origin; delta and T3 - T2 come out exact") {
  harness h;
  h.request(0, a, 40001, 0x1111);
  h.response(1 * ms, a, 40001, 0x1111, 10'000);
  h.request(64 * sec, a, 40001, 0x2222);
  h.response(64 * sec + 2 * ms, a, 40001, 0x2222, 20'000);
  h.request(128 * sec, a, 40001, 0x3333);
  h.response(128 * sec + 3 * ms, a, 40001, 0x3333, 30'000);
  const auto r = h.c.result();
  CHECK(r.matching.requests == 3);
  CHECK(r.matching.matched == 3);
  CHECK(r.delta.count == 3);
  CHECK(r.delta.min == 1ms);
  CHECK(r.delta.max == 3ms);
  // Quantiles are bucket midpoints: within 1/256 of the value.
  CHECK(std::abs((r.delta.median - 2ms).count()) <= 2'000'000 / 256);
  CHECK(r.processing.min == 10us);
  CHECK(r.processing.max == 30us);
  REQUIRE(r.slowest.size() == 3);
  CHECK(r.slowest[0].delta == 3ms);
  CHECK(r.slowest[0].request_frame == 5);
  CHECK(r.slowest[0].response_frame == 6);
  CHECK(r.slowest[0].client == model::ip_address::v4(a));
  CHECK(r.matching.unanswered == 0);
  CHECK(r.matching.pending_at_end == 0);
  // Coarse buckets: 1 ms falls in le=1ms, 2 ms and 3 ms in le=2.5ms and le=5ms.
  const auto& hist = r.delta_histogram;
  std::uint64_t total = 0;
  for (auto n : hist.counts) total += n;
  CHECK(total == 3);
  const auto at = [&](std::chrono::nanoseconds le) {
    const auto i = std::find(hist.upper_bounds.begin(), hist.upper_bounds.end(), le) -
                   hist.upper_bounds.begin();
    return hist.counts[static_cast<std::size_t>(i)];
  };
  CHECK(at(1ms) == 1);
  CHECK(at(2500us) == 1);
  CHECK(at(5ms) == 1);
}

TEST_CASE("a retry and a lost answer are not mismatched (where Wireshark's rule would be)") {
  harness h;
  // X1 at 0 s; the client gives up and retries X2 at 1 s; the answer to X1 arrives at 1.2 s
  // (the latest request in the conversation is X2, but the origin says X1), X2 is never
  // answered.
  h.request(0, a, 40001, 0xa1);
  h.request(1 * sec, a, 40001, 0xa2);
  h.response(1200 * ms, a, 40001, 0xa1);
  h.request(30 * sec, b, 40002, 0xb1);  // later traffic: X2 has waited out its time
  const auto r = h.c.result();
  CHECK(r.matching.matched == 1);
  CHECK(r.delta.min == 1200ms);
  CHECK(r.delta.max == 1200ms);
  CHECK(r.matching.unanswered == 1);
  CHECK(r.matching.pending_at_end == 1);  // b's request, at the very end
}

TEST_CASE("late, duplicate and unmatched answers are counted apart from the statistics") {
  census_options o;
  o.response_timeout = 5s;
  harness h(o);
  h.request(0, a, 40001, 0x1);
  h.response(7 * sec, a, 40001, 0x1);  // after the timeout, within twice it: late
  h.request(20 * sec, b, 40002, 0x2);
  h.response(20 * sec + 1 * ms, b, 40002, 0x2);
  h.response(20 * sec + 2 * ms, b, 40002, 0x2);   // a second answer
  h.response(20 * sec + 3 * ms, b, 40002, 0x99);  // to nothing captured
  h.response(20 * sec + 4 * ms, b, 40003, 0x2);   // other port: not the same conversation
  const auto r = h.c.result();
  CHECK(r.matching.late == 1);
  CHECK(r.matching.matched == 1);
  CHECK(r.matching.duplicate_responses == 1);
  CHECK(r.matching.unmatched_responses == 2);
  CHECK(r.delta.count == 1);
  CHECK(r.delta.max == 1ms);
  CHECK(r.matching.unanswered == 0);
}

TEST_CASE("the same request twice is one request to time, counted as a duplicate") {
  harness h;
  h.request(0, a, 40001, 0x5);
  h.request(100 * ms, a, 40001, 0x5);
  h.response(150 * ms, a, 40001, 0x5);
  const auto r = h.c.result();
  CHECK(r.matching.duplicate_requests == 1);
  CHECK(r.matching.matched == 1);
  CHECK(r.delta.max == 150ms);
}

TEST_CASE("kiss-o'-death answers are counted by code") {
  harness h;
  h.request(0, a, 1, 0x1);
  h.response(1 * ms, a, 1, 0x1, 0, 0, {'R', 'A', 'T', 'E'});
  h.request(10 * ms, a, 1, 0x2);
  h.response(11 * ms, a, 1, 0x2, 0, 0, {'R', 'A', 'T', 'E'});
  h.request(20 * ms, b, 2, 0x3);
  h.response(21 * ms, b, 2, 0x3, 0, 0, {'D', 'E', 'N', 'Y'});
  const auto r = h.c.result();
  REQUIRE(r.kisses.size() == 2);
  CHECK(std::string(r.kisses[0].code.begin(), r.kisses[0].code.end()) == "RATE");
  CHECK(r.kisses[0].count == 2);
  CHECK(r.kisses[1].count == 1);
}

TEST_CASE("control clients and spoofed-looking sources are kept apart from clients") {
  census_options o;
  o.server_addresses = {model::ip_address::v4(f::server4)};
  harness h(o);
  h.request(0, a, 40001, 0x1);
  h.add(1 * ms, f::ipv4(b, f::server4, 17,
                        f::udp(40002, 123, f::bytes{0x16, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0})));
  h.add(2 * ms,
        f::ipv4(c3, f::server4, 17, f::udp(40003, 123, f::bytes{0x17, 0, 3, 42, 0, 0, 0, 0})));
  h.request(3 * ms, c3, 0, 0x2);                              // port 0
  h.request(4 * ms, {224, 0, 1, 1}, 123, 0x3);                // multicast source
  h.request(5 * ms, {255, 255, 255, 255}, 123, 0x4);          // broadcast source
  h.request(6 * ms, f::server4, 50000, 0x5);                  // the server's own address
  h.request(7 * ms, a, 40001, 0x6, 4, 3, {198, 51, 100, 9});  // to another server: not ours
  const auto r = h.c.result();
  CHECK(r.clients == 1);
  CHECK(r.control_clients == 2);
  CHECK(r.control_packets == 2);
  CHECK(r.spoofed_sources == 4);
  CHECK(r.spoofed_packets == 4);
  CHECK(r.matching.requests == 1);
  CHECK(r.datagrams.ntp == 8);
}

TEST_CASE("clients are distinct per interval and overall, split by family, version and mode") {
  census_options o;
  o.interval = 60s;
  harness h(o);
  h.request(0, a, 1, 1, 4);
  h.request(1 * sec, a, 1, 2, 3);  // the same client with version 3
  h.request(2 * sec, b, 1, 3, 4);
  h.request(3 * sec, c3, 123, 4, 4, 1);  // symmetric active: a client too
  h.add(4 * sec, f::ipv6(f::client6, f::server6, 17, f::udp(5, 123, f::ntp(4, 3, 9))));
  h.request(61 * sec, a, 1, 5, 4);  // next interval: a again
  const auto r = h.c.result();
  CHECK(r.clients == 4);
  CHECK(r.client_split.by_family[0] == 3);
  CHECK(r.client_split.by_family[1] == 1);
  CHECK(r.client_split.by_version[4] == 4);
  CHECK(r.client_split.by_version[3] == 1);
  CHECK(r.client_split.by_mode[3] == 3);
  CHECK(r.client_split.by_mode[1] == 1);
  REQUIRE(r.intervals.size() == 2);
  CHECK(r.intervals[0].clients == 4);
  CHECK(r.intervals[0].requests == 5);
  CHECK(r.intervals[0].packets == 5);
  CHECK(r.intervals[0].start.time_since_epoch().count() == base_ns);
  CHECK(r.intervals[1].clients == 1);
  CHECK(r.intervals[1].client_split.by_version[4] == 1);
  CHECK(r.intervals[1].client_split.by_version[3] == 0);
  CHECK(r.datagrams.split.by_version[3] == 1);
}

TEST_CASE("peak packets per second per interval and overall") {
  census_options o;
  o.interval = 60s;
  harness h(o);
  for (int i = 0; i < 5; ++i) h.request(10 * sec + i * 100 * ms, a, 1, 100 + i);
  h.request(12 * sec, a, 1, 200);
  for (int i = 0; i < 7; ++i) h.request(70 * sec + i * 10 * ms, b, 1, 300 + i);
  const auto r = h.c.result();
  REQUIRE(r.intervals.size() == 2);
  CHECK(r.intervals[0].peak_pps == 5);
  CHECK(r.intervals[1].peak_pps == 7);
  CHECK(r.peak_pps == 7);
}

TEST_CASE("top talkers with first and last seen and the median request interval") {
  harness h;
  for (int i = 0; i < 12; ++i) h.request(i * 64 * sec, a, 1, 10 + i);
  for (int i = 0; i < 3; ++i) h.request(i * 2 * sec, b, 1, 100 + i);
  h.request(5 * sec, c3, 1, 999);
  const auto r = h.c.result();
  REQUIRE(r.top_talkers.size() == 3);
  CHECK(r.top_talkers[0].address == model::ip_address::v4(a));
  CHECK(r.top_talkers[0].packets == 12);
  CHECK(r.top_talkers[0].first_seen.time_since_epoch().count() == base_ns);
  CHECK(r.top_talkers[0].last_seen.time_since_epoch().count() == base_ns + 11 * 64 * sec);
  CHECK(r.top_talkers[0].median_interval == std::chrono::nanoseconds(64s));
  CHECK(r.top_talkers[1].median_interval == std::chrono::nanoseconds(2s));
  CHECK_FALSE(r.top_talkers[2].median_interval.has_value());
  CHECK(r.fast_clients == 1);  // b polls every 2 s, under the 8 s of ntpd's discard average
}

TEST_CASE("the outstanding table holds its bound and says what it forgot") {
  census_options o;
  o.max_outstanding = 4;
  harness h(o);
  for (int i = 0; i < 10; ++i) h.request(i * ms, a, static_cast<std::uint16_t>(1000 + i), i + 1);
  CHECK(h.c.outstanding() == 4);
  h.response(20 * ms, a, 1009, 10);  // still waiting: matched
  h.response(21 * ms, a, 1000, 1);   // forgotten: unmatched
  const auto r = h.c.result();
  CHECK(r.matching.dropped == 6);
  CHECK(r.matching.matched == 1);
  CHECK(r.matching.unmatched_responses == 1);
  CHECK(r.outstanding_peak == 4);
  CHECK(r.matching.pending_at_end == 3);
}

TEST_CASE("frames that are not NTP are counted by why") {
  harness h;
  const auto dgram = f::udp(40000, 123, f::ntp(4, 3, 1));
  f::ipv4_opts frag;
  frag.more_fragments = true;
  h.add(0, f::ipv4(a, f::server4, 17, f::bytes(dgram.begin(), dgram.begin() + 24), frag));
  h.add(1, f::ipv4(a, f::server4, 17, f::udp(1, 53, f::bytes(20, 0))));
  h.add(2, f::ipv4(a, f::server4, 6, f::bytes(20, 0)));
  h.add(3, f::bytes{0x45, 0});
  h.add(4, f::ipv4(a, f::server4, 17, f::udp(1, 123, f::bytes(20, 0x23))));  // too short
  h.add(5, f::ipv4(a, f::server4, 47, f::gre(0x0800, f::ipv4(a, f::server4, 17, dgram))));
  const auto r = h.c.result();
  CHECK(r.frames.frames == 6);
  CHECK(r.frames.fragments == 1);
  CHECK(r.frames.fragments_ntp_port == 1);
  CHECK(r.frames.other_udp == 1);
  CHECK(r.frames.other_protocol == 1);
  CHECK(r.frames.truncated == 1);
  CHECK(r.frames.ntp == 2);
  CHECK(r.frames.tunnelled == 1);
  CHECK(r.datagrams.malformed == 1);
  CHECK(r.datagrams.ntp == 1);
  CHECK(r.clients == 1);
}

TEST_CASE("another server port is followed when given") {
  census_options o;
  o.server_port = 11123;
  harness h(o);
  h.add(0, f::ipv4(a, f::server4, 17, f::udp(40000, 11123, f::ntp(4, 3, 7))));
  h.add(1, f::ipv4(a, f::server4, 17, f::udp(40000, 123, f::ntp(4, 3, 8))));
  const auto r = h.c.result();
  CHECK(r.clients == 1);
  CHECK(r.frames.ntp == 1);
  CHECK(r.frames.other_udp == 1);
}

TEST_CASE("histogram quantiles are within 1/256 of the exact nearest-rank quantile") {
  const std::uint64_t seed = 0xde17a;
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 50; ++round) {
    detail::fine_histogram hist;
    std::vector<std::uint64_t> v(1 + rng() % 2000);
    for (auto& x : v) {
      x = (rng() >> 2) >> (rng() % 62);
      hist.add(x);
    }
    std::sort(v.begin(), v.end());
    const auto exact = [&](double q) {
      std::size_t rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
      return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
    };
    const auto s = hist.summary();
    CHECK(s.count == v.size());
    CHECK(static_cast<std::uint64_t>(s.min.count()) == v.front());
    CHECK(static_cast<std::uint64_t>(s.max.count()) == v.back());
    for (auto [q, got] : {std::pair{0.5, s.median}, {0.9, s.p90}, {0.99, s.p99}}) {
      const double want = static_cast<double>(exact(q));
      const double diff = std::abs(static_cast<double>(got.count()) - want);
      CHECK(diff <= want / 256 + 1);
    }
  }
}

TEST_CASE("a source equal to its destination is spoofed-looking, except on loopback") {
  harness h;
  const f::v4 public_server = {198, 51, 100, 7}, lo = {127, 0, 0, 1};
  h.request(0, public_server, 40000, 1, 4, 3, public_server);
  h.request(1 * ms, lo, 40000, 2, 4, 3, lo);  // ntpdig on the server itself
  const auto r = h.c.result();
  CHECK(r.spoofed_sources == 1);
  CHECK(r.clients == 1);
  CHECK(model::is_loopback(model::ip_address::v4(lo)));
}
