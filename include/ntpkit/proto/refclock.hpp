#pragma once

// Reference clock variables (a READCLOCK answer, `ntpq -c "cv ASSOC"`) decoded where the
// driver's meaning is known. Input is a variable_list (control_vars.hpp); every decoder keeps
// what it does not understand, so nothing the server said is lost.
//
// - Generic variables every driver gets (ntpd ntp_control.c ctl_putclock): NTPsec `name`,
//   ntp.org `type`; timecode, poll, noreply, badformat, baddata, fudgetime1/2 (ms, only when
//   configured or set by the driver), stratum, refid, flags, device.
// - The PARSE driver (NTPsec refclock_generic.c, ntp.org refclock_parse.c; DCF77 and Meinberg
//   receivers): refclock_status (flag words, then the receiver's capabilities in parentheses),
//   refclock_states (time spent in each clock state, the current one starred, then the running
//   time), and for Meinberg GPS receivers meinberg_gps_status and meinberg_antenna_status.
// Texts are as those drivers write them (tests/proto/refclock_test.cpp quotes NTPsec 1.2.2's
// answers and, for the GPS variables, ntp.org's driver8 documentation).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/proto/control_vars.hpp"
#include "ntpkit/result.hpp"

namespace ntpkit::proto {

/// The variables every reference clock has. A field is empty when the variable is absent or
/// its value does not read as its type; the names of the latter are in `malformed`.
struct refclock_generic {
  std::optional<std::string> name;         ///< NTPsec: driver name ("SHM", "NMEA", "MEINBERG_5XX")
  std::optional<std::uint64_t> type;       ///< ntp.org: driver type number
  std::optional<std::string> timecode;     ///< last time code received, as the driver shows it
  std::optional<std::uint64_t> poll;       ///< polls sent (a count, not an interval)
  std::optional<std::uint64_t> noreply;    ///< polls without answer
  std::optional<std::uint64_t> badformat;  ///< time codes of a bad format
  std::optional<std::uint64_t> baddata;    ///< time codes with bad data
  std::optional<double> fudgetime1_ms;     ///< fudge time1, milliseconds
  std::optional<double> fudgetime2_ms;     ///< fudge time2, milliseconds
  std::optional<std::int64_t> stratum;     ///< fudge stratum
  std::optional<std::string> refid;        ///< fudge refid, as text
  std::optional<std::uint64_t> flags;      ///< fudge flags
  std::optional<std::string> device;       ///< driver description
  std::vector<std::string> malformed;      ///< names of variables present whose value did not read
};

/// Reads the generic clock variables of `list`. Never fails.
NTPKIT_API refclock_generic decode_refclock_generic(const variable_list& list);

/// PARSE status flags, one bit per word the driver writes in refclock_status. The values are
/// ours (the driver's PARSEB_* bits changed between versions; the words did not).
enum class parse_flag : std::uint32_t {
  dst_switch_warning = 1u << 0,       ///< "DST SWITCH WARNING" (announce)
  not_synchronized = 1u << 1,         ///< "NOT SYNCHRONIZED" (power-up, never synchronised)
  time_code_not_confirmed = 1u << 2,  ///< "TIME CODE NOT CONFIRMED" (no sync, freewheeling)
  dst = 1u << 3,                      ///< "DST"
  utc_display = 1u << 4,              ///< "UTC DISPLAY"
  leap_add_warning = 1u << 5,         ///< "LEAP ADD WARNING"
  leap_delete_warning = 1u << 6,      ///< "LEAP DELETE WARNING"
  leap_warning = 1u << 7,             ///< "LEAP WARNING" (older drivers, direction unknown)
  leap_second = 1u << 8,              ///< "LEAP SECOND" (in a leap second now)
  call_bit = 1u << 9,                 ///< "CALL BIT" (DCF77 transmitter irregularity)
  alternate_antenna = 1u << 10,       ///< "ALTERNATE ANTENNA" (older drivers)
  time_code = 1u << 11,               ///< "TIME CODE" (valid time code sample)
  pps = 1u << 12,                     ///< "PPS" (valid PPS sample)
  position = 1u << 13,                ///< "POSITION" (position available)
};

/// PARSE receiver capabilities, the words inside the parentheses of refclock_status.
enum class parse_capability : std::uint32_t {
  leap_indication = 1u << 0,  ///< "LEAP INDICATION"
  pps_signal = 1u << 1,       ///< "PPS SIGNAL"
  callbit = 1u << 2,          ///< "CALLBIT"
  position = 1u << 3,         ///< "POSITION"
  antenna = 1u << 4,          ///< "ANTENNA" (older drivers)
};

/// The word the driver writes for `f` ("DST SWITCH WARNING", ...).
NTPKIT_API std::string_view to_string(parse_flag f) noexcept;
/// The word the driver writes for `c` ("LEAP INDICATION", ...).
NTPKIT_API std::string_view to_string(parse_capability c) noexcept;

/// refclock_status decoded.
struct parse_status {
  std::uint32_t flags = 0;           ///< parse_flag bits
  std::uint32_t capabilities = 0;    ///< parse_capability bits
  std::vector<std::string> unknown;  ///< words of neither list, in order
  /// True when `f` is set.
  bool has(parse_flag f) const noexcept { return (flags & static_cast<std::uint32_t>(f)) != 0; }
  /// True when `c` is set.
  bool has(parse_capability c) const noexcept {
    return (capabilities & static_cast<std::uint32_t>(c)) != 0;
  }
};

/// Decodes refclock_status text, e.g. "DST SWITCH WARNING; DST; TIME CODE; (LEAP INDICATION)":
/// words separated by "; ", the capabilities in one parenthesised group of "; "-separated
/// words. Unknown words are kept. Errors: errc::bad_refclock_value (an unbalanced or second
/// parenthesis group).
NTPKIT_API result<parse_status> decode_parse_status(std::string_view text);

/// One clock state of refclock_states.
struct parse_state_time {
  std::string state;          ///< "NOMINAL", "NO RESPONSE", "BAD FORMAT", "FAULT", ...
  std::uint64_t seconds = 0;  ///< time spent in it ("1d+00:43:00" → 89 * 60 ... seconds)
  std::uint32_t percent_hundredths = 0;  ///< its share, in 1/100 % ("83.46%" → 8346)
  bool current = false;                  ///< marked with '*'
};

/// refclock_states decoded.
struct parse_states {
  std::vector<parse_state_time> states;  ///< in the driver's order (by state code)
  std::uint64_t running_seconds = 0;     ///< "running time: ..."
  /// The state marked current, or nullptr when none is.
  const parse_state_time* current() const noexcept;
};

/// Decodes refclock_states text, e.g.
/// "NOMINAL: 00:01:46 (83.46%); *FAULT: 00:00:21 (16.53%); running time: 00:02:07".
/// Times are "[Nd+]HH:MM:SS". Errors: errc::bad_refclock_value (an entry of another form, a
/// missing running time).
NTPKIT_API result<parse_states> decode_parse_states(std::string_view text);

/// Meinberg GPS receiver status flags (meinberg_gps_status words).
enum class meinberg_gps_flag : std::uint32_t {
  antenna_faulty = 1u << 0,   ///< "ANTENNA FAULTY"
  no_sync_signal = 1u << 1,   ///< "NO SYNC SIGNAL"
  no_sync_powerup = 1u << 2,  ///< "NO SYNC POWERUP"
  no_position = 1u << 3,      ///< "NO POSITION"
};

/// meinberg_gps_status decoded: "[0x%04x] " then "<OK>" or the flag words joined by ", ".
struct meinberg_gps_status {
  std::uint16_t word = 0;            ///< the receiver's status word, as sent in brackets
  bool ok = false;                   ///< "<OK>"
  std::uint32_t flags = 0;           ///< meinberg_gps_flag bits of the words
  std::vector<std::string> unknown;  ///< other words, kept (newer drivers add text)
};
/// Decodes meinberg_gps_status text. Errors: errc::bad_refclock_value (no "[0x....]" word).
NTPKIT_API result<meinberg_gps_status> decode_meinberg_gps_status(std::string_view text);

/// The state meinberg_antenna_status reports.
enum class antenna_state : std::uint8_t {
  ok,            ///< "<OK>"
  disconnected,  ///< "DISCONNECTED since <time>"
  reconnected,   ///< "RECONNECTED on <time>, reconnect clockoffset ..., disconnect time <time>"
  bad_status,    ///< "bad status 0x...."
  unknown,       ///< another text
};
/// meinberg_antenna_status decoded.
struct meinberg_antenna_status {
  antenna_state state = antenna_state::unknown;
  std::string detail;  ///< the text after the keyword (times, offset), trimmed
};
/// Decodes meinberg_antenna_status text. Never fails: unknown text gives antenna_state::unknown.
NTPKIT_API meinberg_antenna_status decode_meinberg_antenna_status(std::string_view text);

}  // namespace ntpkit::proto
