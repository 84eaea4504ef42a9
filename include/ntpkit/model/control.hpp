#pragma once

// ntpmon-query's payload: what mode 6 reads of an ntpd found (RFC 9327), and the values derived
// from them once: each variable's typed reading beside its raw text, and the row `ntpq -p`
// shows for an association (tally code, remote, refid, stratum, type, when, poll, reach,
// delay, offset, jitter), derived the way NTPsec 1.2.2's ntpq derives it (pylib/util.py
// PeerSummary, read to learn; the integration tests compare every column with ntpq's).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/proto/control.hpp"
#include "ntpkit/proto/control_query.hpp"
#include "ntpkit/proto/control_vars.hpp"
#include "ntpkit/proto/timestamp.hpp"

namespace ntpkit::model {

/// How a variable's text reads.
enum class value_type : std::uint8_t {
  none,       ///< a bare name, no '='
  integer,    ///< decimal or 0x hex integer ("-24", "0x7f")
  number,     ///< a decimal fraction ("0.000119", "6e-05")
  timestamp,  ///< an NTP timestamp "0xSSSSSSSS.FFFFFFFF"
  text,       ///< a quoted string without its quotes, or any other text as sent
  numbers,    ///< a list of numbers (filtdelay, filtoffset, filtdisp); unreadable ones empty
};

/// "none", "integer", "number", "timestamp", "text", "numbers".
NTPKIT_API std::string_view value_type_name(value_type t) noexcept;

/// One variable's reading. `raw` is always the text as sent (any bytes).
struct typed_value {
  value_type type = value_type::none;
  std::int64_t integer = 0;          ///< integer (hex values above 2^63 do not occur in ntpd)
  double number = 0;                 ///< number
  proto::timestamp ntp_time;         ///< timestamp
  std::string text;                  ///< text
  std::vector<std::optional<double>> numbers;  ///< numbers
  std::string_view unit;  ///< "ms" or "ppm" for variables whose unit ntpd fixes, else empty
};

/// Reads `value` of the variable `name`: filt* lists as numbers; a quoted value as text;
/// 0x-hex with a '.' as a timestamp, without as an integer; decimal integers; decimal
/// fractions; everything else (refid=SHM0, srcadr=127.0.0.1, garbage bytes) as text.
NTPKIT_API typed_value read_value(std::string_view name, const proto::variable_value& value);

/// The unit ntpd gives a variable: "ms" (offset, delay, jitter, dispersion, rootdelay,
/// rootdisp, rootdist, sys_jitter, clk_jitter, authdelay), "ppm" (frequency, clk_wander), or
/// empty.
NTPKIT_API std::string_view unit_of(std::string_view name) noexcept;

/// How one mode 6 request ended, in the words a report needs.
struct control_read {
  proto::control_opcode opcode = proto::control_opcode::read_variables;
  std::uint16_t association_id = 0;
  proto::control_outcome outcome = proto::control_outcome::timeout;
  std::error_code error;                      ///< timeout, incomplete, bad_response, ...
  std::optional<proto::control_error> server_error;  ///< outcome server_error
  std::uint16_t status = 0;                   ///< the response's status word
  proto::variable_list variables;             ///< READVAR, READCLOCK
  std::vector<proto::association_entry> associations;  ///< READSTAT of association 0
  /// Names the server refused one at a time (UNKNOWNVAR), with its error code.
  std::vector<std::pair<std::string, proto::control_error>> refused;
  unsigned requests_sent = 0;
  proto::ignore_counts ignored;
  proto::control_mac_status mac = proto::control_mac_status::missing;
  /// A key was used and the answer was not signed with it: ntpd answers a request whose MAC
  /// it cannot verify (unknown key id, other secret) unsigned, so this is how a wrong key shows.
  bool auth_failed = false;
  bool ok() const noexcept { return outcome == proto::control_outcome::response && !auth_failed; }
};

/// `r` in the words of control_read (associations are not parsed here: see
/// take_association_list). With `key_used`, an answer whose MAC did not verify with the key
/// sets auth_failed.
NTPKIT_API control_read take_read(proto::control_opcode opcode, std::uint16_t association_id,
                                  const proto::control_query_result& r, bool key_used = false);

/// Parses the association list of a READSTAT answer into `read.associations`; a malformed
/// list turns the read into outcome bad_response (errc::bad_association_list).
NTPKIT_API void take_association_list(control_read& read, const proto::control_response& r);

/// The machine name of how a read failed, JSON's error.kind: "timeout", "incomplete",
/// "bad_response", "network", "bad_request", "auth" (server error PERMISSION, auth_failed, or
/// a timeout after answers whose MAC failed), "server_error"; empty for a good read.
NTPKIT_API std::string_view failure_kind(const control_read& r) noexcept;

/// One line of `ntpq -p`, derived from an association's status word and its peer variables.
struct peer_summary {
  std::uint16_t association_id = 0;
  std::uint16_t status = 0;
  proto::peer_status decoded;
  char tally = ' ';      ///< " x.-+#*o" by selection
  std::string remote;    ///< srcadr, or srchost for reference clocks and pool slots
  std::string srcadr;    ///< as sent (for -n and reverse lookups)
  std::string refid;     ///< as ntpq shows it: an address, or the name in dots (".SHM0.")
  std::int64_t stratum = 20;  ///< 20 when not sent (ntpq's default)
  char type = '?';       ///< u unicast, l local clock, p pool, s/S symmetric, b/B/M broadcast,
                         ///< a manycast, a digit: NTS cookies
  std::optional<std::int64_t> when_s;  ///< seconds since rec/reftime; empty: never or ahead
  std::int64_t poll_s = 1;             ///< 2^min(ppoll, hpoll)
  std::uint64_t reach = 0;             ///< the reach register (ntpq prints it in octal)
  std::optional<double> delay_ms;
  std::optional<double> offset_ms;
  std::optional<double> jitter_ms;     ///< jitter, or dispersion when no jitter was sent
  bool jitter_is_dispersion = false;
  int decimals = 3;  ///< 4 when the server sends 6 decimals (NTPsec), else 3 (ntp.org)
  bool reference_clock = false;  ///< srchost has a '(' (ntpq's is_clock)
};

/// The `ntpq -p` row of an association (status word `status`, peer variables `vars`) at
/// `now` (the local clock as an NTP timestamp; only `when` depends on it, by wrapping
/// difference, so that rec 0 reads as "never").
NTPKIT_API peer_summary summarize_peer(std::uint16_t association_id, std::uint16_t status,
                                       const proto::variable_list& vars, proto::timestamp now);

/// One ntpmon-query run against one server: the command, where it went, and every read in the
/// order made (sysvars: one READVAR; peers: the READSTAT, then a READVAR per association; ...).
struct control_run {
  std::string command;  ///< "sysvars", "peers", "associations", "peervars", "clockvars"
  std::string host;     ///< as given
  std::string address;  ///< the address asked, empty when it did not resolve
  std::uint16_t port = 123;
  std::string resolve_error;  ///< why the host did not resolve (then there are no reads)
  std::vector<control_read> reads;
  std::vector<peer_summary> peers;  ///< peers: one per association shown, in the server's order
  /// True when every read succeeded (refused names do not count against it).
  bool ok() const noexcept {
    if (!resolve_error.empty() || reads.empty()) return false;
    for (const auto& r : reads) {
      if (!r.ok()) return false;
    }
    return true;
  }
};

}  // namespace ntpkit::model
