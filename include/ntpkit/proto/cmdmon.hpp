#pragma once

// chrony's command and monitoring protocol ("cmdmon"): what chronyc speaks to chronyd over UDP
// (port 323, loopback by default) or chronyd's Unix datagram socket. This header has the wire
// types, the codes, requests and the reply header; the reply bodies are in cmdmon_reports.hpp
// and the conversation (resends, matching, the version 5 fallback) in cmdmon_query.hpp.
//
// Facts from chrony's candm.h, pktlength.c, cmdmon.c, client.c and util.c, releases 4.3 (what
// Debian 12 runs) to 4.8. Everything is big-endian. The protocol is versioned as a whole
// (version 6 since chrony 2.0; version 5 is the same without request padding); reply bodies
// that changed within version 6 got new reply codes (SERVER_STATS2..4, NTP_DATA2, ...).
//
// Request header (20 bytes), then the command's data, then zero padding:
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +---------------+---------------+---------------+---------------+
//  |    version    |  pkt_type (1) |   res1 (0)    |   res2 (0)    |
//  +---------------+---------------+---------------+---------------+
//  |            command            |            attempt            |
//  +-------------------------------+-------------------------------+
//  |                           sequence                            |
//  +---------------------------------------------------------------+
//  |                             pad1                              |
//  +---------------------------------------------------------------+
//  |                             pad2                              |
//  +---------------------------------------------------------------+
//  |       data (per command) ...  padding (version 6) ...         |
//
// The padding makes a request as long as the longest reply it can get: chronyd answers a
// shorter request with STT_BADPKTLENGTH and never sends a reply longer than the request
// ("to prevent traffic amplification", candm.h).

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/proto/timestamp.hpp"
#include "ntpkit/result.hpp"

namespace ntpkit::proto::cmdmon {

/// chronyd's default command port (DEFAULT_CANDM_PORT).
inline constexpr std::uint16_t default_port = 323;
/// The protocol version chronyc and chronyd speak since chrony 2.0 (PROTO_VERSION_NUMBER).
inline constexpr std::uint8_t protocol_version = 6;
/// The previous version: the same messages without request padding. chronyc falls back to it
/// when a version 5 chronyd answers STT_BADPKTVERSION.
inline constexpr std::uint8_t protocol_version_5 = 5;
/// pkt_type of a request.
inline constexpr std::uint8_t pkt_type_request = 1;
/// pkt_type of a reply.
inline constexpr std::uint8_t pkt_type_reply = 2;
/// Bytes of the request header (offsetof(CMD_Request, data)).
inline constexpr std::size_t request_header_size = 20;
/// Bytes of the reply header (offsetof(CMD_Reply, data)).
inline constexpr std::size_t reply_header_size = 28;
/// Client records in one CLIENT_ACCESSES_BY_INDEX reply (MAX_CLIENT_ACCESSES).
inline constexpr std::uint32_t max_client_accesses = 8;

/// chrony's 32-bit `Float`: a 7-bit signed exponent above a 25-bit signed coefficient, no
/// hidden bit; value = coefficient × 2^(exponent − 25). Kept as its wire bits; to_double() is
/// exact, since a 25-bit coefficient and a power of two from 2^-89 to 2^38 fit a double.
class float32 {
 public:
  constexpr float32() noexcept = default;
  /// The value of these 32 wire bits.
  static constexpr float32 from_bits(std::uint32_t bits) noexcept { return float32(bits); }
  /// coefficient × 2^(exponent − 25); both are cut to their widths (25 and 7 bits, two's
  /// complement), so pass coefficient in [-2^24, 2^24 - 1] and exponent in [-64, 63].
  static constexpr float32 from_parts(std::int32_t coefficient, int exponent) noexcept {
    return float32((static_cast<std::uint32_t>(exponent) & 0x7fu) << 25 |
                   (static_cast<std::uint32_t>(coefficient) & 0x1ffffffu));
  }
  /// The nearest value (ties away from zero), with a 24-bit coefficient. Magnitudes above the
  /// largest value saturate to it, below 2^-90 become zero, NaN becomes zero (as chronyd's
  /// UTI_FloatHostToNetwork does).
  NTPKIT_API static float32 from_double(double x) noexcept;

