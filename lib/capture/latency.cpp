#include "latency.hpp"

#include <algorithm>
#include <bit>

namespace ntpkit::capture::detail {

std::size_t fine_histogram::bucket_of(std::uint64_t ns) noexcept {
  if (ns < linear) return static_cast<std::size_t>(ns);
  const int e = static_cast<int>(std::bit_width(ns)) - 1;  // 8..63
  const std::uint64_t sub = (ns >> (e - 7)) & (per_octave - 1);
  return linear + static_cast<std::size_t>(e - 8) * per_octave + static_cast<std::size_t>(sub);
}

std::uint64_t fine_histogram::lower_bound_of(std::size_t b) noexcept {
  if (b < linear) return b;
  const std::size_t e = (b - linear) / per_octave + 8;
  const std::uint64_t sub = (b - linear) % per_octave;
  return (std::uint64_t{1} << e) | (sub << (e - 7));
}

void fine_histogram::add(std::uint64_t ns) noexcept {
  ++counts_[bucket_of(ns)];
  min_ = count_ == 0 ? ns : std::min(min_, ns);
  max_ = count_ == 0 ? ns : std::max(max_, ns);
  ++count_;
}

void fine_histogram::clear() noexcept {
  if (count_ == 0) return;
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = min_ = max_ = 0;
}

// Nearest rank: the smallest value with at least ceil(q × count) values at or below it,
// taken as the middle of its bucket.
std::uint64_t fine_histogram::quantile(double q) const noexcept {
  auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count_));
  if (static_cast<double>(rank) < q * static_cast<double>(count_)) ++rank;
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < buckets; ++b) {
    seen += counts_[b];
    if (seen >= rank) {
      const std::uint64_t low = lower_bound_of(b);
      const std::uint64_t high = b + 1 < buckets ? lower_bound_of(b + 1) : low;
      return std::clamp(low + (high - low) / 2, min_, max_);
    }
  }
  return max_;
}

model::latency_summary fine_histogram::summary() const {
  model::latency_summary s;
  s.count = count_;
  if (count_ == 0) return s;
  using ns = std::chrono::nanoseconds;
  s.min = ns(min_);
  s.max = ns(max_);
  s.median = ns(quantile(0.5));
  s.p90 = ns(quantile(0.9));
  s.p99 = ns(quantile(0.99));
  return s;
}

model::latency_histogram coarse_buckets() {
  model::latency_histogram h;
  using std::chrono::nanoseconds;
  for (std::int64_t decade = 10'000; decade <= 10'000'000'000; decade *= 10) {
    h.upper_bounds.push_back(nanoseconds(decade));
    if (decade == 10'000'000'000) break;
    h.upper_bounds.push_back(nanoseconds(decade * 5 / 2));
    h.upper_bounds.push_back(nanoseconds(decade * 5));
  }
  h.counts.assign(h.upper_bounds.size() + 1, 0);
  return h;
}

void add_coarse(model::latency_histogram& h, std::uint64_t ns) noexcept {
  const auto v = std::chrono::nanoseconds(static_cast<std::int64_t>(
      std::min<std::uint64_t>(ns, static_cast<std::uint64_t>(INT64_MAX))));
  // Prometheus' le: a value equal to a bound belongs to that bucket.
  const auto it = std::lower_bound(h.upper_bounds.begin(), h.upper_bounds.end(), v);
  ++h.counts[static_cast<std::size_t>(it - h.upper_bounds.begin())];
}

}  // namespace ntpkit::capture::detail
