#pragma once

// NTP mode 6 control messages (RFC 9327, "Control Messages Protocol for Use with NTPv4"), the
// protocol of ntpq: the 12-byte header, opcodes, the request encoding with its optional MAC,
// response fragments and their reassembly, the status words and READSTAT's association list.
//
// Wire facts this code relies on, each observed from NTPsec 1.2.2 ntpd answering NTPsec's ntpq
// (tests/proto/control_test.cpp cites the captures) and read in ntp.org's ntpq.c/ntp_control.c:
// - ntpq sends version 2 (ntp.org: LI 0; NTPsec: LI 3); ntpd answers in the request's version.
// - Request data is padded with zeros to a multiple of 4 bytes of the whole datagram; `count`
//   excludes the padding. An authenticated request is padded further, to a multiple of 8,
//   then carries the key id and the digest H(key ‖ everything before the key id) (AES-CMAC
//   for CMAC keys), as ntpq's sendrequest() and ntpd's process_control() lay it out.
// - A response fragment's data is `count` bytes at `offset`; what follows up to the 4-byte
//   boundary is NOT zeroed by NTPsec (stale text), so only `count` is used. A signed data
//   fragment has its MAC at the next multiple of 8 of 12 + count; a signed error response
//   (count 0) has it right after the 12-byte header.
// - An error response carries the error code in the status word's high byte, count 0, and a
//   stale offset (NTPsec sends offset 468 there); its offset is not looked at.
//
// Reassembly limits (control_limits): by default a response may reach offset + count = 65535
// bytes (what the 16-bit offset can address) in at most 128 distinct fragments (ntpd's own
// MRU_FRAGS_LIMIT, the largest answer it sends); beyond either the collection fails
// (errc::response_too_large, errc::too_many_fragments). Which datagrams are ignored and which
// end the collection is said at control_reassembler.

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/proto/mac.hpp"
#include "ntpkit/proto/packet.hpp"
#include "ntpkit/result.hpp"