  constexpr std::uint32_t bits() const noexcept { return bits_; }
  /// The exponent as sent, -64..63.
  constexpr int exponent() const noexcept {
    const int e = static_cast<int>(bits_ >> 25);
    return e >= 64 ? e - 128 : e;
  }
  /// The coefficient, -2^24..2^24 - 1.
  constexpr std::int32_t coefficient() const noexcept {
    const auto c = static_cast<std::int32_t>(bits_ & 0x1ffffffu);
    return c >= (1 << 24) ? c - (1 << 25) : c;
  }
  /// coefficient × 2^(exponent − 25), exactly.
  NTPKIT_API double to_double() const noexcept;
  friend constexpr bool operator==(float32, float32) noexcept = default;

 private:
  constexpr explicit float32(std::uint32_t bits) noexcept : bits_(bits) {}
  std::uint32_t bits_ = 0;
};

/// TV_NOHIGHSEC: the sec_high of a chronyd with a 32-bit time_t.
inline constexpr std::uint32_t no_high_seconds = 0x7fffffff;

/// chrony's `Timespec`: seconds since 1970 in two 32-bit halves, and nanoseconds. Kept as sent.
///
///   | sec_high (u32) | sec_low (u32) | nsec (u32) |       12 bytes
struct timespec {
  std::uint32_t sec_high = 0;
  std::uint32_t sec_low = 0;
  std::uint32_t nsec = 0;

  /// Seconds since 1970-01-01T00:00:00Z; a sec_high of no_high_seconds means only sec_low
  /// counts (chronyd's UTI_TimespecNetworkToHost).
  constexpr std::int64_t seconds() const noexcept {
    const std::uint64_t high = sec_high == no_high_seconds ? 0 : sec_high;
    return static_cast<std::int64_t>(high << 32 | sec_low);
  }
  /// Nanoseconds, at most 999'999'999 (chronyd clamps larger values the same way).
  constexpr std::uint32_t nanoseconds() const noexcept {
    return nsec > 999'999'999u ? 999'999'999u : nsec;
  }
  /// The instant, saturated at the limits of sys_nanoseconds.
  NTPKIT_API sys_nanoseconds to_sys_time() const noexcept;
  /// The wire form of `seconds` since 1970 and `nsec` nanoseconds, with a 64-bit time_t.
  static constexpr timespec from_parts(std::int64_t seconds, std::uint32_t nsec) noexcept {
    const auto s = static_cast<std::uint64_t>(seconds);
    return {static_cast<std::uint32_t>(s >> 32), static_cast<std::uint32_t>(s), nsec};
  }
  friend constexpr bool operator==(const timespec&, const timespec&) noexcept = default;
};

/// chrony's `Integer64` (SERVER_STATS4's counters): two 32-bit halves, high first.
struct integer64 {
  std::uint32_t high = 0;
  std::uint32_t low = 0;
  constexpr std::uint64_t value() const noexcept { return std::uint64_t{high} << 32 | low; }
  friend constexpr bool operator==(const integer64&, const integer64&) noexcept = default;
};

/// IPAddr's family field (IPADDR_*).
enum class address_family : std::uint16_t {
  unspec = 0,  ///< no address (a reference clock's, or "not known")
  inet4 = 1,
  inet6 = 2,
  id = 3,  ///< an unresolved source: a number chronyd gave a name it has not resolved yet
};

/// chrony's `IPAddr`: a 16-byte union (IPv4 in the first 4 bytes, IPv6 in all 16, or an
/// unresolved source's id in the first 4), the family, and 2 bytes of padding. Kept as sent,
/// so that it re-encodes to the same bytes.
///
///   | addr (16 bytes: in4 / in6 / id) | family (u16) | pad (u16) |       20 bytes
struct ip_addr {
  std::array<std::uint8_t, 16> addr{};
  std::uint16_t family = 0;  ///< as sent; see kind()
  std::uint16_t pad = 0;

