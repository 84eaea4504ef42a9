#pragma once

// ntpmon-query's run: the plugin check, gps, or the mode 6 reads of a command, written as the
// plan asks; returns the exit status.

#include "options.hpp"

namespace ntpkit::apps {

/// Runs the plan and writes its output; the exit status.
int run_monitor_command(const monitor_run_plan& plan);

}  // namespace ntpkit::apps
