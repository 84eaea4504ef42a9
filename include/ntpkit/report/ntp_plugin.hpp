#pragma once

// ntpprobe's plugin mode over the plugin engine (plugin.hpp): what makes an NTP server
// address OK, WARNING or CRITICAL, and its perfdata.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/model/ntp.hpp"
#include "ntpkit/report/plugin.hpp"

namespace ntpkit::report {

/// What makes a server OK, WARNING or CRITICAL.
struct plugin_policy {
  thresholds offset;         ///< on |offset| in seconds, as check_ntp_time does
  thresholds delay;          ///< round-trip delay, seconds
  thresholds jitter;         ///< offset jitter over the samples, seconds
  thresholds stratum;
  thresholds root_distance;  ///< seconds
  thresholds processing;     ///< server processing time T3 - T2, seconds
  std::vector<std::string> expect_refid;  ///< CRITICAL unless the refid is one of these
  bool leap_ok = false;            ///< a pending leap second is not a WARNING
  bool no_reply_critical = false;  ///< no reply is CRITICAL instead of UNKNOWN
  std::size_t min_ok = 0;          ///< at least this many addresses must be OK (0: all)
  /// Seconds added to each measured offset before it is judged and reported, the expected
  /// offset of the server (check_ntp_time -o).
  double time_offset_s = 0;
};

/// One item per address (and per target that did not resolve).
NTPKIT_API std::vector<plugin_item> ntp_plugin_items(const model::ntp_run& r,
                                                     const plugin_policy& policy);

/// Judges every address of every target and combines them: the worst state wins, or with
/// `min_ok` the number of OK addresses decides.
NTPKIT_API plugin_output evaluate_plugin(const model::ntp_run& r, const plugin_policy& policy);

/// True when `refid` of a reply at `stratum` is what `expected` names: its text (GPS,
/// 192.0.2.1, case-insensitive), its raw hex (0x7f7f0101), or an IPv6 address whose hash it is.
NTPKIT_API bool refid_matches(const std::array<std::uint8_t, 4>& refid, std::uint8_t stratum,
                              std::string_view expected);

}  // namespace ntpkit::report
