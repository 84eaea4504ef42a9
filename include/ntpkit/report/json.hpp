#pragma once

// JSON output (docs/json.md): snake_case keys, seconds as numbers, timestamps as ISO 8601 UTC
// and ntpq's raw hex, errors as objects, a schema version. Only json.cpp includes nlohmann.

#include <functional>
#include <string>

#include "ntpkit/export.hpp"
#include "ntpkit/model/clients.hpp"
#include "ntpkit/model/ntp.hpp"

namespace ntpkit::report {

/// Version of the probe JSON schema; bumped only for incompatible changes.
inline constexpr int probe_schema_version = 1;

/// Who wrote the document.
struct json_meta {
  std::string tool = "ntpprobe";
  std::string version;
};

/// The whole run as one JSON document (pretty-printed, ending in a newline).
NTPKIT_API std::string probe_json(const model::ntp_run& r, const json_meta& meta);

/// Receives a document piece by piece.
using json_sink = std::function<void(const std::string&)>;

/// probe_json() handed to `write` in pieces, one per target, so that memory does not grow with
/// the number of targets beyond the reports themselves. The pieces concatenate to exactly
/// probe_json()'s text.
NTPKIT_API void write_probe_json(const model::ntp_run& r, const json_meta& meta,
                                 const json_sink& write);

/// One target as a single-line JSON object (for --json-lines), ending in a newline.
NTPKIT_API std::string target_json_line(const model::ntp_target& t, const json_meta& meta);

/// Version of ntpclients' JSON schema (docs/json.md, schemas/ntpclients.schema.json).
inline constexpr int clients_schema_version = 1;

/// ntpclients' report as one JSON document: pretty-printed, or on one line with `one_line`
/// (a report per period with --every, for jq to read as a stream). Ends in a newline.
/// Durations in seconds, times as ISO 8601 UTC and Unix seconds (capture clock).
NTPKIT_API std::string census_json(const model::clients_run& r, const json_meta& meta,
                                   bool one_line = false);

}  // namespace ntpkit::report
