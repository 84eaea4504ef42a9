#pragma once

// ntpprobe's payload: the samples of an NTP exchange with one address and what they mean,
// concluded once (selected sample, jitter, root distance, the server's clock, authentication)
// so that every writer reads the same values (facebook/time's NTPCheckResult, chrony's RPT_*).

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/model/nts.hpp"
#include "ntpkit/model/run.hpp"
#include "ntpkit/proto/keys.hpp"
#include "ntpkit/proto/ntp_query.hpp"
#include "ntpkit/proto/refid.hpp"

namespace ntpkit::model {

/// One answered request (or one broadcast heard), with what the run learnt of its refid.
struct sample : proto::ntp_sample {
  /// At stratum 2 to 15: the IPv6 address whose hash the refid is, when one of the addresses
  /// the run knows matches (match_ipv6_refids); empty otherwise.
  std::string refid_ipv6;
};

/// The key an address was queried with (never the secret).
struct key_use {
  std::uint32_t key_id = 0;
  proto::mac_algorithm algorithm = proto::mac_algorithm::md5;
  std::size_t digest_bytes = 0;  ///< digest length we sent
  std::uint8_t version = 4;      ///< NTP version the signed requests carried
  std::optional<proto::key_file_format> file_format;  ///< the key file's format, when known
  bool format_guessed = false;   ///< no line of the file decided its format
  friend bool operator==(const key_use&, const key_use&) = default;
};

/// How authentication went for an address queried with a key.
enum class auth_status : std::uint8_t {
  not_used,       ///< no key was used
  authenticated,  ///< a reply's MAC verified
  bad_mac,        ///< replies came with a MAC that does not verify (or of impossible length)
  no_mac,         ///< replies came without a MAC
  unknown_key,    ///< replies named another key id
  crypto_nak,     ///< the server sent a crypto-NAK
  no_reply,       ///< nothing came back
  // NTS
  bad_authenticator,   ///< NTS: replies came whose authenticator does not verify
  no_authenticator,    ///< NTS: replies came without an authenticator
  unique_id_mismatch,  ///< NTS: replies came with another unique identifier
  nts_nak,             ///< NTS: the server sent an NTS NAK
};

/// "authenticated", "bad_mac", "no_mac", "unknown_key", "crypto_nak", "no_reply",
/// "bad_authenticator", "no_authenticator", "unique_id_mismatch", "nts_nak"; empty for
/// not_used.
NTPKIT_API std::string_view auth_status_name(auth_status s) noexcept;

/// The exchange with one address: every sample and what was concluded from them.
struct ntp_exchange {
  std::vector<sample> samples;          ///< every accepted reply, in order
  std::optional<std::size_t> selected;  ///< the min-delay sample among the good ones
  proto::duration jitter;               ///< RMS offset spread of the good samples
  proto::duration root_distance;        ///< of the selected sample, with the jitter
  std::optional<std::size_t> shown;     ///< the sample whose header stands for the server:
                                        ///< the selected one, else the last
  std::optional<key_use> key;           ///< set when requests were signed
  /// Set when NTS was used (net's query_nts): the key exchange and the cookies.
  std::optional<nts_info> nts;
  /// With a key or NTS: how authentication went (authenticated when a sample was selected;
  /// every NTS sample taken is authenticated, an NTS NAK aside).
  auth_status auth = auth_status::not_used;
  bool broadcast = false;  ///< heard in broadcast listening, not queried

  /// True when a sample was selected.
  bool usable() const noexcept { return selected.has_value(); }
  /// The selected sample; requires selected.
  const sample& best() const { return samples.at(*selected); }
  /// The sample `shown` names, or nullptr.
  const sample* shown_sample() const noexcept { return shown ? &samples[*shown] : nullptr; }
  /// The server's clock at T4 of the selected sample (T4 + offset, in T4's era); requires
  /// selected.
  proto::date server_clock() const;
};

using ntp_address = address_result<ntp_exchange>;
using ntp_target = target_result<ntp_exchange>;
using ntp_run = run_result<ntp_exchange>;

/// The reference id of a sample's reply decoded: proto::decode_refid, except that a refid
/// found to be the hash of a known IPv6 address is kind ipv6_hash with that address as text.
NTPKIT_API proto::refid_info describe_refid(const sample& s);

/// Fills an address from the outcome of its query (samples, requests, ignored datagrams), then
/// concludes it with the error its end stands for (end_error(outcome, timeout)).
NTPKIT_API void take_outcome(ntp_address& a, proto::ntp_query_outcome&& outcome,
                             std::chrono::milliseconds timeout);

/// Decides `selected`, `jitter`, `root_distance`, `shown`, `auth` and `error` from the samples,
/// the ignored datagrams and `ended` (how the exchange ended: a timeout, unreachable or
/// network error, a kiss another query of the run drew, or none). A kiss makes the address fail
/// even after good samples. With NTS: an NTS NAK is error nts/nts_nak, answers refused only for
/// their NTS protection are nts_bad_authenticator, nts_unique_id_mismatch or
/// nts_unauthenticated, running out of cookies is nts_no_cookies_left, and
/// nts->failed_step is set to ntp when the NTP part failed.
NTPKIT_API void conclude(ntp_address& a, error_info ended);

/// The error a query outcome's end stands for (none when it ran to its end).
NTPKIT_API error_info end_error(const proto::ntp_query_outcome& o,
                                std::chrono::milliseconds timeout);

/// The error a socket error stands for: ICMP port, host or network unreachable, else a
/// network error while sending (`sending`) or receiving.
NTPKIT_API error_info transport_error(std::error_code ec, bool sending);

/// Refids of known IPv6 addresses (RFC 5905 §7.3 hashes), to recognise them in replies.
using ipv6_refid_table = std::map<std::array<std::uint8_t, 4>, std::string>;

/// Adds `address` to `table` when it is a textual IPv6 address; returns whether it was one.
NTPKIT_API bool add_ipv6_refid(ipv6_refid_table& table, const std::string& address);

/// Marks every sample of `t` whose refid (stratum 2 to 15) is the hash of an address in
/// `table`. Without such a candidate a hashed refid cannot be told apart from an IPv4 address
/// that happens to look the same.
NTPKIT_API void match_ipv6_refids(ntp_target& t, const ipv6_refid_table& table);

}  // namespace ntpkit::model
