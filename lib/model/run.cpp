#include "ntpkit/model/run.hpp"

namespace ntpkit::model {

std::string_view family_name(family f) noexcept { return f == family::ipv6 ? "ipv6" : "ipv4"; }

std::string_view error_kind_name(error_kind k) noexcept {
  switch (k) {
    case error_kind::none:
      return "none";
    case error_kind::resolve:
      return "resolve";
    case error_kind::timeout:
      return "timeout";
    case error_kind::unreachable:
      return "unreachable";
    case error_kind::network:
      return "network";
    case error_kind::kiss:
      return "kiss";
    case error_kind::unsynchronised:
      return "unsynchronised";
    case error_kind::sanity:
      return "sanity";
    case error_kind::auth:
      return "auth";
    case error_kind::usage:
      return "usage";
    case error_kind::interrupted:
      return "interrupted";
    case error_kind::tls:
      return "tls";
    case error_kind::nts:
      return "nts";
  }
  return "unknown";
}

std::string_view error_cause_name(error_cause c) noexcept {
  switch (c) {
    case error_cause::none: return "none";
    case error_cause::host_not_found: return "host_not_found";
    case error_cause::no_address_of_family: return "no_address_of_family";
    case error_cause::resolver_failed: return "resolver_failed";
    case error_cause::no_reply: return "no_reply";
    case error_cause::nothing_heard: return "nothing_heard";
    case error_cause::port_unreachable: return "port_unreachable";
    case error_cause::host_unreachable: return "host_unreachable";
    case error_cause::network_unreachable: return "network_unreachable";
    case error_cause::socket_failed: return "socket_failed";
    case error_cause::send_failed: return "send_failed";
    case error_cause::receive_failed: return "receive_failed";
    case error_cause::listen_failed: return "listen_failed";
    case error_cause::kiss_received: return "kiss_received";
    case error_cause::kissed_earlier: return "kissed_earlier";
    case error_cause::leap_alarm: return "leap_alarm";
    case error_cause::stratum_unsynchronised: return "stratum_unsynchronised";
    case error_cause::checks_failed: return "checks_failed";
    case error_cause::reply_mac_bad: return "reply_mac_bad";
    case error_cause::no_authenticated_reply: return "no_authenticated_reply";
    case error_cause::signing_failed: return "signing_failed";
    case error_cause::interrupted: return "interrupted";
    case error_cause::bad_target: return "bad_target";
    case error_cause::nts_ke_unreachable: return "nts_ke_unreachable";
    case error_cause::nts_ke_timeout: return "nts_ke_timeout";
    case error_cause::tls_unavailable: return "tls_unavailable";
    case error_cause::ca_file_unreadable: return "ca_file_unreadable";
    case error_cause::tls_handshake_failed: return "tls_handshake_failed";
    case error_cause::alpn_refused: return "alpn_refused";
    case error_cause::certificate_untrusted: return "certificate_untrusted";
    case error_cause::certificate_expired: return "certificate_expired";
    case error_cause::certificate_not_yet_valid: return "certificate_not_yet_valid";
    case error_cause::certificate_wrong_name: return "certificate_wrong_name";
    case error_cause::nts_ke_error_record: return "nts_ke_error_record";
    case error_cause::nts_ke_warning_record: return "nts_ke_warning_record";
    case error_cause::nts_ke_bad_next_protocol: return "nts_ke_bad_next_protocol";
    case error_cause::nts_ke_no_common_aead: return "nts_ke_no_common_aead";
    case error_cause::nts_ke_aead_not_offered: return "nts_ke_aead_not_offered";
    case error_cause::nts_ke_no_cookies: return "nts_ke_no_cookies";
    case error_cause::nts_ke_malformed: return "nts_ke_malformed";
    case error_cause::nts_ke_closed: return "nts_ke_closed";
    case error_cause::nts_keys_failed: return "nts_keys_failed";
    case error_cause::nts_server_unresolved: return "nts_server_unresolved";
    case error_cause::nts_nak: return "nts_nak";
    case error_cause::nts_bad_authenticator: return "nts_bad_authenticator";
    case error_cause::nts_unique_id_mismatch: return "nts_unique_id_mismatch";
    case error_cause::nts_unauthenticated: return "nts_unauthenticated";
    case error_cause::nts_no_cookies_left: return "nts_no_cookies_left";
    case error_cause::nts_seal_failed: return "nts_seal_failed";
  }
  return "unknown";
}

std::string endpoint_label(std::string_view numeric, std::uint16_t port, family f) {
  std::string s;
  s.reserve(numeric.size() + 8);
  if (f == family::ipv6) s += '[';
  s += numeric;
  if (f == family::ipv6) s += ']';
  s += ':';
  s += std::to_string(port);
  return s;
}

}  // namespace ntpkit::model
