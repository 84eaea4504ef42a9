#pragma once

// Histograms of durations for the census (delta time, T3 - T2): a fine log-linear one that
// gives quantiles within 1/256 of their value (min and max exact), and the coarse fixed
// buckets the report shows.

#include <array>
#include <chrono>
#include <cstdint>
#include <vector>

#include "ntpkit/model/census.hpp"

namespace ntpkit::capture::detail {

/// Nanosecond values: exact below 256 ns, then 128 buckets per power of two.
class fine_histogram {
 public:
  static constexpr std::size_t linear = 256;
  static constexpr std::size_t per_octave = 128;
  static constexpr std::size_t buckets = linear + (64 - 8) * per_octave;

  fine_histogram() = default;  // the buckets are allocated at the first add()
  void add(std::uint64_t ns);
  void clear() noexcept;
  std::uint64_t count() const noexcept { return count_; }
  /// count, min, nearest-rank median, p90, p99 (bucket midpoints clamped to [min, max]), max.
  model::latency_summary summary() const;

  static std::size_t bucket_of(std::uint64_t ns) noexcept;
  static std::uint64_t lower_bound_of(std::size_t bucket) noexcept;

 private:
  /// The nearest-rank quantiles for `qs` (ascending), in one pass over the buckets.
  template <std::size_t N>
  std::array<std::uint64_t, N> quantiles(const std::array<double, N>& qs) const noexcept;
  static constexpr std::size_t group_size = 128;  // buckets per group: the linear part is 2
  static constexpr std::size_t groups = buckets / group_size;
  std::vector<std::uint64_t> counts_;
  static_assert(linear % group_size == 0 && per_octave % group_size == 0);
  std::array<std::uint64_t, groups> group_counts_{};  // lets quantiles and clear skip groups
  std::uint64_t count_ = 0, min_ = 0, max_ = 0;
};

/// The coarse buckets: 10 µs to 10 s in 1-2.5-5 steps, then above.
model::latency_histogram coarse_buckets();
/// Adds `ns` to the coarse histogram `h` (made by coarse_buckets()).
void add_coarse(model::latency_histogram& h, std::uint64_t ns) noexcept;

}  // namespace ntpkit::capture::detail
