#pragma once

// The health of an ntpd as check_ntp_peer (monitoring-plugins 2.3.3) reads it over mode 6:
// READSTAT, then READVAR "stratum,offset,jitter" of the sys.peer (else of every candidate,
// the one of least |offset| kept), and the verdict it gives; shared by check_ntp_peer and
// ntpmon-query --nagios.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ntpkit/net/control_client.hpp"
#include "ntpkit/report/plugin.hpp"

namespace ntpkit::apps {

/// What the reads found.
struct peer_health {
  bool answered = false;        ///< the READSTAT was answered
  bool unreachable = false;     ///< ICMP or a socket error instead of an answer
  bool timed_out = false;       ///< a request got no (complete) answer in time
  bool li_alarm = false;        ///< the READSTAT answer had LI 3
  bool sync_source = false;     ///< an association is sys.peer (or pps.peer)
  int truechimers = 0;          ///< associations with selection >= excess (2)
  int candidates = 0;           ///< associations with selection >= candidate (4)
  std::optional<double> offset_s;  ///< of the peer chosen, in seconds
  double jitter = -1;           ///< its jitter (or dispersion) as sent, in ms; -1 unknown
  int stratum = -1;             ///< its stratum; -1 unknown
  std::string jitter_name = "jitter";  ///< "dispersion" when the server refused jitter
  /// With `refclocks`: each reference clock's name (as ntpd names it, and its association
  /// id) and its clock status word.
  std::vector<std::pair<std::string, std::uint16_t>> clocks;
};

/// Reads the health of `server` (each request waits at most `timeout`, no re-asks).
/// With `refclocks`, also reads every association's clock variables (READCLOCK; those that are
/// no clock answer BADASSOC and are left out).
peer_health read_peer_health(const net::udp::endpoint& server, std::chrono::milliseconds timeout,
                             const std::optional<proto::symmetric_key>& key,
                             bool refclocks = false);

/// The thresholds, as check_ntp_peer takes them (ranges as written).
struct peer_thresholds {
  std::string offset_warn = "60", offset_crit = "120";
  std::string stratum_warn = "-1:16", stratum_crit = "-1:16";
  std::string jitter_warn = "-1:5000", jitter_crit = "-1:10000";
  std::string truechimers_warn = "0:", truechimers_crit = "0:";
  bool do_stratum = false, do_jitter = false, do_truechimers = false;
  bool quiet = false;
  /// Ranges read as the monitoring-plugins read them (text that is no number is 0); else
  /// report::parse_nagios_range's strict syntax.
  bool lenient_ranges = false;
  /// WARNING for a reference clock whose current state is not nominal (ntpmon-query only).
  bool refclocks = false;
};

/// check_ntp_peer's status line with perfdata and its state, or nullopt when a range does
/// not parse (the caller prints "Range format incorrect").
std::optional<report::plugin_output> judge_peer_health(const peer_health& h,
                                                       const peer_thresholds& t);

/// check_ntp_peer under its own name: argv as monitoring-plugins' check_ntp_peer takes it.
int check_ntp_peer_main(int argc, char** argv);

}  // namespace ntpkit::apps
