#pragma once

// The one result model: net fills it, every formatter (text, JSON, plugin, Prometheus) reads
// it, every app builds on it (facebook/time's NTPCheckResult, chrony's RPT_* structs). Plain
// data over std and proto types only, so it can be made without a socket (tests, pcap).

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/proto/exchange.hpp"
#include "ntpkit/proto/packet.hpp"
#include "ntpkit/proto/refid.hpp"
#include "ntpkit/proto/timestamp.hpp"

namespace ntpkit::report {

/// Why a target or address failed; the JSON `error.kind` values.
enum class error_kind {
  none,
  resolve,         ///< the name did not resolve (or has no address of the asked family)
  timeout,         ///< no acceptable reply within the timeout
  unreachable,     ///< ICMP said port, host or network unreachable
  network,         ///< the local socket failed (send error, no route, ...)
  kiss,            ///< Kiss-o'-Death (see kiss_code)
  unsynchronised,  ///< LI 3 or stratum >= 16
  sanity,          ///< a sanity check failed
  auth,            ///< authentication failed (bad or missing MAC)
  usage,           ///< bad options or configuration
};

/// The snake_case name of a kind ("timeout", "kiss", ...).
NTPKIT_API std::string_view error_kind_name(error_kind k) noexcept;

/// An error: its kind and one line saying what happened.
struct error_info {
  error_kind kind = error_kind::none;
  std::string message;
  std::string kiss_code;  ///< set for error_kind::kiss
  explicit operator bool() const noexcept { return kind != error_kind::none; }
};

/// Where a local timestamp came from.
enum class time_source {
  user,    ///< read from the system clock in user space around the system call
  kernel,  ///< the kernel's software timestamp of the datagram (SO_TIMESTAMPING)
};

/// "user" or "kernel".
NTPKIT_API std::string_view time_source_name(time_source s) noexcept;

/// One answered request.
struct sample {
  proto::packet reply;
  proto::exchange_times times;  ///< T1..T4 as wire timestamps
  proto::date t1_date;          ///< T1 and T4 with their era, from the local clock
  proto::date t4_date;
  time_source t1_source = time_source::user;
  time_source t4_source = time_source::user;
  proto::measurement measured;
  proto::assessment assessed;
  std::uint32_t attempt = 0;  ///< which request of its round this answers (0 = first)
  bool broadcast = false;     ///< a mode 5 packet heard, not an answer: T1 and T2 are unset
  /// RFC 9769 interleaved: the exchange of the previous request, completed by this answer's
  /// transmit timestamp (the server's exact send time of its previous answer). `reply` then
  /// holds this answer's header with receive = the previous T2 and transmit = that exact T3.
  bool interleaved = false;
  /// At stratum 2 to 15: the IPv6 address whose hash the refid is, when one of the addresses
  /// the run knows matches (match_ipv6_refids); empty otherwise.
  std::string refid_ipv6;
};

/// A datagram that arrived but was not taken as an answer, and why (a check name, or a
/// parse error such as "truncated").
struct ignored_count {
  std::string reason;
  std::uint32_t count = 0;
};

/// The key an address was queried with (never the secret).
struct key_use {
  std::uint32_t key_id = 0;
  std::string algorithm;         ///< "MD5", "SHA256", "AES128-CMAC", ...
  std::size_t digest_bytes = 0;  ///< digest length we sent
  std::uint8_t version = 4;      ///< NTP version the signed requests carried
};

/// Everything about one server address.
struct address_report {
  std::string address;  ///< numeric, without brackets
  std::uint16_t port = 0;
  bool ipv6 = false;
  std::uint32_t requests = 0;              ///< requests sent
  std::vector<sample> samples;             ///< every accepted reply, in order
  std::optional<std::size_t> selected;     ///< the min-delay sample among the good ones
  proto::duration jitter;                  ///< RMS offset spread of the good samples
  std::vector<ignored_count> ignored;      ///< datagrams not taken, by reason
  std::optional<key_use> key;              ///< set when requests were signed
  error_info error;
  /// True when this address gave a usable answer and no error.
  bool ok() const noexcept { return !error && selected.has_value(); }
  /// The selected sample; requires selected.
  const sample& best() const { return samples.at(*selected); }
  /// Adds one to the count of `reason`.
  NTPKIT_API void ignore(std::string_view reason);
};

/// One target as the user named it, and each of its addresses.
struct target_report {
  std::string spec;  ///< as given on the command line
  std::string host;
  std::uint16_t port = 0;
  error_info error;  ///< resolve errors; address errors stay with the address
  std::vector<address_report> addresses;
  /// True when the name resolved and every address is ok.
  NTPKIT_API bool ok() const noexcept;
};

/// A whole run.
struct probe_report {
  proto::date started;
  std::vector<target_report> targets;
  /// True when every target is ok.
  NTPKIT_API bool ok() const noexcept;
};

/// The reference id of a sample's reply decoded: proto::decode_refid, except that a refid
/// found to be the hash of a known IPv6 address is kind ipv6_hash with that address as text.
NTPKIT_API proto::refid_info describe_refid(const sample& s);

/// Refids of known IPv6 addresses (RFC 5905 §7.3 hashes), to recognise them in replies.
using ipv6_refid_table = std::map<std::array<std::uint8_t, 4>, std::string>;

/// Adds `address` to `table` when it is a textual IPv6 address; returns whether it was one.
NTPKIT_API bool add_ipv6_refid(ipv6_refid_table& table, const std::string& address);

/// Marks every sample of `t` whose refid (stratum 2 to 15) is the hash of an address in
/// `table`. Without such a candidate a hashed refid cannot be told apart from an IPv4 address
/// that happens to look the same.
NTPKIT_API void match_ipv6_refids(target_report& t, const ipv6_refid_table& table);

/// How authentication went for an address queried with a key: "authenticated" (a reply's
/// MAC verified), "bad_mac" (replies came with a wrong MAC), "no_mac" (replies came without
/// one), "unknown_key" (replies named another key id), "crypto_nak" (the server sent a
/// crypto-NAK), or "no_reply"; empty when no key was used. The first that applies, in that
/// order.
NTPKIT_API std::string_view auth_status(const address_report& a) noexcept;

/// Fills `selected`, `jitter` and `error` of an address from its samples and the way its
/// exchange ended (`transport` holds a timeout or unreachable error, the kiss another query of
/// the run drew from the same address, or none). A kiss makes the address fail even after
/// good samples.
NTPKIT_API void conclude(address_report& a, error_info transport);

}  // namespace ntpkit::report