namespace ntpkit::proto {

/// Length of the mode 6 header in bytes.
inline constexpr std::size_t control_header_size = 12;
/// Most data bytes one fragment carries (ntpd's CTL_MAX_DATA_LEN; RFC 9327 §2).
inline constexpr std::size_t control_max_data = 468;
/// The NTP version ntpq (ntp.org and NTPsec) puts in its requests.
inline constexpr std::uint8_t control_default_version = 2;

/// RFC 9327 §2 opcodes. Any 5-bit value may appear on the wire; the enumerators name those
/// RFC 9327 and ntpd define.
enum class control_opcode : std::uint8_t {
  unspecified = 0,
  read_status = 1,      ///< READSTAT: system or peer status, association list
  read_variables = 2,   ///< READVAR: system or peer variables
  write_variables = 3,  ///< WRITEVAR
  read_clock = 4,       ///< READCLOCK: reference clock variables
  write_clock = 5,      ///< WRITECLOCK
  set_trap = 6,         ///< SETTRAP
  async_message = 7,    ///< ASYNCMSG: trap message
  configure = 8,        ///< CONFIGURE: runtime configuration (ntpd)
  save_config = 9,      ///< SAVECONFIG (ntpd)
  read_mru = 10,        ///< READ_MRU: the MRU (monitoring) list
  read_ordlist = 11,    ///< READ_ORDLIST_A: ordered lists (reslist, ifstats), authenticated
  request_nonce = 12,   ///< REQ_NONCE: a nonce for READ_MRU
  unset_trap = 31,      ///< UNSETTRAP
};

/// The opcode's RFC 9327 name ("READSTAT", "READ_MRU", ...), "UNKNOWN" for other values.
NTPKIT_API std::string_view to_string(control_opcode op) noexcept;

/// RFC 9327 §2 error codes, sent in the status word's high byte of a response with the error
/// bit. ntpq prints them as UNSPEC, PERMISSION, BADFMT, BADOP, BADASSOC, UNKNOWNVAR, BADVALUE,
/// RESTRICT (ntpq_name()).
enum class control_error : std::uint8_t {
  unspecified = 0,
  permission = 1,           ///< authentication failure or permission denied
  bad_format = 2,           ///< invalid message length or format
  unknown_opcode = 3,       ///< invalid opcode
  unknown_association = 4,  ///< unknown association identifier
  unknown_variable = 5,     ///< unknown variable name
  bad_value = 6,            ///< invalid variable value
  prohibited = 7,           ///< administratively prohibited
};

/// Words for the code: "unspecified", "permission denied or authentication failure", "bad
/// format", "unknown opcode", "unknown association", "unknown variable", "bad value",
/// "administratively prohibited"; "error N" for other values.
NTPKIT_API std::string_view to_string(control_error e) noexcept;
/// The name ntpq prints after "***Server error code " (NTPsec ntpq), "UNKNOWN" for others.
NTPKIT_API std::string_view ntpq_name(control_error e) noexcept;

/// The mode 6 header (RFC 9327 §2):
///
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |LI | VN  |Mode |R|E|M| OpCode  |       Sequence Number         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |            Status             |       Association ID          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |            Offset             |            Count              |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                                                               |
/// .                 Data (up to 468 bytes)                        .
/// |                                                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Padding (optional)                         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |             Authenticator (optional): key id, digest          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
struct control_header {
  leap_indicator leap = leap_indicator::none;
  std::uint8_t version = control_default_version;       ///< 3 bits
  std::uint8_t mode = 6;                                ///< 3 bits; 6 for every control message
  bool response = false;                                ///< R: set by the server
  bool error = false;                                   ///< E: error response
  bool more = false;                                    ///< M: more fragments follow
  control_opcode opcode = control_opcode::unspecified;  ///< 5 bits
  std::uint16_t sequence = 0;
  std::uint16_t status = 0;  ///< a status word (system, peer or clock), or the error code << 8
  std::uint16_t association_id = 0;
  std::uint16_t offset = 0;  ///< byte offset of this fragment's data in the response
  std::uint16_t count = 0;   ///< data bytes in this fragment, padding not included
  friend bool operator==(const control_header&, const control_header&) = default;
};

/// Reads the 12-byte header. Errors: errc::truncated (fewer than 12 bytes),
/// errc::not_control_message (mode is not 6). Nothing else is checked.
NTPKIT_API result<control_header> parse_control_header(std::span<const std::uint8_t> datagram);

/// Writes `h` into the first 12 bytes of `out` (which must hold them); bits beyond each field's
/// width are dropped.
NTPKIT_API void write_control_header(const control_header& h, std::span<std::uint8_t> out) noexcept;

/// One datagram of a response, split up. The spans point into the parsed datagram.
struct control_fragment {
  control_header header;
  std::span<const std::uint8_t> data;     ///< `count` bytes after the header
  std::span<const std::uint8_t> trailer;  ///< everything after the data: padding, MAC
};

/// Splits a datagram into header, data and trailer. Errors: those of parse_control_header,
/// and errc::truncated when `count` reaches past the datagram.
NTPKIT_API result<control_fragment> parse_control_fragment(std::span<const std::uint8_t> datagram);

/// The error code of an error response (error bit set): the status word's high byte.
constexpr control_error error_code_of(const control_header& h) noexcept {
  return static_cast<control_error>(h.status >> 8);
}

/// A request to send.
struct control_request {
  control_opcode opcode = control_opcode::read_variables;
  std::uint16_t sequence = 0;
  std::uint16_t association_id = 0;
  std::vector<std::uint8_t> data;  ///< at most control_max_data bytes (ASCII name lists, ...)
  std::uint8_t version = control_default_version;
  leap_indicator leap = leap_indicator::none;  ///< ntp.org's ntpq sends 0, NTPsec's 3
};

/// The datagram for `request`: the header (R, E, M clear, status 0, offset 0, count = data
/// size), the data, zeros to a multiple of 4 bytes. With `key`: zeros on to a multiple of 8,
/// then the key id and the digest of all bytes before it (proto::compute_mac), cut to
/// `length` (ntpd accepts at most 20 digest bytes in a mode 6 request, hence truncate_20 by
/// default; it changes nothing for MD5, SHA1 and AES-CMAC). Errors:
/// errc::control_data_too_long, errc::crypto_failure.
NTPKIT_API result<std::vector<std::uint8_t>> encode_control_request(
    const control_request& request, const symmetric_key* key = nullptr,
    digest_length length = digest_length::truncate_20);

/// The offsets at which a MAC may start in a control message whose header says `count`:
/// first 12 + count rounded up to 8 (requests, data fragments), then 12 + count rounded up
/// to 4 (NTPsec's signed error responses put the MAC right after the header).
NTPKIT_API std::array<std::size_t, 2> control_mac_offsets(std::uint16_t count) noexcept;

/// Whether and how a control message's MAC verified.
enum class control_mac_status : std::uint8_t {
  verified,   ///< a MAC by `key` at a place control_mac_offsets() allows, and it verifies
  missing,    ///< nothing after the data but padding: the message is not signed
  key_id,     ///< a trailer of the right length naming another key id
  mismatch,   ///< the digest is wrong
  malformed,  ///< bytes after the data that are no MAC of `key`'s length at either place
};

/// "verified", "missing", "key_id", "mismatch", "malformed".
NTPKIT_API std::string_view to_string(control_mac_status s) noexcept;

/// Checks the MAC of a whole control message (request or response fragment) against `key`:
/// the trailer must be exactly the key id and a digest of the full or 20-byte length, at one
/// of control_mac_offsets(count). Errors (not outcomes): errc::truncated (no valid header or
/// count), errc::crypto_failure.
NTPKIT_API result<control_mac_status> verify_control_mac(std::span<const std::uint8_t> datagram,
                                                         const symmetric_key& key);

// ---- status words (RFC 9327 §2.1) ------------------------------------------------------------

/// System status word, clock source (6 bits). Names are ntpq's (libntp statestr.c).
enum class clock_source : std::uint8_t {
  unspecified = 0,  ///< sync_unspec
  pps = 1,          ///< sync_pps: calibrated atomic clock or PPS
  lf_radio = 2,     ///< sync_lf_radio: VLF/LF radio (WWVB, DCF77)
  hf_radio = 3,     ///< sync_hf_radio: HF radio (CHU, MSF, WWV/H)
  uhf_radio = 4,    ///< sync_uhf_radio: UHF satellite (GPS, GOES)
  local = 5,        ///< sync_local: local net
  ntp = 6,          ///< sync_ntp: UDP/NTP
  other = 7,        ///< sync_other: UDP/TIME
  wristwatch = 8,   ///< sync_wristwatch: eyeball-and-wristwatch
  telephone = 9,    ///< sync_telephone: telephone modem
};
/// "sync_unspec", "sync_ntp", ...; "sync_N" for values without a name (as ntpq).
NTPKIT_API std::string to_string(clock_source s);

/// System event codes (4 bits).
enum class system_event : std::uint8_t {
  unspecified = 0,
  freq_not_set = 1,              ///< frequency file not available
  freq_set = 2,                  ///< frequency set from file
  spike_detect = 3,              ///< spike detected
  freq_mode = 4,                 ///< initial frequency training
  clock_sync = 5,                ///< clock synchronized
  restart = 6,                   ///< system restart
  panic_stop = 7,                ///< panic stop
  no_sys_peer = 8,               ///< no system peer
  leap_armed = 9,                ///< leap second armed
  leap_disarmed = 10,            ///< leap second disarmed
  leap_event = 11,               ///< leap second inserted or deleted
  clock_step = 12,               ///< clock stepped
  kernel = 13,                   ///< kernel information message (ntpq "kern")
  tai = 14,                      ///< TAI offset changed (ntpq "TAI")
  stale_leapsecond_values = 15,  ///< leap second file stale
};
/// ntpq's name: "unspecified", "freq_not_set", ..., "kern", "TAI", "stale_leapsecond_values".
NTPKIT_API std::string_view to_string(system_event e) noexcept;

/// The system status word: LI (2 bits) | clock source (6) | event count (4) | last event (4).
struct system_status {
  leap_indicator leap = leap_indicator::none;
  clock_source source = clock_source::unspecified;
  std::uint8_t event_count = 0;  ///< events since the last report, saturating at 15
  system_event last_event = system_event::unspecified;
  friend bool operator==(const system_status&, const system_status&) = default;
};
/// Splits a system status word (the status of a READVAR response for association 0).
NTPKIT_API system_status decode_system_status(std::uint16_t word) noexcept;
/// The word for `s` (inverse of decode_system_status).
NTPKIT_API std::uint16_t encode_system_status(const system_status& s) noexcept;

/// Peer selection status (3 bits), ntpq's "condition" and the tally code of `ntpq -p`.
enum class peer_selection : std::uint8_t {
  reject = 0,     ///< ' ' rejected
  falsetick = 1,  ///< 'x' discarded by the intersection algorithm
  excess = 2,     ///< '.' discarded as surplus (beyond the first 10)
  outlier = 3,    ///< '-' discarded by the cluster algorithm
  candidate = 4,  ///< '+' included by the combine algorithm
  backup = 5,     ///< '#' backup (more than tos maxclock sources)
  sys_peer = 6,   ///< '*' the system peer
  pps_peer = 7,   ///< 'o' the PPS peer
};
/// "reject", "falsetick", "excess", "outlier", "candidate", "backup", "sys.peer", "pps.peer".
NTPKIT_API std::string_view to_string(peer_selection s) noexcept;
/// The tally character `ntpq -p` prints in front of the address: " x.-+#*o".
NTPKIT_API char tally_code(peer_selection s) noexcept;

/// Peer event codes (4 bits).
enum class peer_event : std::uint8_t {
  unspecified = 0,
  mobilize = 1,           ///< association mobilized
  demobilize = 2,         ///< association demobilized
  unreachable = 3,        ///< server unreachable
  reachable = 4,          ///< server reachable
  restart = 5,            ///< association restart
  no_reply = 6,           ///< no server found (ntpdate mode)
  rate_exceeded = 7,      ///< rate exceeded (kiss code RATE)
  access_denied = 8,      ///< access denied (kiss code DENY)
  leap_armed = 9,         ///< leap armed from server LI code
  sys_peer = 10,          ///< became system peer
  clock_event = 11,       ///< reference clock event (see the clock status)
  bad_auth = 12,          ///< authentication failure
  popcorn = 13,           ///< popcorn spike suppressor
  interleave_mode = 14,   ///< entering interleave mode (ntpq: "_14")
  interleave_error = 15,  ///< interleave error (ntpq: "_15")
};
/// "mobilize", ..., "clock_event", "bad_auth", "popcorn", "interleave_mode", "interleave_error".
NTPKIT_API std::string_view to_string(peer_event e) noexcept;

/// The peer status word: status bits (5) | selection (3) | event count (4) | last event (4).
struct peer_status {
  bool configured = false;    ///< 0x8000: configured (not ephemeral)
  bool auth_enabled = false;  ///< 0x4000: authentication enabled
  bool authentic = false;     ///< 0x2000: authentication okay
  bool reachable = false;     ///< 0x1000: reachability okay
  bool broadcast = false;     ///< 0x0800: broadcast association
  peer_selection selection = peer_selection::reject;
  std::uint8_t event_count = 0;
  peer_event last_event = peer_event::unspecified;
  friend bool operator==(const peer_status&, const peer_status&) = default;
};
/// Splits a peer status word (READSTAT entries, READVAR for an association).
NTPKIT_API peer_status decode_peer_status(std::uint16_t word) noexcept;
/// The word for `s` (inverse of decode_peer_status).
NTPKIT_API std::uint16_t encode_peer_status(const peer_status& s) noexcept;

/// Reference clock states (the driver's refclock_report codes, CEVNT_*).
enum class clock_state : std::uint8_t {
  nominal = 0,     ///< clk_unspec: no problem
  no_reply = 1,    ///< clk_no_reply: timeout
  bad_format = 2,  ///< clk_bad_format: bad reply format
  fault = 3,       ///< clk_fault: hardware or software fault
  bad_signal = 4,  ///< clk_bad_signal: propagation failure, signal lost
  bad_date = 5,    ///< clk_bad_date: bad date format or value
  bad_time = 6,    ///< clk_bad_time: bad time format or value
};
/// ntpq's names: "clk_unspec", "clk_no_reply", "clk_bad_format", "clk_fault",
/// "clk_bad_signal", "clk_bad_date", "clk_bad_time"; "clk_N" for other values.
NTPKIT_API std::string to_string(clock_state s);

/// The clock status word of a READCLOCK response: (lastevent << 4) | current state (ntpd's
/// ctlclkstatus). Note: NTPsec 1.2.2 counts non-nominal reports in lastevent, saturating at
/// 15 (an unfed SHM clock shows 5 at noreply=5, 15 from noreply=15 on: tests/integration/
/// test_ntpmon_query.py), so ntpq's "N events" is right and `last_event` below holds that
/// count, not a clock_state code; report/control.hpp reads it as the count.
struct clock_status {
  clock_state state = clock_state::nominal;       ///< low nibble: the clock's current state
  clock_state last_event = clock_state::nominal;  ///< next nibble: the last event reported
  friend bool operator==(const clock_status&, const clock_status&) = default;
};
/// Splits a clock status word; the high byte (always 0 from ntpd) is ignored.
NTPKIT_API clock_status decode_clock_status(std::uint16_t word) noexcept;
/// The word for `s`.
NTPKIT_API std::uint16_t encode_clock_status(const clock_status& s) noexcept;

/// One entry of READSTAT's association list.
struct association_entry {
  std::uint16_t association_id = 0;
  std::uint16_t status = 0;  ///< the peer status word (decode_peer_status)
  friend bool operator==(const association_entry&, const association_entry&) = default;
};
/// The association list a READSTAT for association 0 returns: 4-byte pairs of association id
/// and peer status, in the server's order (NTPsec: newest first). Errors:
/// errc::bad_association_list (a length that is not a multiple of 4).
NTPKIT_API result<std::vector<association_entry>> parse_association_list(
    std::span<const std::uint8_t> data);

// ---- reassembly --------------------------------------------------------------------------------

/// Bounds on what one response may take.
struct control_limits {
  /// Highest offset + count accepted (bytes). The default is what the 16-bit offset can name
  /// of whole fragments (65535 - 468 + 468); READ_MRU's 128 fragments of 468 bytes fit.
  std::size_t max_bytes = 65535;
  /// Most distinct fragments (ntpd's own MRU_FRAGS_LIMIT is 128).
  std::size_t max_fragments = 128;
};

/// A complete response: the data in offset order, the header of its last fragment.
struct control_response {
  /// The header of the fragment without the more bit (or of the error response): status,
  /// association id, version, leap. offset/count/more are those of that fragment.
  control_header header;
  std::vector<std::uint8_t> data;      ///< every fragment's `count` bytes, by offset
  std::optional<control_error> error;  ///< set for an error response (no data then)
  std::size_t fragments = 0;           ///< distinct fragments that made the data
  std::size_t duplicates = 0;          ///< repeated fragments, tolerated and dropped
  /// Some fragments carried another status word or association id than the last one (ntpd
  /// never does this; ntpq keeps the last one's, and so do we).
  bool header_varied = false;
};

/// Collects the fragments of one mode 6 response (RFC 9327 §2 "Offset", "Count", "More").
///
/// Fragments are placed by their offset field, never by arrival order; only `count` bytes of
/// each are used. The response is complete when the fragment without the more bit has arrived
/// and the fragments cover [0, its end) with no gap. An error response (error bit) completes
/// at once, whatever its offset and count.
///
/// Each datagram gets one of three treatments:
/// - stray, ignored, the reassembler unchanged (is_stray_control_error()): errc::truncated
///   (under 12 bytes or count past the end), errc::not_control_message, errc::not_response
///   (a request), errc::wrong_sequence (an answer to another request, e.g. an earlier try),
///   errc::wrong_opcode, errc::empty_fragment (count 0 with the more bit: it adds nothing,
///   and NTPsec's ntpq skips it too);
/// - accepted: a new fragment, or an exact repeat of one (same offset, count, more bit and
///   bytes), which counts as a duplicate;
/// - fatal, the collection ends with that error and later datagrams get it again:
///   errc::fragment_overlap (overlaps another fragment and is not its repeat),
///   errc::fragment_conflict (a fragment past the end the last fragment set, or a second last
///   fragment with another end), errc::response_too_large (offset + count > max_bytes),
///   errc::too_many_fragments (more than max_fragments distinct ones).
/// Fatal rather than "ignore and hope": a fresh sequence number per request (control_query
/// does this) means such fragments can only come from a broken or hostile server.
/// Once complete, matching datagrams are answered with progress::complete and change nothing.
class NTPKIT_API control_reassembler {
 public:
  /// How far the collection is.
  enum class progress : std::uint8_t { need_more, complete };

