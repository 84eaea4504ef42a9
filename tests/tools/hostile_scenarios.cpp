#include "hostile_scenarios.hpp"

#include <algorithm>
#include <array>

namespace ntpkit::hostile {
namespace {

using proto::association_mode;
using proto::packet;
using bytes = std::vector<std::uint8_t>;

void kiss(packet& p, const char (&code)[5]) {
  p.stratum = 0;
  std::copy_n(code, 4, p.refid.begin());
}

proto::timestamp shifted(proto::timestamp t, std::int64_t seconds) {
  return t + proto::duration::from_bits(seconds * (std::int64_t{1} << 32));
}

// Appends `n` unknown extension fields of 16 bytes, the last one `last_size` bytes long.
void add_fields(packet& p, unsigned n, std::size_t last_size) {
  for (unsigned i = 0; i < n; ++i) {
    p.extensions.push_back({0xf000, bytes((i + 1 == n ? last_size : 16) - 4, 0)});
  }
}

// RFC 5905 §7.3 names the fields; each row below breaks one of them (or the bytes, or the
// socket) and leaves the rest as a correct server would send them.
constexpr scenario table[] = {
    {.name = "good", .what = "a correct reply"},
    {.name = "silent", .what = "no reply at all", .act = behaviour::silent},
    {.name = "wrong_origin",
     .what = "origin timestamp is not the transmit timestamp we sent",
     .change = [](packet& p) { p.origin = proto::timestamp::from_bits(p.origin.bits() ^ 1); }},
    {.name = "other_port",
     .what = "reply from the server's address, another port",
     .from = via::other_port},
    {.name = "other_address",
     .what = "reply from another address, the server's port",
     .from = via::other_address},
    {.name = "duplicate", .what = "the reply sent twice", .copies = 2},
    {.name = "replay",
     .what = "every request after the first gets the first reply again",
     .act = behaviour::replay},
    {.name = "truncated",
     .what = "47 bytes: one short of a header",
     .wire = [](bytes& b) { b.resize(47); }},
    {.name = "empty", .what = "a datagram of 0 bytes", .wire = [](bytes& b) { b.clear(); }},
    {.name = "oversized",
     .what = "3000 bytes, more than any NTP packet",
     .wire = [](bytes& b) { b.resize(3000, 0xa5); }},
    {.name = "max_datagram",
     .what = "a 2048-byte datagram whose trailer is no field or MAC",
     .wire = [](bytes& b) { b.resize(2048, 0xa5); }},
    {.name = "odd_length",
     .what = "49 bytes: a header and one stray byte",
     .wire = [](bytes& b) { b.push_back(0); }},
    {.name = "version_0", .what = "version 0", .change = [](packet& p) { p.version = 0; }},
    {.name = "version_5", .what = "version 5", .change = [](packet& p) { p.version = 5; }},
    {.name = "mode_3",
     .what = "mode 3 (client): our own request reflected",
     .change = [](packet& p) { p.mode = association_mode::client; }},
    {.name = "mode_5",
     .what = "mode 5 (broadcast)",
     .change = [](packet& p) { p.mode = association_mode::broadcast; }},
    {.name = "mode_6",
     .what = "mode 6 (control)",
     .change = [](packet& p) { p.mode = association_mode::control; }},
    {.name = "leap_3",
     .what = "leap indicator 3: clock unsynchronised",
     .change = [](packet& p) { p.leap = proto::leap_indicator::unsynchronised; }},
    {.name = "kiss_rate",
     .what = "Kiss-o'-Death RATE (stratum 0)",
     .change = [](packet& p) { kiss(p, "RATE"); }},
    {.name = "kiss_deny",
     .what = "Kiss-o'-Death DENY",
     .change = [](packet& p) { kiss(p, "DENY"); }},
    {.name = "kiss_rstr",
     .what = "Kiss-o'-Death RSTR",
     .change = [](packet& p) { kiss(p, "RSTR"); }},
    {.name = "kiss_unknown",
     .what = "Kiss-o'-Death with a code RFC 5905 does not define (ZZZZ)",
     .change = [](packet& p) { kiss(p, "ZZZZ"); }},
    {.name = "kiss_binary",
     .what = "Kiss-o'-Death whose code is not text (00 ff 0a 1b)",
     .change =
         [](packet& p) {
           p.stratum = 0;
           p.refid = {0x00, 0xff, 0x0a, 0x1b};
         }},
    {.name = "kiss_spoofed",
     .what = "Kiss-o'-Death RATE with a foreign origin (off-path forgery)",
     .change =
         [](packet& p) {
           kiss(p, "RATE");
           p.origin = proto::timestamp::from_bits(~p.origin.bits());
         }},
    {.name = "stratum_16",
     .what = "stratum 16: unsynchronised",
     .change = [](packet& p) { p.stratum = 16; }},
    {.name = "stratum_255", .what = "stratum 255", .change = [](packet& p) { p.stratum = 255; }},
    {.name = "zero_transmit",
     .what = "transmit timestamp (T3) zero",
     .change = [](packet& p) { p.transmit = {}; }},
    {.name = "zero_receive",
     .what = "receive timestamp (T2) zero",
     .change = [](packet& p) { p.receive = {}; }},
    {.name = "t3_before_t2",
     .what = "T3 one second before T2",
     .change = [](packet& p) { p.transmit = shifted(p.receive, -1); }},
    {.name = "slow_processing",
     .what = "T3 - T2 = 10 s, longer than the round trip",
     .change = [](packet& p) { p.receive = shifted(p.transmit, -10); }},
    {.name = "root_delay_absurd",
     .what = "root delay 65536 s (0xffffffff)",
     .change = [](packet& p) { p.root_delay = proto::short_duration::from_bits(0xffffffff); }},
    {.name = "root_dispersion_absurd",
     .what = "root dispersion 65536 s (0xffffffff)",
     .change = [](packet& p) { p.root_dispersion = proto::short_duration::from_bits(0xffffffff); }},
    {.name = "reference_zero",
     .what = "reference timestamp zero at stratum 2 (accepted: never synchronised)",
     .change = [](packet& p) { p.reference = {}; }},
    {.name = "reference_future",
     .what = "reference time an hour after T3",
     .change = [](packet& p) { p.reference = shifted(p.transmit, 3600); }},
    {.name = "extension_fields",
     .what = "a correct reply carrying 100 unknown extension fields, the last of 28 bytes",
     .change = [](packet& p) { add_fields(p, 100, 28); }},
    {.name = "short_last_field",
     .what = "an extension field of 16 bytes last, without a MAC (RFC 7822 wants 28)",
     .change = [](packet& p) { add_fields(p, 1, 16); }},
    {.name = "bad_mac",
     .what = "MAC with a wrong digest (last byte flipped)",
     .wire = [](bytes& b) { b.back() ^= 0xff; }},
    {.name = "mac_other_key", .what = "MAC by another key of the key file", .other_key = true},
    {.name = "mac_missing", .what = "no MAC although the request was signed", .sign = false},
    {.name = "crypto_nak",
     .what = "a crypto-NAK (key id 0, no digest)",
     .wire = [](bytes& b) { b.insert(b.end(), 4, 0); },
     .sign = false},
    {.name = "mac_truncated",
     .what = "MAC one byte short (digest of 15 bytes)",
     .wire = [](bytes& b) { b.pop_back(); }},
    {.name = "next_era",
     .what = "server clock 5 s past 2036-02-07T06:28:16Z (NTP era 1)",
     .next_era = true},
    {.name = "era_straddle",
     .what = "T2 1 ms before the era 1 boundary, T3 1 ms after",
     .act = behaviour::straddle},
    {.name = "late",
     .what = "the reply held 1.5 s (--delay-ms), past a 1 s timeout",
     .delay_ms = 1500},
    {.name = "flood",
     .what = "junk as fast as possible (--flood-ms, --flood-count)",
     .act = behaviour::flood},
    {.name = "trickle", .what = "a junk datagram every 100 ms, forever", .act = behaviour::trickle},
};

}  // namespace

std::span<const scenario> scenarios() noexcept { return table; }

const scenario* find_scenario(std::string_view name) noexcept {
  const auto it = std::find_if(std::begin(table), std::end(table),
                               [&](const scenario& s) { return s.name == name; });
  return it == std::end(table) ? nullptr : it;
}

packet genuine_reply(const packet& request, proto::sys_nanoseconds t2, proto::sys_nanoseconds t3) {
  packet p;
  p.leap = proto::leap_indicator::none;
  p.version = request.version >= 1 && request.version <= 4 ? request.version : 4;
  p.mode = association_mode::server;
  p.stratum = 2;
  p.poll = request.poll;
  p.precision = -20;
  p.root_delay = proto::short_duration::from_bits(66);  // about 1 ms
  p.root_dispersion = proto::short_duration::from_bits(66);
  p.refid = {192, 0, 2, 1};
  p.origin = request.transmit;
  p.receive = proto::from_sys_time(t2);
  p.transmit = proto::from_sys_time(t3);
  p.reference = shifted(p.receive, -16);
  return p;
}

std::vector<std::uint8_t> junk(const packet& request, std::size_t i) {
  packet p = genuine_reply(request, {}, {});
  p.origin = proto::timestamp::from_bits(request.transmit.bits() + 1 + i);
  auto b = proto::serialize_packet(p);
  switch (i % 3) {
    case 0:
      return b;
    case 1:
      b.resize(20);
      return b;
    default:
      b.resize(61, static_cast<std::uint8_t>(i));
      return b;
  }
}

}  // namespace ntpkit::hostile
