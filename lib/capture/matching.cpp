// The census's request/response matching (flows.hpp "Matching"): requests wait in a hash
// table keyed by the 5-tuple and their transmit timestamp, and in a queue in arrival order
// that retires them after twice the response timeout, or earlier when the table is full.
//
// Bytes per waiting request: a table slot (request_key 48 + request_entry 24 + flag, 80
// bytes, at load 3/8 to 3/4) and a queue entry (56 bytes): at most about 350 bytes, so the
// default bound of 2^20 requests is about 350 MiB at the very worst and 150 MiB typically.

#include <algorithm>

#include "census_state.hpp"

namespace ntpkit::capture {

namespace {

detail::request_key key_of_request(const decoded_frame& d, std::uint64_t transmit) {
  detail::request_key k;
  k.client = d.source;
  k.client_port = d.source_port;
  k.server = d.destination;
  k.server_port = d.destination_port;
  k.transmit = transmit;
  return k;
}

detail::request_key key_of_response(const decoded_frame& d, std::uint64_t origin) {
  detail::request_key k;
  k.client = d.destination;
  k.client_port = d.destination_port;
  k.server = d.source;
  k.server_port = d.source_port;
  k.transmit = origin;
  return k;
}

void count_kiss(std::vector<model::kiss_count>& kisses, const std::array<std::uint8_t, 4>& refid) {
  std::array<char, 4> code{};
  for (std::size_t i = 0; i < 4; ++i) code[i] = static_cast<char>(refid[i]);
  for (auto& k : kisses) {
    if (k.code == code) {
      ++k.count;
      return;
    }
  }
  kisses.push_back({code, 1});
}

bool slower(const model::slow_response& a, const model::slow_response& b) {
  return a.delta > b.delta;
}

}  // namespace

// Retires requests that waited twice the timeout: unanswered unless an answer came.
void census::state::expire(std::int64_t t) {
  while (!queue.empty() && t - queue.front().time_ns > 2 * timeout_ns) {
    const auto& q = queue.front();
    if (const auto* e = waiting.find(q.key); e && !e->answered) ++r.matching.unanswered;
    waiting.erase(q.key);
    queue.pop_front();
  }
}

void census::state::wait_for_answer(std::int64_t t, const decoded_frame& d, frame_ref ref) {
  ++r.matching.requests;
  const auto key = key_of_request(d, packet.transmit.bits());
  if (waiting.find(key)) {
    // The same bytes again (a client resending its request, or a frame captured twice):
    // the first one stays the one an answer is timed against.
    ++r.matching.duplicate_requests;
    return;
  }
  if (options.max_outstanding == 0) {
    ++r.matching.dropped;
    return;
  }
  while (waiting.size() >= options.max_outstanding && !queue.empty()) {
    const auto& q = queue.front();
    if (const auto* e = waiting.find(q.key); e && !e->answered) ++r.matching.dropped;
    waiting.erase(q.key);
    queue.pop_front();
  }
  auto [entry, inserted] = waiting.insert(key);
  entry->time_ns = t;
  entry->frame = ref;
  entry->answered = false;
  queue.push_back({key, t});
  r.outstanding_peak = std::max(r.outstanding_peak, waiting.size());
}

void census::state::answer(std::int64_t t, const decoded_frame& d, frame_ref ref) {
  ++current.out.responses;
  if (packet.stratum == 0) count_kiss(r.kisses, packet.refid);
  auto* e = waiting.find(key_of_response(d, packet.origin.bits()));
  if (!e) {
    ++r.matching.unmatched_responses;
    return;
  }
  if (e->answered) {
    ++r.matching.duplicate_responses;
    return;
  }
  e->answered = true;
  const std::int64_t waited = t - e->time_ns;
  if (waited > timeout_ns) {
    ++r.matching.late;
    return;
  }
  ++r.matching.matched;
  // Capture times on one host can step back a little (PEERS.md: lo timestamps 1 µs).
  const auto wire = static_cast<std::uint64_t>(std::max<std::int64_t>(waited, 0));
  delta_add(wire);
  const std::int64_t t3_t2 = (packet.transmit - packet.receive).to_ns();
  if (t3_t2 < 0) {
    ++r.matching.negative_processing;
  } else {
    processing.add(static_cast<std::uint64_t>(t3_t2));
    current.processing.add(static_cast<std::uint64_t>(t3_t2));
    detail::add_coarse(r.processing_histogram, static_cast<std::uint64_t>(t3_t2));
  }
  model::slow_response s;
  s.delta = std::chrono::nanoseconds(static_cast<std::int64_t>(wire));
  s.request_file = e->frame.file;
  s.request_frame = e->frame.number;
  s.response_file = ref.file;
  s.response_frame = ref.number;
  s.client = d.destination;
  s.client_port = d.destination_port;
  s.time = proto::sys_nanoseconds(std::chrono::nanoseconds(e->time_ns));
  keep_if_slow(s);
}

void census::state::delta_add(std::uint64_t wire) {
  delta.add(wire);
  current.delta.add(wire);
  detail::add_coarse(r.delta_histogram, wire);
}

void census::state::keep_if_slow(const model::slow_response& s) {
  if (options.slowest == 0) return;
  if (slowest.size() < options.slowest) {
    slowest.push_back(s);
    std::push_heap(slowest.begin(), slowest.end(), slower);
  } else if (s.delta > slowest.front().delta) {
    std::pop_heap(slowest.begin(), slowest.end(), slower);
    slowest.back() = s;
    std::push_heap(slowest.begin(), slowest.end(), slower);
  }
}

// At the end: what still waits unanswered is unanswered if it waited longer than the timeout
// before the last datagram, else pending (the input ended before its answer was due).
void census::state::settle_waiting(model::census_result& out) const {
  const std::int64_t end = r.last_time ? r.last_time->time_since_epoch().count() : 0;
  waiting.for_each([&](const detail::request_key&, const detail::request_entry& e) {
    if (e.answered) return;
    if (end - e.time_ns > timeout_ns) {
      ++out.matching.unanswered;
    } else {
      ++out.matching.pending_at_end;
    }
  });
}

}  // namespace ntpkit::capture
