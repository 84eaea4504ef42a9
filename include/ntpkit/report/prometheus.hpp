#pragma once

// Prometheus text exposition format (version 0.0.4), as node_exporter's textfile collector and
// Prometheus' scraper read it: an engine over typed families (gauge, counter, histogram) and
// label sets, with HELP and TYPE lines, no sample timestamps; and ntpprobe's metrics on it.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/model/ntp.hpp"

namespace ntpkit::report {

/// A family's type, as the TYPE line names it.
enum class metric_type { gauge, counter, histogram };

/// Label names and values, in the order they are written.
using label_set = std::vector<std::pair<std::string, std::string>>;

/// Metrics being written: families in the order they were declared, each with its HELP and
/// TYPE lines, left out when it has no series. A series that would repeat one already added
/// (same family and labels) is dropped.
class NTPKIT_API exposition {
 public:
  /// Declares a family and returns its handle. Counter names should end in `_total`.
  std::size_t family(std::string name, std::string help, metric_type type);
  /// Adds a gauge or counter sample.
  void add(std::size_t family, const label_set& labels, double value);
  /// Adds one histogram: `buckets` pairs an upper bound with the cumulative count of
  /// observations at or below it (ascending bounds; +Inf is added with `count`).
  void add_histogram(std::size_t family, const label_set& labels,
                     std::span<const std::pair<double, std::uint64_t>> buckets, double sum,
                     std::uint64_t count);
  /// The text.
  std::string str() const;

 private:
  struct family_data {
    std::string name, help;
    metric_type type;
    std::string lines;
    std::unordered_set<std::string> seen;
  };
  bool fresh(family_data& f, const std::string& series);
  std::vector<family_data> families_;
};

/// Who wrote the metrics; `version` becomes the label of ntpkit_build_info.
struct prometheus_meta {
  std::string tool = "ntpprobe";
  std::string version;
};

/// The run as Prometheus metrics (all gauges). Every series carries the labels `server` (the
/// target as given), `address` (numeric, empty when the name did not resolve) and `family`
/// ("ipv4", "ipv6", or empty). ntpkit_up is 1 or 0 for every address (and 0 for a name that
/// did not resolve); the measurements (ntpkit_offset_seconds, _delay_, _processing_,
/// _dispersion_, _jitter_, _root_distance_, header fields) exist only for addresses that
/// answered; ntpkit_error_info names the error kind and kiss code of those that failed.
NTPKIT_API std::string probe_prometheus(const model::ntp_run& r, const prometheus_meta& meta);

/// A label value escaped for the text format: backslash, double quote and newline.
NTPKIT_API std::string prometheus_escape(std::string_view value);

/// A sample value as the text format writes it: the shortest form that reads back as the same
/// double ("0.25", "1.5e-05"), and "NaN", "+Inf", "-Inf".
NTPKIT_API std::string prometheus_number(double value);

}  // namespace ntpkit::report
