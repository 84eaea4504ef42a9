#include "ntpkit/model/nts.hpp"

#include "ntpkit/model/ntp.hpp"
#include "ntpkit/proto/errc.hpp"

namespace ntpkit::model {

std::string_view nts_step_name(nts_step s) noexcept {
  switch (s) {
    case nts_step::none:
      return "";
    case nts_step::connect:
      return "connect";
    case nts_step::tls_handshake:
      return "tls_handshake";
    case nts_step::certificate:
      return "certificate";
    case nts_step::key_exchange:
      return "key_exchange";
    case nts_step::ntp_resolve:
      return "ntp_resolve";
    case nts_step::ntp:
      return "ntp";
  }
  return "";
}

namespace {

using proto::errc;

// A well-formed response that check_nts_ke_response refused.
error_info rejected(const proto::nts_ke_outcome& o) {
  const auto& ec = o.error;
  error_info e = failure(error_kind::nts, error_cause::nts_ke_malformed);
  e.code = ec;
  if (ec == errc::nts_ke_error_record) {
    e.cause = error_cause::nts_ke_error_record;
    e.nts_code = o.response.errors.empty() ? 0 : o.response.errors.front();
  } else if (ec == errc::nts_ke_warning_record) {
    e.cause = error_cause::nts_ke_warning_record;
    e.nts_code = o.response.warnings.empty() ? 0 : o.response.warnings.front();
  } else if (ec == errc::nts_ke_no_next_protocol || ec == errc::nts_ke_next_protocol_not_offered) {
    e.cause = error_cause::nts_ke_bad_next_protocol;
  } else if (ec == errc::nts_ke_no_common_aead) {
    e.cause = error_cause::nts_ke_no_common_aead;
  } else if (ec == errc::nts_ke_aead_not_offered) {
    e.cause = error_cause::nts_ke_aead_not_offered;
  } else if (ec == errc::nts_ke_no_cookies) {
    e.cause = error_cause::nts_ke_no_cookies;
  }
  return e;
}

}  // namespace

error_info nts_ke_error(const proto::nts_ke_outcome& o, std::chrono::milliseconds timeout) {
  using proto::nts_ke_end;
  error_info e;
  switch (o.end) {
    case nts_ke_end::running:
    case nts_ke_end::completed:
      return e;
    case nts_ke_end::rejected:
      return rejected(o);
    case nts_ke_end::malformed:
      e = failure(error_kind::nts, error_cause::nts_ke_malformed);
      e.code = o.error;
      return e;
    case nts_ke_end::closed_early:
      e = failure(error_kind::nts, error_cause::nts_ke_closed);
      e.code = o.error;
      return e;
    case nts_ke_end::timed_out:
      e = failure(error_kind::nts, error_cause::nts_ke_timeout);
      e.waited = timeout;
      e.detail = "key_exchange";
      return e;
    case nts_ke_end::send_failed:
    case nts_ke_end::transport_failed:
      return transport_error(o.error, o.end == nts_ke_end::send_failed);
  }
  return e;
}

void take_nts_ke_outcome(nts_info& info, const proto::nts_ke_outcome& o) {
  const auto& r = o.response;
  info.records = r.records;
  info.next_protocol = r.next_protocol();
  info.aead_id = r.aead_id();
  info.aead = r.aead();
  info.ntp_server = r.server;
  info.ntp_port = r.port;
  info.errors = r.errors;
  info.warnings = r.warnings;
  info.cookie_sizes.clear();
  for (const auto& c : r.cookies) info.cookie_sizes.push_back(c.size());
  info.ke_bytes_sent = o.bytes_sent;
  info.ke_bytes_received = o.bytes_received;
}

}  // namespace ntpkit::model
