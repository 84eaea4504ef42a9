#pragma once

// ntpclients' run (issue 14): where the census came from (capture files, a live interface,
// later ntpd's MRU list and chronyd's client log) and the census itself (model/census.hpp).
// One report for every source; each writer leaves out what the source cannot know.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "ntpkit/model/census.hpp"
#include "ntpkit/proto/timestamp.hpp"

namespace ntpkit::model {

/// Where the census was taken.
enum class census_source { capture_files, live_capture };

/// One capture file (or the live interface) and what became of it.
struct capture_input {
  std::string name;             ///< the path as given, or the interface
  std::uint32_t link_type = 0;  ///< of the file's (first) interface; DLT_ value
  bool compressed = false;      ///< read through gzip
  bool pcapng = false;
  std::uint64_t frames = 0;  ///< frames read from it
  std::error_code error;     ///< why it was not read (completely); empty: read whole
  std::string detail;        ///< libpcap's or zlib's message for `error`, if any
  bool complete() const noexcept { return !error; }
};

/// The kernel's counters of a live capture.
struct kernel_counters {
  std::uint64_t received = 0;           ///< frames the filter passed
  std::uint64_t dropped = 0;            ///< dropped for lack of buffer space: not counted
  std::uint64_t interface_dropped = 0;  ///< dropped by the interface or its driver
};

/// One report of ntpclients: the whole input, or (live, --every) one period of it.
struct clients_run {
  census_source source = census_source::capture_files;
  std::vector<capture_input> inputs;
  std::optional<kernel_counters> kernel;  ///< live only
  /// Live: the capture's wall-clock span covered by this report (the period for --every).
  std::optional<proto::sys_nanoseconds> started, ended;
  /// Live with --every: this report covers one period, not the whole capture.
  bool period = false;
  /// The reading stopped early (SIGINT/SIGTERM): what was read is reported.
  bool interrupted = false;
  census_result census;

  /// Every input was read whole.
  bool inputs_complete() const noexcept {
    for (const auto& i : inputs) {
      if (!i.complete()) return false;
    }
    return true;
  }
};

}  // namespace ntpkit::model
