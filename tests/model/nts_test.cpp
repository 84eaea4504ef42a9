// model/nts.hpp and NTS in model/ntp.hpp's conclusion: every NTS-KE outcome becomes its typed
// cause (and the words report/describe.cpp has for it), and the NTP part of an NTS exchange
// is concluded as NTS sees it (a NAK, answers refused for their NTS protection, cookies).

#include "ntpkit/model/nts.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

#include "ntpkit/model/ntp.hpp"
#include "ntpkit/proto/errc.hpp"
#include "ntpkit/report/describe.hpp"

using namespace ntpkit;
using namespace std::chrono_literals;
using model::error_cause;
using model::error_kind;
using proto::errc;
using proto::nts_ke_end;

namespace {

proto::nts_ke_outcome ended(nts_ke_end end, std::error_code ec = {}) {
  proto::nts_ke_outcome o;
  o.end = end;
  o.error = ec;
  return o;
}

model::error_info ke_error(nts_ke_end end, std::error_code ec = {}) {
  return model::nts_ke_error(ended(end, ec), 5000ms);
}

}  // namespace

TEST_CASE("a completed NTS-KE exchange is no error") {
  CHECK_FALSE(ke_error(nts_ke_end::completed));
}

TEST_CASE("each way a response is refused is its own cause") {
  struct row {
    errc code;
    error_cause cause;
  };
  const row rows[] = {
      {errc::nts_ke_error_record, error_cause::nts_ke_error_record},
      {errc::nts_ke_warning_record, error_cause::nts_ke_warning_record},
      {errc::nts_ke_no_next_protocol, error_cause::nts_ke_bad_next_protocol},
      {errc::nts_ke_next_protocol_not_offered, error_cause::nts_ke_bad_next_protocol},
      {errc::nts_ke_no_common_aead, error_cause::nts_ke_no_common_aead},
      {errc::nts_ke_aead_not_offered, error_cause::nts_ke_aead_not_offered},
      {errc::nts_ke_no_cookies, error_cause::nts_ke_no_cookies},
  };
  for (const auto& r : rows) {
    CAPTURE(static_cast<int>(r.code));
    const auto e = ke_error(nts_ke_end::rejected, r.code);
    CHECK(e.kind == error_kind::nts);
    CHECK(e.cause == r.cause);
    CHECK(e.code == r.code);
  }
  auto o = ended(nts_ke_end::rejected, errc::nts_ke_error_record);
  o.response.errors = {2};
  const auto e = model::nts_ke_error(o, 5000ms);
  CHECK(e.nts_code == 2);
  CHECK(report::error_text(e) == "NTS-KE server refused us: error 2 (internal server error)");
}

TEST_CASE("malformed, cut short, timed out and broken exchanges keep their facts") {
  auto m = ke_error(nts_ke_end::malformed, errc::nts_ke_unknown_critical_record);
  CHECK(m.cause == error_cause::nts_ke_malformed);
  CHECK(report::error_text(m) == "malformed NTS-KE response: unknown critical NTS-KE record");
  auto c = ke_error(nts_ke_end::closed_early, errc::nts_ke_missing_end_of_message);
  CHECK(c.cause == error_cause::nts_ke_closed);
  CHECK(report::error_text(c) == "NTS-KE server closed the connection before end of message");
  auto t = ke_error(nts_ke_end::timed_out, std::make_error_code(std::errc::timed_out));
  CHECK(t.cause == error_cause::nts_ke_timeout);
  CHECK(t.waited == 5000ms);
  CHECK(report::error_text(t) == "NTS-KE response not complete within 5 s");
  auto r =
      ke_error(nts_ke_end::transport_failed, std::make_error_code(std::errc::connection_reset));
  CHECK(r.kind == error_kind::network);
  CHECK(r.cause == error_cause::receive_failed);
}

TEST_CASE("take_nts_ke_outcome copies what the server said") {
  proto::nts_ke_outcome o = ended(nts_ke_end::completed);
  o.response.next_protocols = std::vector<std::uint16_t>{0};
  o.response.aead_ids = std::vector<std::uint16_t>{15};
  o.response.cookies = {std::vector<std::uint8_t>(100, 1), std::vector<std::uint8_t>(104, 2)};
  o.response.port = 11123;
  o.response.records.resize(5);
  o.bytes_sent = 16;
  o.bytes_received = 300;
  model::nts_info n;
  model::take_nts_ke_outcome(n, o);
  CHECK(n.next_protocol == 0);
  CHECK(n.aead == proto::aead_algorithm::aes_siv_cmac_256);
  CHECK(n.cookies() == 2);
  CHECK(n.cookie_sizes == std::vector<std::size_t>{100, 104});
  CHECK(n.ntp_port == 11123);
  CHECK_FALSE(n.ntp_server.has_value());
  CHECK(n.records.size() == 5);
  CHECK(n.ke_bytes_received == 300);
}

namespace {

model::ntp_address nts_address() {
  model::ntp_address a;
  a.locate("127.0.0.1", 4460, model::family::ipv4);
  a.nts.emplace();
  a.nts->ntp_address = "127.0.0.1";
  a.nts->ntp_port_used = 11123;
  return a;
}

model::sample authenticated_sample() {
  model::sample s;
  s.reply.mode = proto::association_mode::server;
  s.reply.stratum = 2;
  s.assessed.result = proto::verdict::ok;
  s.nts_authenticated = true;
  return s;
}

}  // namespace

