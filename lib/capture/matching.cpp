// The census's request/response matching (flows.hpp "Matching"). Every request is tracked in
// a queue in arrival order (fingerprint, time, answered: 24 bytes) that retires it after
// twice the response timeout, or earlier when max_outstanding are tracked; while unanswered
// it is also in a hash table keyed by the fingerprint of its 5-tuple and transmit timestamp
// (a 40-byte slot at load 3/8 to 3/4). An answer takes its request out of the table at once,
// so the table holds only what still waits, which on a server that answers stays small
// enough for the caches; the queue is read and written at its ends only. A second answer is
// recognised while its request is among the last 4096 answered (a direct-mapped array of
// fingerprints), and counted as unmatched after that.
//
// Bytes per tracked request: 24 in the queue, plus 53 to 107 while unanswered: the default
// bound of 2^20 tracked requests is at most about 130 MB, and 25 MB when all are answered.

#include <algorithm>

#include "census_state.hpp"

namespace ntpkit::capture {

namespace {

std::uint64_t fingerprint(const detail::request_key& k) { return detail::request_key_hash{}(k); }

std::uint64_t key_of_request(const decoded_frame& d, std::uint64_t transmit) {
  detail::request_key k;
  k.client = d.source;
  k.client_port = d.source_port;
  k.server = d.destination;
  k.server_port = d.destination_port;
  k.transmit = transmit;
  return fingerprint(k);
}

std::uint64_t key_of_response(const decoded_frame& d, std::uint64_t origin) {
  detail::request_key k;
  k.client = d.destination;
  k.client_port = d.destination_port;
  k.server = d.source;
  k.server_port = d.source_port;
  k.transmit = origin;
  return fingerprint(k);
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

bool census::state::answered_recently_has(std::uint64_t key) const noexcept {
  return !answered_recently.empty() && answered_recently[key % detail::recent_answers] == key;
}

// Retires the oldest tracked request; one still unanswered adds to `counter`.
void census::state::retire_oldest(std::uint64_t& counter) {
  const detail::queued_request q = queue.front();
  queue.pop_front();
  ++queue_base;
  if (!q.answered && waiting.erase(q.fingerprint)) ++counter;
}

// Retires requests that waited twice the timeout: unanswered unless an answer came.
void census::state::expire(std::int64_t t) {
  while (!queue.empty() && t - queue.front().time_ns > 2 * timeout_ns) {
    retire_oldest(r.matching.unanswered);
  }
}

void census::state::wait_for_answer(std::int64_t t, const decoded_frame& d, frame_ref ref) {
  ++r.matching.requests;
  const auto key = key_of_request(d, packet.transmit.bits());
  if (waiting.find(key) != nullptr || answered_recently_has(key)) {
    // The same bytes again (a client resending its request, or a frame captured twice):
    // the first one stays the one an answer is timed against.
    ++r.matching.duplicate_requests;
    return;
  }
  if (options.max_outstanding == 0) {
    ++r.matching.dropped;
    return;
  }
  while (queue.size() >= options.max_outstanding) retire_oldest(r.matching.dropped);
  auto [entry, inserted] = waiting.insert(key);
  entry->time_ns = t;
  entry->frame_number = ref.number;
  entry->file = ref.file;
  entry->sequence = queue_base + queue.size();
  queue.push_back({key, t, false});
  r.outstanding_peak = std::max(r.outstanding_peak, queue.size());
}

void census::state::answer(std::int64_t t, const decoded_frame& d, frame_ref ref) {
  ++current.out.responses;
  if (packet.stratum == 0) count_kiss(r.kisses, packet.refid);
  const auto key = key_of_response(d, packet.origin.bits());
  detail::request_entry e;
  if (!waiting.erase(key, &e)) {
    if (answered_recently_has(key)) {
      ++r.matching.duplicate_responses;
    } else {
      ++r.matching.unmatched_responses;
    }
    return;
  }
  queue[static_cast<std::size_t>(e.sequence - queue_base)].answered = true;
  if (answered_recently.empty()) answered_recently.assign(detail::recent_answers, 0);
  answered_recently[key % detail::recent_answers] = key;
  const std::int64_t waited = t - e.time_ns;
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
  s.request_file = e.file;
  s.request_frame = e.frame_number;
  s.response_file = ref.file;
  s.response_frame = ref.number;
  s.client = d.destination;
  s.client_port = d.destination_port;
  s.time = proto::sys_nanoseconds(std::chrono::nanoseconds(e.time_ns));
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
  waiting.for_each([&](std::uint64_t, const detail::request_entry& e) {
    if (end - e.time_ns > timeout_ns) {
      ++out.matching.unanswered;
    } else {
      ++out.matching.pending_at_end;
    }
  });
}

}  // namespace ntpkit::capture
