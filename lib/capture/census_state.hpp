#pragma once

// The census's internal state (capture/flows.hpp): the tables and accumulators that
// flows.cpp (datagrams, clients, intervals) and matching.cpp (requests and responses) share.

#include <array>
#include <cstdint>
#include <cstring>
#include <deque>
#include <vector>

#include "flat_map.hpp"
#include "latency.hpp"
#include "ntpkit/capture/flows.hpp"

namespace ntpkit::capture::detail {

struct address_hash {
  std::uint64_t operator()(const model::ip_address& a) const noexcept {
    std::uint64_t hi, lo;
    std::memcpy(&hi, a.octets.data(), 8);
    std::memcpy(&lo, a.octets.data() + 8, 8);
    return mix64(lo ^ mix64(hi + static_cast<std::uint64_t>(a.family)));
  }
};

/// The clients: their records in a dense vector, found through an open-addressing index of
/// 8-byte slots (32 bits of the address's hash, the record's position + 1; 0 = empty), so
/// that the index stays small (8 bytes at load 3/8 to 3/4) and a lookup compares the full
/// address only in the record whose hash bits match. Clients are never removed.
template <class Record>
class client_table {
 public:
  client_table() : slots_(1024, 0), mask_(1023) {}

  /// The record of `a`, appended with `a` as its address if new; second: it was new.
  std::pair<Record*, bool> insert(const model::ip_address& a) {
    const std::uint64_t h = address_hash{}(a);
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const std::uint64_t s = slots_[i];
      if (s == 0) {
        if ((records_.size() + 1) * 4 > slots_.size() * 3) {
          grow();
          return insert(a);
        }
        records_.emplace_back();
        records_.back().address = a;
        slots_[i] = std::uint64_t{tag} << 32 | records_.size();
        return {&records_.back(), true};
      }
      if (static_cast<std::uint32_t>(s >> 32) == tag) {
        Record& r = records_[static_cast<std::uint32_t>(s) - 1];
        if (r.address == a) return {&r, false};
      }
    }
  }
  const std::vector<Record>& records() const noexcept { return records_; }
  std::size_t size() const noexcept { return records_.size(); }
  std::size_t memory_bytes() const noexcept {
    return slots_.capacity() * sizeof(std::uint64_t) + records_.capacity() * sizeof(Record);
  }

 private:
  void grow() {
    slots_.assign(slots_.size() * 2, 0);
    mask_ = slots_.size() - 1;
    for (std::size_t n = 0; n < records_.size(); ++n) {
      const std::uint64_t h = address_hash{}(records_[n].address);
      std::size_t i = h & mask_;
      while (slots_[i] != 0) i = (i + 1) & mask_;
      slots_[i] = (h >> 32) << 32 | (n + 1);
    }
  }
  std::vector<std::uint64_t> slots_;
  std::size_t mask_;
  std::vector<Record> records_;
};

/// For keys that are already well-mixed 64-bit values.
struct identity_hash {
  std::uint64_t operator()(std::uint64_t k) const noexcept { return k; }
};

/// One client: 80 bytes. recent_us holds the gaps before its last 8 requests (µs, saturated
/// at 2^32 - 1, i.e. 71 minutes; longer than any NTP poll interval).
struct client_state {
  model::ip_address address;
  std::uint8_t recent_count = 0, recent_next = 0;
  std::uint16_t total_mask = 0, interval_mask = 0;  // version bits 0-7, mode bits 8-15
  std::uint32_t last_interval = 0;                  // relative interval index + 1; 0: none yet
  std::uint32_t requests = 0;
  std::int64_t first_ns = 0, last_ns = 0;
  std::array<std::uint32_t, 8> recent_us{};
};

/// What identifies a request: the 5-tuple and its transmit timestamp. The tables keep only
/// its 64-bit fingerprint (request_key_hash): two different requests waiting at the same
/// time share one with probability about n^2 / 2^65 for n waiting (3e-8 for a million).
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

/// A request waiting for its answer (in `waiting` until answered or retired).
struct request_entry {
  std::int64_t time_ns = 0;
  std::uint64_t frame_number = 0;
  std::uint64_t sequence = 0;  // its place in `queue`
  std::uint32_t file = 0;
};

/// Every tracked request in arrival order, answered or not.
struct queued_request {
  std::uint64_t fingerprint = 0;
  std::int64_t time_ns = 0;
  bool answered = false;
};

/// Fingerprints of the last requests answered (direct-mapped), to tell a second answer
/// from an answer to nothing captured.
inline constexpr std::size_t recent_answers = 4096;

/// Counts datagrams per second and keeps the peak.
struct rate_peak {
  std::int64_t second = INT64_MIN;
  std::uint64_t in_second = 0, peak = 0;
  /// Counts a datagram in second `s` (capture time in whole seconds, floor).
  void add(std::int64_t s) noexcept {
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

  detail::client_table<detail::client_state> clients;
  detail::flat_map<model::ip_address, std::uint32_t, detail::address_hash> control;
  detail::flat_map<model::ip_address, bool, detail::address_hash> spoofed;

  detail::flat_map<std::uint64_t, detail::request_entry, detail::identity_hash> waiting;
  std::deque<detail::queued_request> queue;      // tracked requests in arrival order
  std::uint64_t queue_base = 0;                  // sequence number of queue.front()
  std::vector<std::uint64_t> answered_recently;  // recent_answers slots from the first answer

  bool have_base = false;
  std::int64_t base_interval = 0;
  detail::interval_state current;
  std::vector<model::census_interval> closed;
  detail::rate_peak overall_rate;
  detail::fine_histogram delta, processing;
  std::vector<model::slow_response> slowest;  // a min-heap on delta
  proto::packet packet;                       // reused by classify_ntp

  // flows.cpp
  void datagram(std::int64_t t, const decoded_frame& d, const ntp_classification& c, frame_ref ref);
  void roll_interval(std::int64_t t);
  void close_interval();
  void count_request(std::int64_t t, const decoded_frame& d, std::uint8_t version,
                     std::uint8_t mode);
  void count_control(const decoded_frame& d);
  bool is_server(const model::ip_address& a) const noexcept;
  bool spoofed_looking(const decoded_frame& d) const noexcept;

  // matching.cpp
  void expire(std::int64_t t);
  void retire_oldest(std::uint64_t& counter);
  bool answered_recently_has(std::uint64_t key) const noexcept;
  void wait_for_answer(std::int64_t t, const decoded_frame& d, frame_ref ref);
  void answer(std::int64_t t, const decoded_frame& d, frame_ref ref);
  void delta_add(std::uint64_t wire_ns);
  void keep_if_slow(const model::slow_response& s);
  void settle_waiting(model::census_result& out) const;
};

}  // namespace ntpkit::capture
