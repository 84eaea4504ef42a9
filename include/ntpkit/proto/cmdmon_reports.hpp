#pragma once

// The data of chrony's cmdmon replies (candm.h's RPY_* structures), as plain structs that keep
// every field as sent (reserved and padding fields too), so that a decoded reply re-encodes
// to the same bytes. Floats stay cmdmon::float32 (exact); report converts. Each layout is
// drawn above its struct as "offset: field (type)", offsets from the start of the data, which
// follows the 28-byte reply header. Types: u8/u16/u32 unsigned, i8/i16/i32 signed, F float32,
// TS timespec (12), IP ip_addr (20), I64 integer64 (8).
//
// Versions: SERVER_STATS (chrony 2.x-3.x), SERVER_STATS2 (4.0-4.1), SERVER_STATS3 (4.2-4.3),
// SERVER_STATS4 (4.4-); NTP_DATA (-4.5), NTP_DATA2 (4.6-); CLIENT_ACCESSES_BY_INDEX2 (2.2-3.x),
// CLIENT_ACCESSES_BY_INDEX3 (4.0-). A struct that covers several versions has a reply_version
// and std::optional fields for what older versions do not send.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/proto/cmdmon.hpp"
#include "ntpkit/result.hpp"

namespace ntpkit::proto::cmdmon {

/// RPY_NULL: no data (the reply to a status error, or to null).
struct null_reply {
  friend bool operator==(const null_reply&, const null_reply&) = default;
};

/// RPY_N_SOURCES.   0: n_sources (u32)
struct n_sources_reply {
  std::uint32_t n_sources = 0;
  friend bool operator==(const n_sources_reply&, const n_sources_reply&) = default;
};

/// source_data's state (RPY_SD_ST_*), and the symbol chronyc shows in `sources`.
enum class source_state : std::uint16_t {
  selected = 0,       ///< '*' current best
  nonselectable = 1,  ///< '?' unusable
  falseticker = 2,    ///< 'x' may be in error
  jittery = 3,        ///< '~' too variable
  unselected = 4,     ///< '+' combined
  selectable = 5,     ///< '-' not combined
};

/// source_data's mode (RPY_SD_MD_*).
enum class source_mode : std::uint16_t {
  client = 0,           ///< '^' a server
  peer = 1,             ///< '=' a symmetric peer
  reference_clock = 2,  ///< '#' a local reference clock
};

/// chronyc's symbol for a state ('*', '?', 'x', '~', '+', '-'), ' ' for others.
NTPKIT_API char state_symbol(source_state s) noexcept;
/// chronyc's symbol for a mode ('^', '=', '#'), ' ' for others.
NTPKIT_API char mode_symbol(source_mode m) noexcept;

/// RPY_SOURCE_DATA (48 bytes): one line of `chronyc sources`.
///   0: ip_addr (IP)  20: poll (i16)  22: stratum (u16)  24: state (u16)  26: mode (u16)
///  28: flags (u16)  30: reachability (u16)  32: since_sample (u32, s; 0xffffffff = never)
///  36: orig_latest_meas (F, s)  40: latest_meas (F, s)  44: latest_meas_err (F, s)
/// A reference clock's ip_addr is IPv4 holding its refid; an unresolved source's is family 3.
struct source_data {
  cmdmon::ip_addr ip_addr{};
  std::int16_t poll = 0;  ///< log2 seconds
  std::uint16_t stratum = 0;
  source_state state = source_state::selected;
  source_mode mode = source_mode::client;
  std::uint16_t flags = 0;         ///< chrony < 4.0: selection options; 0 since
  std::uint16_t reachability = 0;  ///< the 8-bit reach register (chronyc prints it in octal)
  std::uint32_t since_sample = 0;
  float32 orig_latest_meas;  ///< the last sample's offset as measured ("[...]")
  float32 latest_meas;       ///< ... adjusted for later clock corrections
  float32 latest_meas_err;   ///< its error bound ("+/-")
  friend bool operator==(const source_data&, const source_data&) = default;
};

/// RPY_TRACKING (76 bytes): `chronyc tracking`.
///   0: ref_id (u32)  4: ip_addr (IP)  24: stratum (u16)  26: leap_status (u16)
///  28: ref_time (TS)  40: current_correction (F, s)  44: last_offset (F, s)
///  48: rms_offset (F, s)  52: freq_ppm (F)  56: resid_freq_ppm (F)  60: skew_ppm (F)
///  64: root_delay (F, s)  68: root_dispersion (F, s)  72: last_update_interval (F, s)
struct tracking {
  std::uint32_t ref_id = 0;
  cmdmon::ip_addr ip_addr{};  ///< unspec when the reference is a refclock or local
  std::uint16_t stratum = 0;
  std::uint16_t leap_status = 0;  ///< 0 normal, 1 insert second, 2 delete second, 3 unsynchronised
  timespec ref_time{};
  float32 current_correction;  ///< "System time": positive = local clock is slow
  float32 last_offset;
  float32 rms_offset;
  float32 freq_ppm;  ///< positive = local clock runs slow
  float32 resid_freq_ppm;
  float32 skew_ppm;
  float32 root_delay;
  float32 root_dispersion;
  float32 last_update_interval;
  friend bool operator==(const tracking&, const tracking&) = default;
};

/// RPY_SOURCESTATS (56 bytes): one line of `chronyc sourcestats`.
///   0: ref_id (u32)  4: ip_addr (IP)  24: n_samples (u32)  28: n_runs (u32)
///  32: span_seconds (u32)  36: sd (F, s)  40: resid_freq_ppm (F)  44: skew_ppm (F)
///  48: est_offset (F, s)  52: est_offset_err (F, s)
struct sourcestats {
  std::uint32_t ref_id = 0;
  cmdmon::ip_addr ip_addr{};
  std::uint32_t n_samples = 0;
  std::uint32_t n_runs = 0;
  std::uint32_t span_seconds = 0;
  float32 sd;              ///< "Std Dev"
  float32 resid_freq_ppm;  ///< "Frequency"
  float32 skew_ppm;        ///< "Freq Skew"
  float32 est_offset;      ///< "Offset"
  float32 est_offset_err;
  friend bool operator==(const sourcestats&, const sourcestats&) = default;
};

/// RPY_RTC (28 bytes): `chronyc rtcdata`.
///   0: ref_time (TS)  12: n_samples (u16)  14: n_runs (u16)  16: span_seconds (u32)
///  20: rtc_seconds_fast (F, s)  24: rtc_gain_rate_ppm (F)
struct rtc_report {
  timespec ref_time{};
  std::uint16_t n_samples = 0;
  std::uint16_t n_runs = 0;
  std::uint32_t span_seconds = 0;
  float32 rtc_seconds_fast;
  float32 rtc_gain_rate_ppm;
  friend bool operator==(const rtc_report&, const rtc_report&) = default;
};

/// RPY_MANUAL_TIMESTAMP2 (12 bytes), the reply to settime.
///   0: offset (F, s)  4: dfreq_ppm (F)  8: new_afreq_ppm (F)
struct manual_timestamp {
  float32 offset;
  float32 dfreq_ppm;
  float32 new_afreq_ppm;
  friend bool operator==(const manual_timestamp&, const manual_timestamp&) = default;
};

/// One client in CLIENT_ACCESSES_BY_INDEX2 (48 bytes) or ..3 (60 bytes); the nke_ fields
/// (NTS-KE) exist only in version 3, the pad byte only in version 2.
///   v3:  0: ip (IP)  20: ntp_hits  24: nke_hits  28: cmd_hits  32: ntp_drops  36: nke_drops
///       40: cmd_drops (u32 each)  44: ntp_interval  45: nke_interval  46: cmd_interval
///       47: ntp_timeout_interval (i8 each, log2 s; 127 = none)  48: last_ntp_hit_ago
///       52: last_nke_hit_ago  56: last_cmd_hit_ago (u32 each, s; 0xffffffff = never)
///   v2:  0: ip  20: ntp_hits  24: cmd_hits  28: ntp_drops  32: cmd_drops  36: ntp_interval
///       37: cmd_interval  38: ntp_timeout_interval  39: pad  40: last_ntp_hit_ago
///       44: last_cmd_hit_ago
struct client_access {
  ip_addr ip{};
  std::uint32_t ntp_hits = 0;
  std::optional<std::uint32_t> nke_hits;
  std::uint32_t cmd_hits = 0;
  std::uint32_t ntp_drops = 0;
  std::optional<std::uint32_t> nke_drops;
  std::uint32_t cmd_drops = 0;
  std::int8_t ntp_interval = 0;
  std::optional<std::int8_t> nke_interval;
  std::int8_t cmd_interval = 0;
  std::int8_t ntp_timeout_interval = 0;
  std::uint8_t pad = 0;  ///< version 2 only
  std::uint32_t last_ntp_hit_ago = 0;
  std::optional<std::uint32_t> last_nke_hit_ago;
  std::uint32_t last_cmd_hit_ago = 0;
  friend bool operator==(const client_access&, const client_access&) = default;
};

/// RPY_CLIENT_ACCESSES_BY_INDEX3 (492 bytes) or ..2 (396 bytes): one page of chronyd's client
/// log. The wire always carries 8 records; the first min(n_clients, 8) are valid.
///   0: n_indices (u32, slots in chronyd's table)  4: next_index (u32, the slot after those
///   processed)  8: n_clients (u32)  12: 8 × client_access
struct client_accesses {
  std::uint8_t reply_version = 3;  ///< 2 or 3
  std::uint32_t n_indices = 0;
  std::uint32_t next_index = 0;
  std::uint32_t n_clients = 0;
  std::array<client_access, max_client_accesses> clients{};
  /// The valid records.
  std::span<const client_access> valid() const noexcept {
    return {clients.data(), n_clients < max_client_accesses ? n_clients : max_client_accesses};
  }
  friend bool operator==(const client_accesses&, const client_accesses&) = default;
};

/// RPY_SERVER_STATS..4: `chronyc serverstats`. Versions 1-3 send u32 counters, version 4
/// sends I64 counters and 4 reserved I64.
///   v1 (20 bytes): ntp_hits cmd_hits ntp_drops cmd_drops log_drops
///   v2 (32): ntp_hits nke_hits cmd_hits ntp_drops nke_drops cmd_drops log_drops ntp_auth_hits
///   v3 (44): v2, then ntp_interleaved_hits ntp_timestamps ntp_span_seconds
///   v4 (168): v3, then ntp_daemon_rx_timestamps ntp_daemon_tx_timestamps
///       ntp_kernel_rx_timestamps ntp_kernel_tx_timestamps ntp_hw_rx_timestamps
///       ntp_hw_tx_timestamps, reserved[4]
struct server_stats {
  std::uint8_t reply_version = 4;         ///< 1..4
  std::uint64_t ntp_hits = 0;             ///< "NTP packets received"
  std::optional<std::uint64_t> nke_hits;  ///< "NTS-KE connections accepted" (v2+)
  std::uint64_t cmd_hits = 0;
  std::uint64_t ntp_drops = 0;
  std::optional<std::uint64_t> nke_drops;  ///< v2+
  std::uint64_t cmd_drops = 0;
  std::uint64_t log_drops = 0;                            ///< "Client log records dropped"
  std::optional<std::uint64_t> ntp_auth_hits;             ///< v2+
  std::optional<std::uint64_t> ntp_interleaved_hits;      ///< v3+
  std::optional<std::uint64_t> ntp_timestamps;            ///< v3+: "NTP timestamps held"
  std::optional<std::uint64_t> ntp_span_seconds;          ///< v3+
  std::optional<std::uint64_t> ntp_daemon_rx_timestamps;  ///< v4
  std::optional<std::uint64_t> ntp_daemon_tx_timestamps;  ///< v4
  std::optional<std::uint64_t> ntp_kernel_rx_timestamps;  ///< v4
  std::optional<std::uint64_t> ntp_kernel_tx_timestamps;  ///< v4
  std::optional<std::uint64_t> ntp_hw_rx_timestamps;      ///< v4
  std::optional<std::uint64_t> ntp_hw_tx_timestamps;      ///< v4
  std::array<integer64, 4> reserved{};                    ///< v4
  friend bool operator==(const server_stats&, const server_stats&) = default;
};

/// RPY_MANUAL_LIST2 (388 bytes): `chronyc manual list`.
///   0: n_samples (u32)  4: 16 × { when (TS), slewed_offset (F), orig_offset (F), residual (F) }
struct manual_list {
  struct sample {
    timespec when{};
    float32 slewed_offset;
    float32 orig_offset;
    float32 residual;
    friend bool operator==(const sample&, const sample&) = default;
  };
  std::uint32_t n_samples = 0;
  std::array<sample, 16> samples{};
  friend bool operator==(const manual_list&, const manual_list&) = default;
};

/// RPY_ACTIVITY (20 bytes): `chronyc activity`.
///   0: online  4: offline  8: burst_online  12: burst_offline  16: unresolved (i32 each)
struct activity {
  std::int32_t online = 0;
  std::int32_t offline = 0;
  std::int32_t burst_online = 0;
  std::int32_t burst_offline = 0;
  std::int32_t unresolved = 0;  ///< "sources with unknown address"
  friend bool operator==(const activity&, const activity&) = default;
};

/// RPY_SMOOTHING (24 bytes): `chronyc smoothing`.
///   0: flags (u32: 1 active, 2 leap only)  4: offset (F, s)  8: freq_ppm (F)
///  12: wander_ppm (F)  16: last_update_ago (F, s)  20: remaining_time (F, s)
struct smoothing {
  std::uint32_t flags = 0;
  float32 offset;
  float32 freq_ppm;
  float32 wander_ppm;
  float32 last_update_ago;
  float32 remaining_time;
  friend bool operator==(const smoothing&, const smoothing&) = default;
};

/// ntp_data flags (RPY_NTP_FLAGS_TESTS, RPY_NTP_FLAG_*).
inline constexpr std::uint16_t ntp_flag_tests = 0x3ff;  ///< chronyd's tests 1..10 passed, bit each
inline constexpr std::uint16_t ntp_flag_interleaved = 0x4000;
inline constexpr std::uint16_t ntp_flag_authenticated = 0x8000;

/// RPY_NTP_DATA (124 bytes) or NTP_DATA2 (144 bytes): `chronyc ntpdata`, the last NTP packet
/// from a source.
///   0: remote_addr (IP)  20: local_addr (IP)  40: remote_port (u16)  42: leap (u8)
///  43: version (u8)  44: mode (u8)  45: stratum (u8)  46: poll (i8)  47: precision (i8)
///  48: root_delay (F, s)  52: root_dispersion (F, s)  56: ref_id (u32)  60: ref_time (TS)
///  72: offset (F, s)  76: peer_delay (F, s)  80: peer_dispersion (F, s)
///  84: response_time (F, s)  88: jitter_asymmetry (F)  92: flags (u16)  94: tx_tss_char (u8)
///  95: rx_tss_char (u8)  96: total_tx_count  100: total_rx_count  104: total_valid_count
/// 108: total_good_count (u32 each; chrony 3.x: reserved)
///   v1: 112: reserved[3] (u32)
///   v2: 112: total_kernel_tx_ts 116: total_kernel_rx_ts 120: total_hw_tx_ts
///       124: total_hw_rx_ts (u32 each)  128: reserved[4] (u32)
struct ntp_data {
  std::uint8_t reply_version = 2;  ///< 1 or 2
  ip_addr remote_addr{};
  ip_addr local_addr{};
  std::uint16_t remote_port = 0;
  std::uint8_t leap = 0;
  std::uint8_t version = 0;  ///< NTP version of the packet
  std::uint8_t mode = 0;     ///< NTP mode (4 server, 1 symmetric active, 2 passive)
  std::uint8_t stratum = 0;
  std::int8_t poll = 0;       ///< log2 s
  std::int8_t precision = 0;  ///< log2 s
  float32 root_delay;
  float32 root_dispersion;
  std::uint32_t ref_id = 0;
  timespec ref_time{};
  float32 offset;
  float32 peer_delay;
  float32 peer_dispersion;
  float32 response_time;
  float32 jitter_asymmetry;
  std::uint16_t flags = 0;
  std::uint8_t tx_tss_char = 0;  ///< 'D' daemon, 'K' kernel, 'H' hardware timestamp
  std::uint8_t rx_tss_char = 0;
  std::uint32_t total_tx_count = 0;
  std::uint32_t total_rx_count = 0;
  std::uint32_t total_valid_count = 0;
  std::uint32_t total_good_count = 0;
  std::optional<std::uint32_t> total_kernel_tx_ts;  ///< v2
  std::optional<std::uint32_t> total_kernel_rx_ts;  ///< v2
  std::optional<std::uint32_t> total_hw_tx_ts;      ///< v2
  std::optional<std::uint32_t> total_hw_rx_ts;      ///< v2
  std::array<std::uint32_t, 4> reserved{};          ///< v1 sends the first 3
  friend bool operator==(const ntp_data&, const ntp_data&) = default;
};

/// RPY_NTP_SOURCE_NAME (256 bytes): the name a source was configured with.
///   0: name (256 bytes, NUL-terminated)
struct ntp_source_name {
  std::array<std::uint8_t, 256> name{};
  /// The bytes before the first NUL (all 256 when there is none).
  NTPKIT_API std::string_view text() const noexcept;
  /// chronyc's test: the last byte is NUL, and the bytes before the first NUL are printable
  /// and not spaces (otherwise chronyc shows "?").
  NTPKIT_API bool is_valid() const noexcept;
  friend bool operator==(const ntp_source_name&, const ntp_source_name&) = default;
};

/// auth_data's mode (RPY_AD_MD_*).
enum class auth_mode : std::uint16_t { none = 0, symmetric = 1, nts = 2 };

/// RPY_AUTH_DATA (24 bytes): one line of `chronyc authdata`.
///   0: mode (u16)  2: key_type (u16)  4: key_id (u32)  8: key_length (u16, bits)
///  10: ke_attempts (u16)  12: last_ke_ago (u32, s)  16: cookies (u16)
///  18: cookie_length (u16)  20: nak (u16)  22: pad (u16)
struct auth_data {
  auth_mode mode = auth_mode::none;
  std::uint16_t key_type =
      0;  ///< chrony's hash or cipher id (2 = SHA1; NTS: the AEAD, 15 = AES-SIV-CMAC-256)
  std::uint32_t key_id = 0;
  std::uint16_t key_length = 0;
  std::uint16_t ke_attempts = 0;
  std::uint32_t last_ke_ago = 0;
  std::uint16_t cookies = 0;
  std::uint16_t cookie_length = 0;
  std::uint16_t nak = 0;
  std::uint16_t pad = 0;
  friend bool operator==(const auth_data&, const auth_data&) = default;
};

/// select_data's options (RPY_SD_OPTION_*).
inline constexpr std::uint16_t select_option_noselect = 0x1;
inline constexpr std::uint16_t select_option_prefer = 0x2;
inline constexpr std::uint16_t select_option_trust = 0x4;
inline constexpr std::uint16_t select_option_require = 0x8;

/// RPY_SELECT_DATA (48 bytes): one line of `chronyc selectdata`.
///   0: ref_id (u32)  4: ip_addr (IP)  24: state_char (u8)  25: authentication (u8)
///  26: leap (u8)  27: pad (u8)  28: conf_options (u16)  30: eff_options (u16)
///  32: last_sample_ago (u32, s)  36: score (F)  40: lo_limit (F, s)  44: hi_limit (F, s)
struct select_data {
  std::uint32_t ref_id = 0;
  cmdmon::ip_addr ip_addr{};
  std::uint8_t state_char = 0;  ///< chronyd's selection state letter ('*', '+', 'x', 's', ...)
  std::uint8_t authentication = 0;
  std::uint8_t leap = 0;
  std::uint8_t pad = 0;
  std::uint16_t conf_options = 0;
  std::uint16_t eff_options = 0;
  std::uint32_t last_sample_ago = 0;
  float32 score;
  float32 lo_limit;
  float32 hi_limit;
  friend bool operator==(const select_data&, const select_data&) = default;
};

/// The data of a reply, by its reply code.
using reply_body =
    std::variant<null_reply, n_sources_reply, source_data, tracking, sourcestats, rtc_report,
                 manual_timestamp, client_accesses, server_stats, manual_list, activity, smoothing,
                 ntp_data, ntp_source_name, auth_data, select_data>;

/// The reply code whose layout `b` has (server_stats with reply_version 3 is server_stats3).
/// errc::cmdmon_bad_version for a reply_version the struct does not define.
NTPKIT_API result<reply_code> reply_code_of(const reply_body& b) noexcept;

/// A decoded reply.
struct reply {
  reply_header header;
  reply_body body;
  friend bool operator==(const reply&, const reply&) = default;
};

/// Decodes a reply datagram: the header (see decode_reply_header), then the data its reply
/// code names. Bytes after the data are ignored (chronyd sends none).
/// errc::truncated when shorter than reply_length(code);
/// errc::cmdmon_not_reply (pkt_type, res1/res2);
/// errc::cmdmon_bad_version when a reply other than null has a version other than 5 or 6;
/// errc::cmdmon_unknown_reply for a reply code chrony never defined;
/// errc::cmdmon_unsupported_reply for one that only old protocols used (manual_timestamp,
/// subnets_accessed, client_accesses, client_accesses_by_index, manual_list).
NTPKIT_API result<reply> decode_reply(std::span<const std::uint8_t> bytes);

/// The reply's bytes, reply_length(header.reply) long.
/// errc::cmdmon_unexpected_reply when header.reply is not reply_code_of(body);
/// errc::cmdmon_bad_version for a reply_version the body's struct does not define.
NTPKIT_API result<std::vector<std::uint8_t>> encode_reply(const reply& r);

}  // namespace ntpkit::proto::cmdmon