  /// The family; a value chrony does not define is unspec (as chronyc treats it).
  constexpr address_family kind() const noexcept {
    return family <= 3 ? static_cast<address_family>(family) : address_family::unspec;
  }
  /// An unresolved source (family 3): show it as "unresolved source #id", never as an address.
  constexpr bool is_unresolved() const noexcept { return family == 3; }
  /// The first four bytes as a number: the IPv4 address, or the unresolved source's id.
  constexpr std::uint32_t in4() const noexcept {
    return std::uint32_t{addr[0]} << 24 | std::uint32_t{addr[1]} << 16 |
           std::uint32_t{addr[2]} << 8 | addr[3];
  }
  /// The unresolved source's number; meaningful when is_unresolved().
  constexpr std::uint32_t id() const noexcept { return in4(); }

  /// An IPv4 address (host order number, 127.0.0.1 = 0x7f000001).
  NTPKIT_API static ip_addr from_in4(std::uint32_t address) noexcept;
  /// An IPv6 address (16 bytes, network order).
  NTPKIT_API static ip_addr from_in6(const std::array<std::uint8_t, 16>& address) noexcept;
  /// An unresolved source's id (family 3).
  NTPKIT_API static ip_addr from_id(std::uint32_t id) noexcept;
  friend constexpr bool operator==(const ip_addr&, const ip_addr&) noexcept = default;
};

/// "127.0.0.1", "::1" (RFC 5952), "unresolved source #1", or "unspecified".
NTPKIT_API std::string to_string(const ip_addr& a);

/// Request codes (REQ_*), with chrony's names in snake_case.
enum class command : std::uint16_t {
  null = 0,
  online = 1,
  offline = 2,
  burst = 3,
  modify_minpoll = 4,
  modify_maxpoll = 5,
  dump = 6,
  modify_maxdelay = 7,
  modify_maxdelayratio = 8,
  modify_maxupdateskew = 9,
  logon = 10,
  settime = 11,
  local = 12,
  manual = 13,
  n_sources = 14,
  source_data = 15,
  rekey = 16,
  allow = 17,
  allowall = 18,
  deny = 19,
  denyall = 20,
  cmdallow = 21,
  cmdallowall = 22,
  cmddeny = 23,
  cmddenyall = 24,
  accheck = 25,
  cmdaccheck = 26,
  add_server = 27,
  add_peer = 28,
  del_source = 29,
  writertc = 30,
  dfreq = 31,
  doffset = 32,
  tracking = 33,
  sourcestats = 34,
  rtcreport = 35,
  trimrtc = 36,
  cyclelogs = 37,
  subnets_accessed = 38,
  client_accesses = 39,
  client_accesses_by_index = 40,
  manual_list = 41,
  manual_delete = 42,
  makestep = 43,
  activity = 44,
  modify_minstratum = 45,
  modify_polltarget = 46,
  modify_maxdelaydevratio = 47,
  reselect = 48,
  reselectdistance = 49,
  modify_makestep = 50,
  smoothing = 51,
  smoothtime = 52,
  refresh = 53,
  server_stats = 54,
  client_accesses_by_index2 = 55,
  local2 = 56,
  ntp_data = 57,
  add_server2 = 58,
  add_peer2 = 59,
  add_server3 = 60,
  add_peer3 = 61,
  shutdown = 62,
  onoffline = 63,
  add_source = 64,
  ntp_source_name = 65,
  reset_sources = 66,
  auth_data = 67,
  client_accesses_by_index3 = 68,
  select_data = 69,
  reload_sources = 70,
  doffset2 = 71,
  modify_selectopts = 72,
  modify_offset = 73,
  local3 = 74,
};

/// chrony's name of a command in snake_case ("tracking", "client_accesses_by_index3"), or
/// "unknown".
NTPKIT_API std::string_view command_name(command c) noexcept;

/// Reply codes (RPY_*): which layout the reply's data has.
enum class reply_code : std::uint16_t {
  null = 1,
  n_sources = 2,
  source_data = 3,
  manual_timestamp = 4,
  tracking = 5,
  sourcestats = 6,
  rtc = 7,
  subnets_accessed = 8,
  client_accesses = 9,
  client_accesses_by_index = 10,
  manual_list = 11,
  activity = 12,
  smoothing = 13,
  server_stats = 14,
  client_accesses_by_index2 = 15,
  ntp_data = 16,
  manual_timestamp2 = 17,
  manual_list2 = 18,
  ntp_source_name = 19,
  auth_data = 20,
  client_accesses_by_index3 = 21,
  server_stats2 = 22,
  select_data = 23,
  server_stats3 = 24,
  server_stats4 = 25,
  ntp_data2 = 26,
};

/// chrony's name of a reply code in snake_case ("server_stats3"), or "unknown".
NTPKIT_API std::string_view reply_code_name(reply_code r) noexcept;

/// Status codes (STT_*): how chronyd handled the request. Not every value is an error:
/// access_allowed and access_denied answer the accheck commands.
enum class status : std::uint16_t {
  success = 0,
  failed = 1,
  unauthorised = 2,  ///< the command needs the Unix socket (or, in old releases, a key)
  invalid = 3,       ///< unknown or unsupported command
  no_such_source = 4,
  invalid_timestamp = 5,  ///< STT_INVALIDTS
  not_enabled = 6,        ///< the facility (smoothing, manual, ...) is not enabled
  bad_subnet = 7,
  access_allowed = 8,
  access_denied = 9,
  no_host_access = 10,  ///< deprecated
  source_already_known = 11,
  too_many_sources = 12,
  no_rtc = 13,  ///< the RTC driver is not running
  bad_rtc_file = 14,
  inactive = 15,  ///< client logging is not active
  bad_sample = 16,
  invalid_address_family = 17,
  bad_packet_version = 18,  ///< chronyd speaks another protocol version
  bad_packet_length = 19,   ///< the request is shorter than the command needs
  invalid_name = 21,
};

/// The status in words: "success", "failed", "unauthorised", "invalid", "no such source",
/// "invalid timestamp", "not enabled", "bad subnet", "access allowed", "access denied",
/// "no host access", "source already known", "too many sources", "no rtc", "bad rtc file",
/// "inactive", "bad sample", "invalid address family", "bad packet version",
/// "bad packet length", "invalid name"; "unknown status" for others.
NTPKIT_API std::string_view status_name(status s) noexcept;

/// true for success, access_allowed and access_denied: the statuses chronyc does not treat as
/// a failure.
constexpr bool is_success(status s) noexcept {
  return s == status::success || s == status::access_allowed || s == status::access_denied;
}

/// A request the encoder knows: the read-only (monitoring) commands. Each command uses only
/// the fields its comment names; the others are ignored.
struct request {
  command code = command::null;
  /// source_data, sourcestats, select_data: the source's index (0 .. n_sources - 1).
  std::uint32_t index = 0;
  /// ntp_data, ntp_source_name, auth_data: the source's address (or unresolved id).
  ip_addr address{};
  /// client_accesses_by_index3/2: the first index of chronyd's client table to report.
  std::uint32_t first_index = 0;
  /// client_accesses_by_index3/2: how many records at most (chronyd sends up to 8).
  std::uint32_t n_clients = max_client_accesses;
  /// client_accesses_by_index3: only clients with at least this many hits.
  std::uint32_t min_hits = 0;
  /// client_accesses_by_index3: non-zero resets the reported clients' counters (a change to
  /// chronyd's state: only when asked for).
  std::uint32_t reset = 0;
  friend bool operator==(const request&, const request&) = default;
};

/// The header fields a client chooses.
struct request_header {
  std::uint8_t version = protocol_version;
  std::uint16_t attempt = 0;   ///< resends so far of this request (chronyc counts from 0)
  std::uint32_t sequence = 0;  ///< echoed in the reply; chronyc draws it at random
  friend bool operator==(const request_header&, const request_header&) = default;
};

/// Whether encode_request() knows this command: null, n_sources, source_data, tracking,
/// sourcestats, rtcreport, manual_list, activity, smoothing, server_stats, ntp_data,
/// ntp_source_name, auth_data, client_accesses_by_index2/3, select_data.
NTPKIT_API bool is_supported(command c) noexcept;

/// Bytes of a `version` request for `c`, padding included; 0 for a command encode_request()
/// does not know. Version 6 pads to the longest reply any chronyd 3.x..4.8 sends to that
/// command, which is what chronyc 4.8 sends: for SERVER_STATS (196) and NTP_DATA (172) more
/// than chronyc 4.3 (72, 152), since SERVER_STATS4 and NTP_DATA2 are longer; chronyd 4.3
/// accepts the longer requests (it refuses only requests over its CMD_Request size). Version
/// 5 has no padding.
NTPKIT_API std::size_t request_length(command c, std::uint8_t version) noexcept;

/// The request's bytes: header, data and zero padding to request_length().
/// errc::cmdmon_unsupported_command for a command we do not encode,
/// errc::cmdmon_bad_version for a version other than 5 or 6.
NTPKIT_API result<std::vector<std::uint8_t>> encode_request(const request& r,
                                                            const request_header& h);

/// A request as decode_request() read it.
struct decoded_request {
  request_header header;
  request body;
  std::size_t length = 0;  ///< bytes received, padding included
};

/// Reads a request (for tests and fake servers, as chronyd's read_from_cmd_socket checks it):
/// errc::truncated below the header or the command's data, errc::cmdmon_not_request for
/// another pkt_type or non-zero res1/res2, errc::cmdmon_bad_version for a version other than 5
/// or 6, errc::cmdmon_unsupported_command, errc::cmdmon_bad_length when shorter than every
/// chronyd 3.x..4.8 accepts (padded to the shortest reply the command may get; chronyd answers
/// shorter requests with bad_packet_length).
NTPKIT_API result<decoded_request> decode_request(std::span<const std::uint8_t> bytes);

/// Reply header (28 bytes), then the reply's data:
///
///   0                   1                   2                   3
///   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///  +---------------+---------------+---------------+---------------+
///  |    version    |  pkt_type (2) |   res1 (0)    |   res2 (0)    |
///  +---------------+---------------+---------------+---------------+
///  |    command (echo of ours)     |   reply (RPY_*, the layout)   |
///  +-------------------------------+-------------------------------+
///  |         status (STT_*)        |             pad1              |
///  +-------------------------------+-------------------------------+
///  |             pad2              |             pad3              |
///  +-------------------------------+-------------------------------+
///  |                     sequence (echo of ours)                   |
///  +---------------------------------------------------------------+
///  |                             pad4                              |
///  +---------------------------------------------------------------+
///  |                             pad5                              |
///  +---------------------------------------------------------------+
///  |                     data (per reply code) ...                 |
struct reply_header {
  std::uint8_t version = protocol_version;
  std::uint8_t pkt_type = pkt_type_reply;
  std::uint8_t res1 = 0;
  std::uint8_t res2 = 0;
  command cmd = command::null;
  reply_code reply = reply_code::null;
  cmdmon::status status = status::success;
  std::uint16_t pad1 = 0;
  std::uint16_t pad2 = 0;
  std::uint16_t pad3 = 0;
  std::uint32_t sequence = 0;
  std::uint32_t pad4 = 0;
  std::uint32_t pad5 = 0;
  friend bool operator==(const reply_header&, const reply_header&) = default;
};

/// Reads the 28-byte header. errc::truncated below 28 bytes; errc::cmdmon_not_reply when
/// pkt_type is not 2 or res1/res2 are not zero (chronyc ignores such datagrams). Any version
/// is returned; matching it is the caller's job (cmdmon_query).
NTPKIT_API result<reply_header> decode_reply_header(std::span<const std::uint8_t> bytes);

/// Writes `h` as the first 28 bytes of `out` (which must hold them).
NTPKIT_API void encode_reply_header(const reply_header& h, std::span<std::uint8_t> out) noexcept;

/// Total bytes (header included) of a reply with this code, as chronyd sends it; 0 for a code
/// the decoder does not know (an obsolete or unknown layout).
NTPKIT_API std::size_t reply_length(reply_code r) noexcept;

/// The reply codes that answer `c` (chronyd 3.x..4.8): server_stats is answered by
/// server_stats..server_stats4, ntp_data by ntp_data and ntp_data2, any command by null when
/// the status is not success. Empty for a command encode_request() does not know.
NTPKIT_API std::span<const reply_code> replies_to(command c) noexcept;

}  // namespace ntpkit::proto::cmdmon
