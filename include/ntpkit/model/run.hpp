#pragma once

// The envelope every program's results share (DESIGN.md "model"): a run of targets as the user
// named them, each resolved to addresses, each address with its traffic, its error and one
// program's payload (an NTP exchange for ntpprobe; mode 6 state, chrony reports and client
// census as those programs come). Errors are typed values: what went wrong and the facts
// needed to say it; the English words are written by report only.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/proto/exchange.hpp"
#include "ntpkit/proto/session.hpp"
#include "ntpkit/proto/timestamp.hpp"

namespace ntpkit::model {

/// An address family.
enum class family : std::uint8_t { ipv4, ipv6 };

/// "ipv4" or "ipv6", as JSON and Prometheus write it.
NTPKIT_API std::string_view family_name(family f) noexcept;

/// Which address families a run may use (-4, -6, or both).
enum class family_choice : std::uint8_t { any, ipv4, ipv6 };

/// Why a target or address failed: the JSON `error.kind` values.
enum class error_kind : std::uint8_t {
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
  interrupted,     ///< the run was stopped (SIGINT/SIGTERM) before this finished
  tls,             ///< NTS-KE: the TLS handshake or the server certificate failed
  nts,             ///< NTS: the key exchange or the NTS protection of NTP failed
};

/// The snake_case name of a kind ("timeout", "kiss", ...).
NTPKIT_API std::string_view error_kind_name(error_kind k) noexcept;

/// What exactly happened, within a kind: the report layer words each one.
enum class error_cause : std::uint8_t {
  none,
  host_not_found,           ///< resolve: the resolver knows no such name
  no_address_of_family,     ///< resolve: the name has no address of `asked`
  resolver_failed,          ///< resolve: the resolver failed (`code`)
  no_reply,                 ///< timeout: nothing acceptable within `waited` per request
  nothing_heard,            ///< timeout: no broadcast within `waited`
  port_unreachable,         ///< unreachable: ICMP port unreachable
  host_unreachable,         ///< unreachable: ICMP host unreachable
  network_unreachable,      ///< unreachable: ICMP network unreachable
  socket_failed,            ///< network: a socket could not be opened (`code`)
  send_failed,              ///< network: sending failed (`code`)
  receive_failed,           ///< network: receiving failed (`code`)
  listen_failed,            ///< network: the listening port could not be bound (`code`)
  kiss_received,            ///< kiss: the address answered with `kiss_code`
  kissed_earlier,           ///< kiss: it sent `kiss_code` to another query of this run
  leap_alarm,               ///< unsynchronised: leap indicator 3
  stratum_unsynchronised,   ///< unsynchronised: stratum 16 or more (`stratum`)
  checks_failed,            ///< sanity: the reply failed `checks`
  reply_mac_bad,            ///< auth: a reply for us carried a MAC that does not verify
  no_authenticated_reply,   ///< auth: replies came, none passed authentication
  signing_failed,           ///< auth: our request could not be signed (`code`)
  interrupted,              ///< interrupted: stopped by a signal
  bad_target,               ///< usage: the target is not host[:port] (`code`, `origin`)
  // NTS (RFC 8915); nts_info::failed_step names the step.
  nts_ke_unreachable,         ///< nts: the NTS-KE port refused or could not be reached (`code`)
  nts_ke_timeout,             ///< nts: connect, handshake or exchange not done within `waited`
  tls_unavailable,            ///< tls: libssl cannot be loaded (`detail`)
  ca_file_unreadable,         ///< usage: the CA file cannot be loaded (`detail`: its path)
  tls_handshake_failed,       ///< tls: the handshake failed (`code`, the library's `detail`)
  alpn_refused,               ///< tls: the server did not select ALPN ntske/1
  certificate_untrusted,      ///< tls: no trusted chain to the certificate (`detail`)
  certificate_expired,        ///< tls: the certificate's notAfter has passed
  certificate_not_yet_valid,  ///< tls: its notBefore is still to come
  certificate_wrong_name,     ///< tls: it is for another name or address than `detail`
  nts_ke_error_record,        ///< nts: the server sent an Error record (`nts_code`)
  nts_ke_warning_record,      ///< nts: the server sent a Warning record (`nts_code`)
  nts_ke_bad_next_protocol,   ///< nts: no NTPv4 in the server's Next Protocol record
  nts_ke_no_common_aead,      ///< nts: the server has no AEAD algorithm in common with us
  nts_ke_aead_not_offered,    ///< nts: the server chose an AEAD algorithm we did not offer
  nts_ke_no_cookies,          ///< nts: the response held no cookie
  nts_ke_malformed,           ///< nts: the response is no valid NTS-KE message (`code`)
  nts_ke_closed,              ///< nts: the server closed the stream before End of Message
  nts_keys_failed,            ///< nts: the TLS exporter gave no keys (`detail`)
  nts_server_unresolved,      ///< nts: the NTP server handed out does not resolve (`code`)
  nts_nak,                    ///< nts: the NTP server answered with an NTS NAK (kiss NTSN)
  nts_bad_authenticator,      ///< nts: answers came whose authenticator does not verify
  nts_unique_id_mismatch,     ///< nts: answers came with another unique identifier
  nts_unauthenticated,        ///< nts: answers came without an NTS authenticator
  nts_no_cookies_left,        ///< nts: the cookies ran out before the samples did
  nts_seal_failed,            ///< nts: a request could not be sealed (`code`)
};

/// The snake_case name of a cause ("no_reply", "certificate_expired", "nts_nak", ...), for
/// machine-readable output beside error_kind_name().
NTPKIT_API std::string_view error_cause_name(error_cause c) noexcept;

/// An error: its kind, its cause and the facts that say it. Empty (kind none) on success.
struct error_info {
  error_kind kind = error_kind::none;
  error_cause cause = error_cause::none;
  std::error_code code;                      ///< the system, resolver or protocol error, if any
  std::string kiss_code;                     ///< for kiss: the code as sent (RATE, DENY, ...)
  std::uint32_t requests_before = 0;         ///< kissed_earlier: requests this query had sent
  std::chrono::milliseconds waited{};        ///< no_reply: the timeout; nothing_heard: the duration
  family_choice asked = family_choice::any;  ///< no_address_of_family: the family asked for
  std::uint8_t stratum = 0;            ///< stratum_unsynchronised
  proto::check_results checks;         ///< checks_failed
  std::string origin;                  ///< bad_target: where it was given ("servers.txt:12")
  std::uint16_t nts_code = 0;  ///< nts_ke_error_record, nts_ke_warning_record: the code
  /// What a library said that the cause alone does not: the TLS library's reason for a
  /// failed handshake, the certificate verification text, the name checked.
  std::string detail;
  explicit operator bool() const noexcept { return kind != error_kind::none; }
  friend bool operator==(const error_info&, const error_info&) = default;
};

/// An error of `kind` and `cause`, its other facts empty.
inline error_info failure(error_kind kind, error_cause cause) {
  error_info e;
  e.kind = kind;
  e.cause = cause;
  return e;
}

/// One server address: where it is, what went over the wire, how it ended, and the program's
/// payload (its members are the address's own: `a.samples` for NTP).
template <class Payload>
struct address_result : Payload {
  std::string address;  ///< numeric, without brackets
  std::uint16_t port = 0;
  model::family family = model::family::ipv4;
  std::string label;             ///< "192.0.2.1:123" or "[2001:db8::1]:123", set by locate()
  std::uint32_t requests = 0;    ///< requests sent
  proto::ignore_counts ignored;  ///< datagrams not taken, by reason
  error_info error;              ///< set when the address failed (after the payload concluded)
  /// Sets address, port, family and label.
  void locate(std::string numeric, std::uint16_t port_number, model::family f);
  bool ipv6() const noexcept { return family == model::family::ipv6; }
  /// True when the address gave a usable answer and no error.
  bool ok() const noexcept { return !error && Payload::usable(); }
};

/// One target as the user named it, and each of its addresses.
template <class Payload>
struct target_result {
  std::string spec;  ///< as given on the command line or in the file
  std::string host;  ///< name or numeric address, brackets removed
  std::uint16_t port = 0;
  error_info error;  ///< resolve errors; address errors stay with the address
  std::vector<address_result<Payload>> addresses;
  /// Datagrams that belong to no address of the target (broadcast listening: senders of
  /// nothing but strays, left out of `addresses`).
  proto::ignore_counts ignored;
  /// True when the name resolved and every address is ok.
  bool ok() const noexcept {
    if (error || addresses.empty()) return false;
    for (const auto& a : addresses) {
      if (!a.ok()) return false;
    }
    return true;
  }
  /// "127.0.0.1:123" for a numeric target, "127.0.0.1:123 (localhost)" for a name.
  std::string describe(const address_result<Payload>& a) const {
    return host == a.address ? a.label : a.label + " (" + host + ")";
  }
};

/// Counts over a run.
struct run_counts {
  std::size_t targets = 0, targets_ok = 0, addresses = 0, addresses_ok = 0;
};

/// A whole run.
template <class Payload>
struct run_result {
  proto::date started;  ///< when the run began, from the system clock
  std::vector<target_result<Payload>> targets;
  /// True when every target is ok.
  bool ok() const noexcept {
    for (const auto& t : targets) {
      if (!t.ok()) return false;
    }
    return true;
  }
  run_counts counts() const noexcept {
    run_counts c;
    c.targets = targets.size();
    for (const auto& t : targets) {
      c.targets_ok += t.ok() ? 1 : 0;
      c.addresses += t.addresses.size();
      for (const auto& a : t.addresses) c.addresses_ok += a.ok() ? 1 : 0;
    }
    return c;
  }
};

/// "192.0.2.1:123" or "[2001:db8::1]:123".
NTPKIT_API std::string endpoint_label(std::string_view numeric, std::uint16_t port, family f);

template <class Payload>
void address_result<Payload>::locate(std::string numeric, std::uint16_t port_number,
                                     model::family f) {
  label = endpoint_label(numeric, port_number, f);
  address = std::move(numeric);
  port = port_number;
  family = f;
}

}  // namespace ntpkit::model
