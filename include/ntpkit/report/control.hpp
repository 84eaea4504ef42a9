#pragma once

// ntpmon-query's writers: ntpq's text layouts (rv/cv variable lists, the `ntpq -p` table, the
// association list) and one JSON document per run (docs/json.md, docs/ntpmon-query.schema.json).

#include <string>

#include "ntpkit/export.hpp"
#include "ntpkit/model/control.hpp"

namespace ntpkit::report {

/// Version of ntpmon-query's JSON schema; bumped only for incompatible changes.
inline constexpr int control_schema_version = 1;

/// The words of a system status word, as ntpq prints them after "status=XXXX":
/// "leap_none, sync_ntp, 1 event, clock_sync".
NTPKIT_API std::string system_status_text(std::uint16_t word);
/// A peer status word: "conf, reach, sel_sys.peer, 2 events, sys_peer".
NTPKIT_API std::string peer_status_text(std::uint16_t word);
/// A clock status word: the clock's current state and the count of its non-nominal reports
/// in the next nibble (saturating at 15, as ntpd's refclock_report() counts them):
/// "clk_no_reply, 5 events", "clk_no_reply, 15 events or more".
NTPKIT_API std::string clock_status_text(std::uint16_t word);

/// A READVAR/READCLOCK read as ntpq's rv/cv print it: "associd=N status=XXXX words," then the
/// variables as `name=value` joined by ", " in lines of at most 79 columns, values as sent
/// (non-printable bytes as \\xNN); refused names in a last line. An error read: one line
/// naming the problem.
NTPKIT_API std::string variables_text(const model::control_read& r);

/// A statistics read (sysstats, iostats, ...): one `name: value` line per variable, values
/// aligned at column 24, as sent; refused names last.
NTPKIT_API std::string statistics_text(const model::control_read& r);

/// The `ntpq -p` table: header, rule, one line per peer (remote 15 columns, refid 15, st, t,
/// when, poll, reach in octal, delay, offset, jitter in ms with ntpq's scaled 8-column numbers).
NTPKIT_API std::string peers_text(const std::vector<model::peer_summary>& peers);

/// ntpq's `as` table: ind assid status conf reach auth condition last_event cnt.
NTPKIT_API std::string associations_text(const model::control_read& r);

/// One line for a failed read: "127.0.0.1:123: server error: unknown association (BADASSOC)".
NTPKIT_API std::string read_error_text(const model::control_run& run, const model::control_read& r);

/// The whole run as one JSON document (pretty-printed, ending in a newline). `version` is the
/// program's.
NTPKIT_API std::string control_json(const model::control_run& run, const std::string& version);

/// The run as Prometheus text (exposition 0.0.4, prometheus.hpp's engine). Every series has
/// the label `server` (as given). ntpkit_mode6_up is 1 when every read succeeded. sysvars:
/// ntpkit_ntpd_* gauges of the system variables ntpd fixes the meaning of (stratum, leap,
/// precision, offset, sys_jitter, clk_jitter, root delay and dispersion in seconds,
/// frequency and clk_wander in ppm). peers: ntpkit_peer_* gauges per association (labels
/// `association`, `remote`, `refid`, `tally`): offset, delay, jitter in seconds, reach (the
/// register), reach_ratio (bits set / 8), stratum, poll, when. peervars/clockvars: every
/// variable that reads as a number as ntpkit_mode6_variable{association, name}.
NTPKIT_API std::string control_prometheus(const model::control_run& run,
                                          const std::string& version);

}  // namespace ntpkit::report
