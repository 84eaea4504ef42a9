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

void fine_histogram::add(std::uint64_t ns) {
  if (counts_.empty()) counts_.assign(buckets, 0);
  const std::size_t b = bucket_of(ns);
  ++counts_[b];
  ++group_counts_[b / group_size];
  min_ = count_ == 0 ? ns : std::min(min_, ns);
  max_ = count_ == 0 ? ns : std::max(max_, ns);
  ++count_;
}

void fine_histogram::clear() noexcept {
  if (count_ == 0) return;
  for (std::size_t g = 0; g < groups; ++g) {
    if (group_counts_[g] == 0) continue;
    std::fill_n(counts_.begin() + static_cast<std::ptrdiff_t>(g * group_size), group_size, 0);
    group_counts_[g] = 0;
  }
  count_ = min_ = max_ = 0;
}

// Nearest rank: the smallest value with at least ceil(q × count) values at or below it,
// taken as the middle of its bucket.
template <std::size_t N>
std::array<std::uint64_t, N> fine_histogram::quantiles(
    const std::array<double, N>& qs) const noexcept {
  std::array<std::uint64_t, N> ranks{}, out{};
  for (std::size_t i = 0; i < N; ++i) {
    const double exact = qs[i] * static_cast<double>(count_);
    auto rank = static_cast<std::uint64_t>(exact);
    if (static_cast<double>(rank) < exact) ++rank;
    ranks[i] = std::clamp<std::uint64_t>(rank, 1, count_);
    out[i] = max_;
  }
  std::uint64_t seen = 0;
  std::size_t next = 0;
  for (std::size_t g = 0; g < groups && next < N; ++g) {
    if (seen + group_counts_[g] < ranks[next]) {  // no quantile in this group
      seen += group_counts_[g];
      continue;
    }
    for (std::size_t b = g * group_size; b < (g + 1) * group_size && next < N; ++b) {
      seen += counts_[b];
      while (next < N && seen >= ranks[next]) {
        const std::uint64_t low = lower_bound_of(b);
        const std::uint64_t high = b + 1 < buckets ? lower_bound_of(b + 1) : low;
        out[next++] = std::clamp(low + (high - low) / 2, min_, max_);
      }
    }
  }
  return out;
}

model::latency_summary fine_histogram::summary() const {
  model::latency_summary s;
  s.count = count_;
  if (count_ == 0) return s;
  using ns = std::chrono::nanoseconds;
  s.min = ns(static_cast<std::int64_t>(min_));
  s.max = ns(static_cast<std::int64_t>(max_));
  const auto q = quantiles(std::array<double, 3>{0.5, 0.9, 0.99});
  s.median = ns(static_cast<std::int64_t>(q[0]));
  s.p90 = ns(static_cast<std::int64_t>(q[1]));
  s.p99 = ns(static_cast<std::int64_t>(q[2]));
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
  h.sum += v;
}

}  // namespace ntpkit::capture::detail
