#pragma once

// ntpprobe's run: the probe (or broadcast listening) and the output in the mode the options
// chose, written as targets complete where the mode streams. SIGINT and SIGTERM stop it: what
// had finished is written, the rest is marked interrupted, and the status is 128 + the signal
// (UNKNOWN in plugin mode).

#include "options.hpp"

namespace ntpkit::apps {

/// Runs `plan`; returns the exit status before the final flush of stdout.
int run_probe(probe_plan& plan, bool verbose);

}  // namespace ntpkit::apps
