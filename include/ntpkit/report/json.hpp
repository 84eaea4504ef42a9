#pragma once

// JSON output (docs/json.md): snake_case keys, seconds as numbers, timestamps as ISO 8601 UTC
// and ntpq's raw hex, errors as objects, a schema version. Only json.cpp includes nlohmann.

#include <string>

#include "ntpkit/export.hpp"
#include "ntpkit/report/sample.hpp"

namespace ntpkit::report {

/// Version of the probe JSON schema; bumped only for incompatible changes.
inline constexpr int probe_schema_version = 1;

/// Who wrote the document.
struct json_meta {
  std::string tool = "ntpprobe";
  std::string version;
};

/// The whole run as one JSON document (pretty-printed, ending in a newline).
NTPKIT_API std::string probe_json(const probe_report& r, const json_meta& meta);

/// One target as a single-line JSON object (for --json-lines), ending in a newline.
NTPKIT_API std::string target_json_line(const target_report& t, const json_meta& meta);

}  // namespace ntpkit::report
