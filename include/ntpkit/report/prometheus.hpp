#pragma once

// Prometheus text exposition format (version 0.0.4), as node_exporter's textfile collector
// reads it: ntpkit_ names, base units (seconds), HELP and TYPE lines, no sample timestamps.

#include <string>
#include <string_view>

#include "ntpkit/export.hpp"
#include "ntpkit/report/sample.hpp"

namespace ntpkit::report {

/// Who wrote the metrics; `version` becomes the label of ntpkit_build_info.
struct prometheus_meta {
  std::string tool = "ntpprobe";
  std::string version;
};

/// The run as Prometheus metrics, one family after another, each with its HELP and TYPE lines
/// (families without a series are left out). Every series carries the labels `server` (the
/// target as given), `address` (numeric, empty when the name did not resolve) and `family`
/// ("ipv4", "ipv6", or empty). ntpkit_up is 1 or 0 for every address (and 0 for a name that
/// did not resolve); the measurements (ntpkit_offset_seconds, _delay_, _processing_,
/// _dispersion_, _jitter_, _root_distance_, header fields) exist only for addresses that
/// answered; ntpkit_error_info names the error kind and kiss code of those that failed.
/// A series that would repeat one already written (a server named twice) is written once.
NTPKIT_API std::string probe_prometheus(const probe_report& r, const prometheus_meta& meta);

/// A label value escaped for the text format: backslash, double quote and newline.
NTPKIT_API std::string prometheus_escape(std::string_view value);

/// A sample value as the text format writes it: the shortest form that reads back as the same
/// double ("0.25", "1.5e-05"), and "NaN", "+Inf", "-Inf".
NTPKIT_API std::string prometheus_number(double value);

}  // namespace ntpkit::report
