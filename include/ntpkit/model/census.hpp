#pragma once

// ntpclients' payload: a census of a server's clients and how fast it answered them (issue
// 14), as the capture layer's census engine (capture/flows.hpp) fills it from captured
// datagrams. Only numbers, addresses, times and typed values: the words are report's.
//
// Times are capture times (the capturing host's clock, nanoseconds); durations are
// std::chrono::nanoseconds. "Delta time" is a response's capture time minus its request's
// (the server's answer time as seen on the wire); "processing" is the server's own T3 - T2
// from the response.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "ntpkit/model/address.hpp"
#include "ntpkit/proto/timestamp.hpp"

namespace ntpkit::model {

/// Counts split by address family, NTP version (0..7 as sent) and mode (0..7).
struct census_split {
  std::array<std::uint64_t, 2> by_family{};   ///< index: family (ipv4 0, ipv6 1)
  std::array<std::uint64_t, 8> by_version{};  ///< index: the version field
  std::array<std::uint64_t, 8> by_mode{};     ///< index: the mode field
  friend bool operator==(const census_split&, const census_split&) = default;
};

/// What the frames of the input were, before any NTP was looked at. Every frame is counted
/// once in `frames` and once in exactly one of the other fields except `tunnelled`, `vlan`
/// and `fragments_ntp_port`, which say more of frames counted elsewhere.
struct census_frames {
  std::uint64_t frames = 0;              ///< frames read
  std::uint64_t ntp = 0;                 ///< UDP datagrams to or from the NTP port
  std::uint64_t other_udp = 0;           ///< UDP datagrams on other ports
  std::uint64_t unsupported_link = 0;    ///< a link type the decoder does not know
  std::uint64_t not_ip = 0;              ///< ARP, LLC, ... : not IPv4 or IPv6
  std::uint64_t truncated = 0;           ///< the captured bytes end inside a header
  std::uint64_t bad_header = 0;          ///< a header with an impossible version or length
  std::uint64_t fragments = 0;           ///< IPv4/IPv6 fragments (not reassembled)
  std::uint64_t fragments_ntp_port = 0;  ///< of those: first fragments of UDP on the NTP port
  std::uint64_t other_protocol = 0;      ///< TCP, ICMP, ESP, ...
  std::uint64_t too_deep = 0;            ///< more tunnels, tags or extension headers than allowed
  std::uint64_t tunnelled = 0;           ///< of `ntp`: inside a tunnel (6in4, IP-in-IP, GRE, VXLAN)
  std::uint64_t vlan = 0;                ///< of `ntp`: behind 802.1Q/802.1ad tags
  friend bool operator==(const census_frames&, const census_frames&) = default;
};

/// What the NTP datagrams were.
struct census_datagrams {
  std::uint64_t ntp = 0;          ///< parsed as NTP (modes 1-5) or mode 6/7 by the mode bits
  std::uint64_t malformed = 0;    ///< on the NTP port but not NTP (too short, mode 0, refused)
  std::uint64_t truncated = 0;    ///< cut by the capture's snapshot length before 48 bytes
  std::uint64_t header_only = 0;  ///< cut after the header: only the header was read
  census_split split;             ///< of `ntp`
  friend bool operator==(const census_datagrams&, const census_datagrams&) = default;
};

/// Summary of a set of durations (nanoseconds). Quantiles come from a histogram whose
/// buckets are at most 1/128 of their value wide: within 0.4% of the exact quantile; min and
/// max are exact.
struct latency_summary {
  std::uint64_t count = 0;
  std::chrono::nanoseconds min{}, median{}, p90{}, p99{}, max{};
  friend bool operator==(const latency_summary&, const latency_summary&) = default;
};

/// A histogram with fixed upper bounds (Prometheus' `le`); counts are per bucket, not
/// cumulative; the last count is for values above the last bound.
struct latency_histogram {
  std::vector<std::chrono::nanoseconds> upper_bounds;
  std::vector<std::uint64_t> counts;  ///< upper_bounds.size() + 1 entries
  std::chrono::nanoseconds sum{};     ///< of every value counted (Prometheus' _sum)
  friend bool operator==(const latency_histogram&, const latency_histogram&) = default;
};

/// One interval of the census (`census_result::interval`, default 5 minutes).
struct census_interval {
  proto::sys_nanoseconds start{};     ///< a multiple of the interval length since the epoch
  std::uint64_t clients = 0;          ///< distinct clients that sent in this interval
  census_split client_split;          ///< a client counts under every version/mode it used
  std::uint64_t control_clients = 0;  ///< distinct mode 6/7 senders
  std::uint64_t packets = 0;          ///< NTP datagrams (every mode, both directions)
  census_split packet_split;
  std::uint64_t requests = 0;   ///< client requests to the server (mode 3, 1/2)
  std::uint64_t responses = 0;  ///< server responses (mode 4 from the server port)
  std::uint64_t peak_pps = 0;   ///< most datagrams in one second of the interval
  latency_summary delta;        ///< of the responses matched in this interval
  latency_summary processing;   ///< their T3 - T2 (non-negative ones)
  friend bool operator==(const census_interval&, const census_interval&) = default;
};

/// A client that sent many requests.
struct talker {
  ip_address address;
  std::uint64_t packets = 0;  ///< requests it sent
  proto::sys_nanoseconds first_seen{}, last_seen{};
  /// Median of the intervals between its last (up to 8) requests (9 requests); empty with one
  /// request.
  std::optional<std::chrono::nanoseconds> median_interval;
  friend bool operator==(const talker&, const talker&) = default;
};

/// One of the slowest answers, with the frames to open in Wireshark.
struct slow_response {
  std::chrono::nanoseconds delta{};
  std::uint32_t request_file = 0;   ///< index of the input file holding the request
  std::uint64_t request_frame = 0;  ///< frame number in that file, from 1 (Wireshark's)
  std::uint32_t response_file = 0;
  std::uint64_t response_frame = 0;
  ip_address client;
  std::uint16_t client_port = 0;
  proto::sys_nanoseconds time{};  ///< capture time of the request
  friend bool operator==(const slow_response&, const slow_response&) = default;
};

/// Kiss-o'-Death answers the server sent with one code (RFC 5905 §7.4).
struct kiss_count {
  std::array<char, 4> code{};  ///< the refid's four octets as sent ("RATE")
  std::uint64_t count = 0;
  friend bool operator==(const kiss_count&, const kiss_count&) = default;
};

/// How requests and responses were matched: by the reversed 5-tuple and the response's
/// origin timestamp equal to the request's transmit timestamp.
struct census_matching {
  std::uint64_t requests = 0;             ///< mode 3 requests to the server
  std::uint64_t matched = 0;              ///< answered within the response timeout
  std::uint64_t late = 0;                 ///< answered after the timeout (within twice it)
  std::uint64_t unanswered = 0;           ///< none within 2x the timeout (at the end: 1x)
  std::uint64_t pending_at_end = 0;       ///< the input ended before the timeout ran out
  std::uint64_t dropped = 0;              ///< forgotten unanswered because of the outstanding bound
  std::uint64_t duplicate_requests = 0;   ///< same 5-tuple and transmit as one outstanding
  std::uint64_t duplicate_responses = 0;  ///< a second answer (among the last 4096 answered)
  std::uint64_t unmatched_responses = 0;  ///< responses no captured request explains
  std::uint64_t negative_processing = 0;  ///< matched answers whose T3 - T2 is negative
  friend bool operator==(const census_matching&, const census_matching&) = default;
};

/// The whole census.
struct census_result {
  std::uint16_t server_port = 123;
  std::chrono::nanoseconds interval{};  ///< length of each interval
  std::chrono::nanoseconds response_timeout{};
  std::optional<proto::sys_nanoseconds> first_time, last_time;  ///< of the NTP datagrams

