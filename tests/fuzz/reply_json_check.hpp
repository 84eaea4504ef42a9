#pragma once

// Test-side checks of fuzz_reply that parse JSON back with nlohmann. They live in their own
// file so that the fuzz build compiles them without coverage instrumentation: libFuzzer should
// measure the formatters under test, not the parser that checks them (see HELPERS in
// tests/fuzz/CMakeLists.txt).

#include <string>

#include "ntpkit/model/ntp.hpp"

namespace ntpkit::fuzz {

/// Parses probe_json's output and checks it against the report it was made from: schema,
/// ok flags, counts, each sample's verdict and selection, the error and the server's stratum.
/// Aborts on a mismatch; a parse error throws nlohmann::json::exception.
void check_probe_json(const std::string& text, const model::ntp_run& r);

/// Checks one target_json_line: a single line that is one JSON object with a string "target".
void check_json_line(const std::string& line);

}  // namespace ntpkit::fuzz
