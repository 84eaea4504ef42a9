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

#include "ntpkit/export.hpp"
#include "ntpkit/model/census.hpp"
#include "ntpkit/proto/mru.hpp"
#include "ntpkit/proto/timestamp.hpp"

namespace ntpkit::model {

/// Where the census was taken.
enum class census_source { capture_files, live_capture, mru_list };

/// How the MRU list of an ntpd was read (census_source::mru_list).
struct mru_reading {
  std::string server;           ///< the server as given
  std::string address;          ///< the address asked ("192.0.2.1:123", "[::1]:123")
  proto::mru_outcome outcome = proto::mru_outcome::timeout;
  std::error_code error;        ///< of an outcome other than complete
  std::string server_error;     ///< the mode 6 error code's name, for server_error
  std::size_t entries = 0;      ///< distinct entries read (clients, control and others)
  std::size_t rows_received = 0;   ///< rows in every answer, before merging
  std::size_t malformed_rows = 0;  ///< rows that did not read
  unsigned requests = 0;        ///< datagrams sent
  unsigned nonce_requests = 0;
  unsigned restarts = 0;        ///< the list changed under the walk and it started again
  /// The server's clock at the end of a complete walk (now=), as Unix time.
  std::optional<proto::sys_nanoseconds> server_now;
  std::chrono::nanoseconds duration{};  ///< of the walk
  bool complete() const noexcept { return outcome == proto::mru_outcome::complete; }
};

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
  std::optional<mru_reading> mru;         ///< MRU list only
  std::vector<proto::mru_entry> mru_entries;  ///< MRU list with --list: every entry as read
  /// Live: the capture's wall-clock span covered by this report (the period for --every).
  std::optional<proto::sys_nanoseconds> started, ended;
  /// Live with --every: this report covers one period, not the whole capture.
  bool period = false;
  /// The reading stopped early (SIGINT/SIGTERM): what was read is reported.
  bool interrupted = false;
  census_result census;

  /// Every input was read whole (the MRU list: the walk completed).
  bool inputs_complete() const noexcept {
    if (mru && !mru->complete()) return false;
    for (const auto& i : inputs) {
      if (!i.complete()) return false;
    }
    return true;
  }
};

/// The census an MRU list gives, by ntpd's own counts: an entry whose latest packet was mode
/// 1, 2 or 3 is a client (mode 6/7 entries are control clients; port 0 and
/// multicast/broadcast/unspecified sources are spoofed-looking), split by family and by the
/// version and mode of its latest packet; ct is its packets (all counted as requests),
/// first/last its first and latest packet; its interval is (last - first) / (ct - 1), the
/// mean, which the top talkers show as median_interval and which decides fast clients. MRU
/// lists have no answers: no delta time, no intervals. Rows whose address does not read are
/// left out (counted in mru_reading::malformed_rows by the caller).
NTPKIT_API census_result census_of_mru(const std::vector<proto::mru_entry>& entries,
                                       std::size_t top, std::chrono::nanoseconds rate_limit);

}  // namespace ntpkit::model
