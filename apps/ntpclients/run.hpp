#pragma once

// ntpclients' runs: capture files read whole, or a live capture with its periods; each writes
// its reports and returns the exit status.

#include "options.hpp"

namespace ntpkit::apps {

/// Reads the files, writes the report, returns the exit status (clients_help_footer).
int run_clients_files(const clients_plan& p);

/// Reads ntpd's MRU list, writes the report, returns the status.
int run_clients_mru(const clients_plan& p);

/// Captures live until --duration or SIGINT/SIGTERM, writes the reports, returns the status.
int run_clients_live(const clients_plan& p);

}  // namespace ntpkit::apps
