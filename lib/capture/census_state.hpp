#pragma once

// The census's internal state (capture/flows.hpp): the tables and accumulators that
// flows.cpp (datagrams, clients, intervals) and matching.cpp (requests and responses) share.

#include <array>
#include <cstdint>
#include <deque>
#include <vector>

#include "flat_map.hpp"
#include "latency.hpp"
#include "ntpkit/capture/flows.hpp"

namespace ntpkit::capture::detail {

struct address_hash {
  std::uint64_t operator()(const model::ip_address& a) const noexcept {
    std::uint64_t lo = 0, hi = 0;
    for (int i = 0; i < 8; ++i) {
      hi = hi << 8 | a.octets[static_cast<std::size_t>(i)];
      lo = lo << 8 | a.octets[static_cast<std::size_t>(8 + i)];
    }
    return mix64(lo ^ mix64(hi + static_cast<std::uint64_t>(a.family)));
  }
};

/// One client: 80 bytes. recent_us holds the gaps before its last 8 requests (µs, saturated
/// at 2^32 - 1, i.e. 71 minutes; longer than any NTP poll interval).
struct client_state {
  model::ip_address address;
  std::uint8_t recent_count = 0, recent_next = 0;
  std::uint16_t total_mask = 0, interval_mask = 0;  // version bits 0-7, mode bits 8-15
  std::uint32_t last_interval = 0;  // relative interval index + 1; 0: none yet
  std::uint32_t requests = 0;
  std::int64_t first_ns = 0, last_ns = 0;
  std::array<std::uint32_t, 8> recent_us{};
};

/// A request waiting for its answer, keyed by the 5-tuple and its transmit timestamp.
struct request_key {
  model::ip_address client, server;
  std::uint16_t client_port = 0, server_port = 0;
  std::uint64_t transmit = 0;
  friend bool operator==(const request_key&, const request_key&) = default;
};

struct request_key_hash {
  std::uint64_t operator()(const request_key& k) const noexcept {
    const address_hash h;
    return mix64(h(k.client) ^ (h(k.server) << 1) ^
                 (std::uint64_t{k.client_port} << 16 | k.server_port) ^ mix64(k.transmit));
  }
};

struct request_entry {
  std::int64_t time_ns = 0;
  frame_ref frame;
  bool answered = false;
};

struct queued_request {
  request_key key;
  std::int64_t time_ns = 0;
};

/// Counts datagrams per second and keeps the peak.
struct rate_peak {
  std::int64_t second = INT64_MIN;
  std::uint64_t in_second = 0, peak = 0;
  void add(std::int64_t time_ns) noexcept {
    const std::int64_t s = time_ns >= 0 ? time_ns / 1'000'000'000 : -1 - (-1 - time_ns) / 1'000'000'000;
    if (s > second) {
      second = s;
      in_second = 0;
    }
    if (++in_second > peak) peak = in_second;
  }
};

/// The interval under way.
struct interval_state {
  bool open = false;
  std::int64_t index = 0;  // time / interval
  model::census_interval out;
  fine_histogram delta, processing;
  rate_peak rate;
};

}  // namespace ntpkit::capture::detail

namespace ntpkit::capture {

struct census::state {
  explicit state(census_options o);

  census_options options;
  std::int64_t interval_ns, timeout_ns;
  model::census_result r;  // the counters kept as they come; the rest filled by result()

  detail::flat_map<model::ip_address, std::uint32_t, detail::address_hash> client_index;
  std::vector<detail::client_state> clients;
  detail::flat_map<model::ip_address, std::uint32_t, detail::address_hash> control;
  detail::flat_map<model::ip_address, bool, detail::address_hash> spoofed;

  detail::flat_map<detail::request_key, detail::request_entry, detail::request_key_hash> waiting;
  std::deque<detail::queued_request> queue;  // waiting's keys in arrival order

  bool have_base = false;
  std::int64_t base_interval = 0;
  detail::interval_state current;
  std::vector<model::census_interval> closed;
  detail::rate_peak overall_rate;
  detail::fine_histogram delta, processing;
  std::vector<model::slow_response> slowest;  // a min-heap on delta
  proto::packet packet;  // reused by classify_ntp

  // flows.cpp
  void datagram(std::int64_t t, const decoded_frame& d, const ntp_classification& c,
                frame_ref ref);
  void roll_interval(std::int64_t t);
  void close_interval();
  void count_request(std::int64_t t, const decoded_frame& d, std::uint8_t version,
                     std::uint8_t mode);
  void count_control(const decoded_frame& d);
  bool is_server(const model::ip_address& a) const noexcept;
  bool spoofed_looking(const decoded_frame& d) const noexcept;

  // matching.cpp
  void expire(std::int64_t t);
  void wait_for_answer(std::int64_t t, const decoded_frame& d, frame_ref ref);
  void answer(std::int64_t t, const decoded_frame& d, frame_ref ref);
  void delta_add(std::uint64_t wire_ns);
  void keep_if_slow(const model::slow_response& s);
  void settle_waiting(model::census_result& out) const;
};

}  // namespace ntpkit::capture