  /// Collects the response to the request with this sequence number and opcode.
  explicit control_reassembler(std::uint16_t sequence, control_opcode opcode,
                               control_limits limits = {});

  /// Feeds one datagram (see the class comment for the errors).
  result<progress> feed(std::span<const std::uint8_t> datagram);
  /// Feeds an already split datagram (after its MAC was checked, say).
  result<progress> feed(const control_fragment& fragment);

  /// The stray error a datagram with header `h` gets from feed() (errc::not_control_message,
  /// not_response, wrong_sequence, wrong_opcode), or an empty code when it answers the request
  /// being collected. Lets a caller check a MAC only on datagrams that are for it.
  std::error_code check(const control_header& h) const noexcept;

  /// True once the response is complete.
  bool complete() const noexcept { return complete_; }
  /// The fatal error that ended the collection, or an empty code.
  std::error_code failure() const noexcept { return failure_; }
  /// Why the response is not complete yet: errc::no_fragment (nothing arrived),
  /// errc::missing_last_fragment, errc::missing_fragment (a gap), or failure(); empty once
  /// complete. What a caller reports when it stops waiting.
  std::error_code missing() const noexcept;
  /// The response; meaningful once complete().
  const control_response& response() const noexcept { return response_; }
  /// Distinct fragments held so far.
  std::size_t fragment_count() const noexcept { return fragments_.size(); }
  /// Data bytes held so far.
  std::size_t byte_count() const noexcept { return held_; }

 private:
  struct piece {
    std::vector<std::uint8_t> bytes;
    bool more = true;
  };
  result<progress> fail(std::error_code ec);
  result<progress> place(const control_fragment& f);
  void finish();

  std::uint16_t sequence_;
  control_opcode opcode_;
  control_limits limits_;
  std::map<std::size_t, piece> fragments_;  // by offset
  std::size_t held_ = 0;
  std::optional<std::size_t> end_;  // offset + count of the last fragment
  std::optional<control_header> first_header_;
  control_header last_header_;
  bool complete_ = false;
  std::error_code failure_;
  control_response response_;
};

}  // namespace ntpkit::proto