TEST_CASE("an NTS exchange whose answers verified is authenticated and counts them") {
  auto a = nts_address();
  proto::ntp_query_outcome o;
  o.end = proto::ntp_query_end::completed;
  o.requests = 2;
  o.samples = {authenticated_sample(), authenticated_sample()};
  o.nts.cookies_sent = 2;
  o.nts.cookies_received = 2;
  o.nts_cookies.resize(8);
  model::take_outcome(a, std::move(o), 1000ms);
  CHECK_FALSE(a.error);
  CHECK(a.auth == model::auth_status::authenticated);
  CHECK(a.nts->authenticated_samples == 2);
  CHECK(a.nts->cookies_left == 8);
  CHECK(a.nts->failed_step == model::nts_step::none);
}

TEST_CASE("an NTS NAK fails the address as nts_nak at the NTP step") {
  auto a = nts_address();
  proto::ntp_query_outcome o;
  o.end = proto::ntp_query_end::kissed;
  o.kiss_code = "NTSN";
  model::sample nak;
  nak.reply.stratum = 0;
  nak.assessed.result = proto::verdict::kiss;
  nak.assessed.kiss_code = "NTSN";
  o.samples = {nak};
  o.nts.cookies_sent = 1;
  o.nts.nak = true;
  model::take_outcome(a, std::move(o), 1000ms);
  CHECK(a.error.kind == error_kind::nts);
  CHECK(a.error.cause == error_cause::nts_nak);
  CHECK(a.error.kiss_code == "NTSN");
  CHECK(a.auth == model::auth_status::nts_nak);
  CHECK(a.nts->failed_step == model::nts_step::ntp);
  CHECK(report::address_error_text(a).find("NTS NAK") == 0);
}

TEST_CASE("answers refused only for their NTS protection name that protection") {
  struct row {
    proto::ignore_reason reason;
    error_cause cause;
    model::auth_status auth;
  };
  const row rows[] = {
      {proto::ignore_reason::nts_auth, error_cause::nts_bad_authenticator,
       model::auth_status::bad_authenticator},
      {proto::ignore_reason::nts_unique_id, error_cause::nts_unique_id_mismatch,
       model::auth_status::unique_id_mismatch},
      {proto::ignore_reason::nts_missing, error_cause::nts_unauthenticated,
       model::auth_status::no_authenticator},
  };
  for (const auto& r : rows) {
    auto a = nts_address();
    proto::ntp_query_outcome o;
    o.end = proto::ntp_query_end::timed_out;
    o.requests = 1;
    o.ignored.add(r.reason, 2);
    o.nts.cookies_sent = 1;
    model::take_outcome(a, std::move(o), 1000ms);
    CAPTURE(proto::ignore_reason_name(r.reason));
    CHECK(a.error.kind == error_kind::nts);
    CHECK(a.error.cause == r.cause);
    CHECK(a.auth == r.auth);
  }
}

TEST_CASE("no reply from the handed-out NTP server names it") {
  auto a = nts_address();
  a.nts->ntp_address = "127.0.0.2";
  proto::ntp_query_outcome o;
  o.end = proto::ntp_query_end::timed_out;
  o.requests = 1;
  o.nts.cookies_sent = 1;
  model::take_outcome(a, std::move(o), 2000ms);
  CHECK(a.error.kind == error_kind::timeout);
  CHECK(report::address_error_text(a) ==
        "no reply within 2 s from NTP server 127.0.0.2:11123 (handed out by NTS-KE)");
}

TEST_CASE("running out of cookies is an NTS failure") {
  auto a = nts_address();
  proto::ntp_query_outcome o;
  o.end = proto::ntp_query_end::nts_no_cookies;
  o.requests = 8;
  o.samples = {authenticated_sample()};
  o.nts.cookies_sent = 8;
  model::take_outcome(a, std::move(o), 1000ms);
  CHECK(a.error.cause == error_cause::nts_no_cookies_left);
  CHECK(a.nts->failed_step == model::nts_step::ntp);
}

TEST_CASE("a key exchange failure stands; auth was never used") {
  auto a = nts_address();
  a.nts->failed_step = model::nts_step::certificate;
  auto e = model::failure(error_kind::tls, error_cause::certificate_wrong_name);
  e.detail = "127.0.0.1";
  model::conclude(a, e);
  CHECK(a.error.cause == error_cause::certificate_wrong_name);
  CHECK(a.auth == model::auth_status::not_used);
  CHECK(a.nts->failed_step == model::nts_step::certificate);
  CHECK(report::error_text(a.error) == "server certificate is not for 127.0.0.1");
}

TEST_CASE("every cause has its own name and NTS steps theirs") {
  std::set<std::string> names;
  for (int c = 0; c <= static_cast<int>(error_cause::nts_seal_failed); ++c) {
    const auto n = std::string(model::error_cause_name(static_cast<error_cause>(c)));
    CHECK(n != "unknown");
    names.insert(n);
  }
  CHECK(names.size() == static_cast<std::size_t>(error_cause::nts_seal_failed) + 1);
  CHECK(model::error_kind_name(error_kind::tls) == "tls");
  CHECK(model::error_kind_name(error_kind::nts) == "nts");
  CHECK(model::nts_step_name(model::nts_step::key_exchange) == "key_exchange");
  CHECK(model::nts_step_name(model::nts_step::none).empty());
}
