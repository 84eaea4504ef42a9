#include "ntpkit/report/describe.hpp"

#include <cstdio>

#include "ntpkit/proto/errc.hpp"
#include "ntpkit/proto/refid.hpp"
#include "ntpkit/report/format.hpp"

namespace ntpkit::report {
namespace {

using model::error_cause;

std::string seconds_text(std::chrono::milliseconds ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", static_cast<double>(ms.count()) / 1000.0);
  return buf;
}

std::string failed_checks(const proto::check_results& c) {
  std::string out;
  for (std::size_t i = 0; i < proto::check_count; ++i) {
    const auto k = static_cast<proto::check>(i);
    if (!c.failed(k)) continue;
    if (!out.empty()) out += ", ";
    out += proto::check_name(k);
  }
  return out;
}

std::string kiss_text(const std::string& code) {
  const auto meaning = proto::kiss_code_meaning(code);
  std::string text = "kiss-o'-death " + code;
  if (!meaning.empty()) text += " (" + std::string(meaning) + ")";
  if (code == "DENY" || code == "RSTR") text = "server refuses us: " + text;
  return text + "; no further requests sent";
}

std::string resolve_text(const model::error_info& e) {
  switch (e.cause) {
    case error_cause::no_address_of_family:
      return e.asked == model::family_choice::ipv4   ? "no IPv4 address"
             : e.asked == model::family_choice::ipv6 ? "no IPv6 address"
                                                     : "no address";
    case error_cause::host_not_found:
      return "name does not resolve (" + e.code.message() + ")";
    default:
      return "cannot resolve: " + e.code.message();
  }
}

std::string nts_ke_error_meaning(std::uint16_t code) {
  switch (code) {
    case 0:
      return " (unrecognized critical record)";
    case 1:
      return " (bad request)";
    case 2:
      return " (internal server error)";
    default:
      return "";
  }
}

std::string nts_ke_timeout_text(const model::error_info& e) {
  const auto within = " within " + seconds_text(e.waited);
  if (e.detail == "connect") return "no NTS-KE connection" + within;
  if (e.detail == "tls_handshake") return "TLS handshake not done" + within;
  return "NTS-KE response not complete" + within;
}

// The words for the causes of error kinds tls and nts (RFC 8915).
std::string nts_text(const model::error_info& e) {
  const auto with_detail = [&](std::string text) {
    return e.detail.empty() ? text : text + ": " + e.detail;
  };
  switch (e.cause) {
    case error_cause::nts_ke_unreachable:
      return e.code == std::errc::connection_refused
                 ? "NTS-KE connection refused: nothing listens on the NTS-KE port"
                 : "NTS-KE server not reachable: " + e.code.message();
    case error_cause::nts_ke_timeout:
      return nts_ke_timeout_text(e);
    case error_cause::tls_unavailable:
    case error_cause::ca_file_unreadable:
      return with_detail("cannot load the CA file");
      return with_detail("TLS library unavailable");
    case error_cause::tls_handshake_failed:
      return with_detail("TLS handshake failed");
    case error_cause::alpn_refused:
      return "server does not speak NTS-KE (ALPN ntske/1 refused)";
    case error_cause::certificate_untrusted:
      return with_detail("server certificate not trusted");
    case error_cause::certificate_expired:
      return "server certificate has expired";
    case error_cause::certificate_not_yet_valid:
      return "server certificate not yet valid";
    case error_cause::certificate_wrong_name:
      return "server certificate is not for " + (e.detail.empty() ? "this server" : e.detail);
    case error_cause::nts_ke_error_record:
      return "NTS-KE server refused us: error " + std::to_string(e.nts_code) +
             nts_ke_error_meaning(e.nts_code);
    case error_cause::nts_ke_warning_record:
      return "NTS-KE server sent warning " + std::to_string(e.nts_code);
    case error_cause::nts_ke_bad_next_protocol:
      return "NTS-KE server does not offer NTPv4";
    case error_cause::nts_ke_no_common_aead:
      return "NTS-KE server has no AEAD algorithm in common with us";
    case error_cause::nts_ke_aead_not_offered:
      return "NTS-KE server chose an AEAD algorithm we did not offer";
    case error_cause::nts_ke_no_cookies:
      return "NTS-KE server sent no cookies";
    case error_cause::nts_ke_malformed:
      return "malformed NTS-KE response: " + e.code.message();
    case error_cause::nts_ke_closed:
      return e.code == proto::errc::truncated
                 ? "NTS-KE server closed the connection inside a record"
                 : "NTS-KE server closed the connection before end of message";
    case error_cause::nts_keys_failed:
      return with_detail("cannot export the NTS keys");
    case error_cause::nts_server_unresolved:
      return "NTP server " + e.detail + " handed out by NTS-KE does not resolve (" +
             e.code.message() + ")";
    case error_cause::nts_nak:
      return "NTS NAK (kiss-o'-death NTSN): the server cannot use our cookies; a new key "
             "exchange is needed";
    case error_cause::nts_bad_authenticator:
      return "no reply passed NTS authentication: the authenticator does not verify";
    case error_cause::nts_unique_id_mismatch:
      return "replies carried another NTS unique identifier than our requests";
    case error_cause::nts_unauthenticated:
      return "replies came without NTS authenticator";
    case error_cause::nts_no_cookies_left:
      return "NTS cookies ran out: the server's answers did not replace them";
    case error_cause::nts_seal_failed:
      return "cannot seal the NTS request: " + e.code.message();
    default:
      return std::string(model::error_kind_name(e.kind));
  }
}

}  // namespace

std::string error_text(const model::error_info& e, std::string_view where) {
  switch (e.cause) {
    case error_cause::none:
      return e ? std::string(model::error_kind_name(e.kind)) : "";
    case error_cause::host_not_found:
    case error_cause::no_address_of_family:
    case error_cause::resolver_failed:
      return resolve_text(e);
    case error_cause::no_reply:
      return e.waited.count() > 0 ? "no reply within " + seconds_text(e.waited) : "no reply";
    case error_cause::nothing_heard:
      return "no broadcast heard within " + seconds_text(e.waited);
    case error_cause::port_unreachable:
      return where.empty() ? "port unreachable"
                           : "port unreachable: nothing listens on " + std::string(where);
    case error_cause::host_unreachable:
      return "host unreachable";
    case error_cause::network_unreachable:
      return "network unreachable";
    case error_cause::socket_failed:
      return "cannot open socket: " + e.code.message();
    case error_cause::send_failed:
    case error_cause::receive_failed:
      return e.code.message();
    case error_cause::listen_failed:
      return "cannot listen: " + e.code.message();
    case error_cause::kiss_received:
      return kiss_text(e.kiss_code);
    case error_cause::kissed_earlier:
      return std::string(e.requests_before == 0 ? "not queried" : "no further requests") +
             ": it sent kiss-o'-death " + e.kiss_code + " earlier in this run";
    case error_cause::leap_alarm:
      return "server unsynchronised (leap indicator 3)";
    case error_cause::stratum_unsynchronised:
      return "server unsynchronised (stratum " + std::to_string(e.stratum) + ")";
    case error_cause::checks_failed:
      return "reply failed sanity checks: " + failed_checks(e.checks);
    case error_cause::reply_mac_bad: return "reply MAC does not verify";
    case error_cause::no_authenticated_reply: return "no reply passed authentication";
    case error_cause::signing_failed: return "cannot sign the request: " + e.code.message();
    case error_cause::interrupted: return "interrupted before it finished";
    case error_cause::bad_target:
      return (e.origin.empty() ? std::string() : printable(e.origin) + ": ") +
             "not a server: " + e.code.message();
    default:
      return nts_text(e);
  }
  return std::string(model::error_kind_name(e.kind));
}

std::string ignored_text(const proto::ignore_counts& ignored) {
  std::string out;
  for (const auto& [reason, count] : ignored) {
    out += out.empty() ? "" : ", ";
    out += std::to_string(count) + " " + std::string(proto::ignore_reason_name(reason));
  }
  return out;
}

std::string address_error_text(const model::ntp_address& a) {
  if (!a.error) return {};
  // With NTS the address is the NTS-KE server's; NTP went where the key exchange said.
  const bool nts_ntp = a.nts && !a.nts->ntp_address.empty();
  const std::string ntp_label =
      nts_ntp ? model::endpoint_label(a.nts->ntp_address, a.nts->ntp_port_used,
                                      a.nts->ntp_address.find(':') != std::string::npos
                                          ? model::family::ipv6
                                          : model::family::ipv4)
              : a.label;
  std::string text = error_text(a.error, ntp_label);
  if (nts_ntp && a.error.kind == model::error_kind::timeout) {
    text += " from NTP server " + ntp_label + " (handed out by NTS-KE)";
  }
  if (a.key && a.error.kind == model::error_kind::timeout) {
    const auto& k = *a.key;
    text += "; servers drop requests whose MAC they reject, so the server may not know key " +
            std::to_string(k.key_id) + " or hold another secret";
    if (k.digest_bytes > proto::truncated_digest_size) {
      text += "; its " + std::to_string(k.digest_bytes) +
              "-byte digest is what chronyd expects, NTPsec's ntpd wants it cut to 20 bytes "
              "(--mac-length 20)";
    }
    if (k.file_format && k.format_guessed) {
      const bool ntp = *k.file_format == proto::key_file_format::ntp_keys;
      text += std::string("; the key file was read as ") + (ntp ? "ntp.keys" : "chrony.keys") +
              " because no line is specific to either format (--key-format " +
              (ntp ? "chrony" : "ntp") + " reads it as " + (ntp ? "chrony.keys" : "ntp.keys") +
              ")";
    }
  }
  if (!a.selected && !a.ignored.empty()) text += " (ignored: " + ignored_text(a.ignored) + ")";
  return text;
}

std::string target_error_text(const model::ntp_target& t) {
  if (!t.error) return {};
  std::string text = error_text(t.error);
  if (t.error.cause == error_cause::listen_failed) {
    text = "cannot listen on port " + std::to_string(t.port) + ": " + t.error.code.message();
  }
  if (!t.ignored.empty()) text += " (ignored: " + ignored_text(t.ignored) + ")";
  return text;
}

}  // namespace ntpkit::report