  census_frames frames;
  census_datagrams datagrams;

  std::uint64_t clients = 0;          ///< distinct client addresses over the whole input
  census_split client_split;          ///< a client counts under every version/mode it used
  std::uint64_t control_clients = 0;  ///< distinct addresses that sent mode 6 or 7 requests
  std::uint64_t control_packets = 0;
  std::uint64_t spoofed_sources = 0;  ///< distinct port-0, multicast/broadcast or own sources
  std::uint64_t spoofed_packets = 0;
  std::uint64_t broadcasts = 0;    ///< mode 5 datagrams
  std::uint64_t peak_pps = 0;      ///< over the whole input
  std::uint64_t fast_clients = 0;  ///< clients whose median interval < `rate_limit`
  std::chrono::nanoseconds rate_limit{};

  std::vector<census_interval> intervals;  ///< in time order, empty ones left out
  std::vector<talker> top_talkers;         ///< most requests first
  std::vector<kiss_count> kisses;          ///< by code, most first
  census_matching matching;
  latency_summary delta;  ///< every matched answer
  latency_histogram delta_histogram;
  latency_summary processing;  ///< T3 - T2 of the matched answers (>= 0)
  latency_histogram processing_histogram;
  std::vector<slow_response> slowest;  ///< slowest first

  std::size_t client_table_bytes = 0;  ///< memory of the per-client state at the end
  std::size_t outstanding_peak = 0;    ///< most requests waiting for an answer at once

  /// True when the input held any NTP datagram.
  bool usable() const noexcept { return datagrams.ntp > 0; }
};

}  // namespace ntpkit::model
