#pragma once

// ntpmon-query's payload against a chronyd: what chrony's command protocol (cmdmon.hpp) read of
// it, report by report, and the values derived once from them: each source's row as
// `chronyc sources` shows it, and the same row and system state in ntpq's terms (peer_summary,
// ntpd's system variable names), so that `peers` and `sysvars` mean the same for chronyd and
// ntpd.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/model/control.hpp"
#include "ntpkit/proto/cmdmon.hpp"
#include "ntpkit/proto/cmdmon_query.hpp"
#include "ntpkit/proto/cmdmon_reports.hpp"
#include "ntpkit/proto/control_vars.hpp"

namespace ntpkit::model {

/// A request that did not end in a reply.
struct chrony_failure {
  std::string report;  ///< chronyc's name of what was asked: "tracking", "sources", ...
  proto::cmdmon_outcome_kind kind = proto::cmdmon_outcome_kind::timeout;
  std::error_code error;
  std::optional<proto::cmdmon::status> status;  ///< status_error: chronyd's status
  bool needs_socket = false;  ///< unauthorised over UDP: a report only the Unix socket gives
};

/// The machine name of a failure, JSON's error.kind: "timeout", "network", "bad_reply",
/// "unauthorised" (the report needs the socket or `opencommands`), "status" (another status).
NTPKIT_API std::string_view failure_kind(const chrony_failure& f) noexcept;
/// A failure in words, one line: "tracking: no reply (3 requests)", "serverstats: chronyd
/// answered unauthorised: this report needs chronyd's Unix socket (--socket PATH, as root or
/// the chrony user) or an `opencommands` line that opens it (chrony 4.7+)", ...
NTPKIT_API std::string failure_text(const chrony_failure& f);

/// One of chronyd's sources and what was read of it.
struct chrony_source {
  std::uint32_t index = 0;
  proto::cmdmon::source_data data;
  std::string name;  ///< NTP_SOURCE_NAME (as configured), or the refclock's refid text
  std::optional<proto::cmdmon::sourcestats> stats;
  std::optional<proto::cmdmon::ntp_data> ntp;  ///< NTP sources, over the socket
  std::optional<proto::cmdmon::auth_data> auth;
  std::optional<proto::cmdmon::select_data> select;
};

/// The name chronyc prints for a source: its address, "unresolved source #N" for family 3,
/// and a reference clock's refid as text ("GPS", "PPS", "SHM0"): chronyd puts the refid in
/// ip_addr's IPv4 bytes for a refclock.
NTPKIT_API std::string source_address(const proto::cmdmon::source_data& s);

/// A refid as chronyc prints it in tracking: the four bytes as text when printable ("GPS"),
/// else their hex ("7F7F0101").
NTPKIT_API std::string refid_text(std::uint32_t ref_id);

/// What ntpmon-query read of one chronyd.
struct chrony_run {
  std::string command;  ///< tracking, sources, sourcestats, activity, serverstats, ntpdata,
                        ///< authdata, selectdata, peers, sysvars
  std::string host;     ///< as given
  std::string where;    ///< "127.0.0.1:323" or the socket's path
  bool local = false;   ///< over the Unix socket
  std::string resolve_error;
  bool detected = false;  ///< chosen by auto-detection (mode 6 refused, cmdmon answered)
  std::optional<proto::cmdmon::tracking> tracking;
  std::optional<std::uint32_t> n_sources;
  std::vector<chrony_source> sources;
  std::optional<proto::cmdmon::activity> activity;
  std::optional<proto::cmdmon::server_stats> server_stats;
  /// ntpdata ADDRESS: the one asked; ntpdata: every NTP source's.
  std::vector<proto::cmdmon::ntp_data> ntp_data;
  std::vector<chrony_failure> failures;
  std::uint32_t requests_sent = 0;
  std::uint8_t version = proto::cmdmon::protocol_version;
  /// peers: the sources as ntpq rows; sysvars: tracking as ntpd's system variables.
  std::vector<peer_summary> peers;
  proto::variable_list system;
  bool ok() const noexcept { return resolve_error.empty() && failures.empty(); }
};

/// A source as an `ntpq -p` row: tally from chrony's state ('*' selected, '+' combined, '-'
/// not combined, 'x' falseticker, ' ' unusable or jittery), remote = address (or name), refid
/// from ntpdata when read (else ".REFC." for a refclock's id), type 'u' (server), 's' (peer),
/// 'l' (refclock), when = since_sample, poll = 2^poll, reach, offset = latest_meas, jitter =
/// latest_meas_err ("the error bound", not ntpd's jitter: jitter_is_dispersion says so), delay
/// from ntpdata (peer_delay) when read. `now` is unused by chrony (when comes as an age).
NTPKIT_API peer_summary summarize_source(const chrony_source& s);

/// tracking in ntpd's system variable names and units: leap, stratum, refid, reftime (NTP
/// timestamp), offset (ms; chrony's last offset), sys_jitter (ms; rms offset), rootdelay,
/// rootdisp (ms), frequency (ppm, chrony's freq_ppm as `chronyc -c tracking` prints it),
/// clk_wander (ppm; skew), then chrony's own: system_time (ms; the correction being applied), resid_freq
/// (ppm), update_interval (s), ref_address.
NTPKIT_API proto::variable_list system_variables(const proto::cmdmon::tracking& t);

}  // namespace ntpkit::model
