// One cmdmon request and its reply, after chronyc's submit_request() and request_reply().

#include "ntpkit/proto/cmdmon_query.hpp"

#include <algorithm>

#include "ntpkit/proto/errc.hpp"

namespace ntpkit::proto {
namespace {

constexpr unsigned retries_cap = 16;

// The wait of attempt n: initial × 2^n (chronyc: initial_timeout × (1 << (n_attempts - 1))).
steady_time::duration attempt_timeout(const cmdmon_timing& t, std::uint16_t attempt) {
  return std::chrono::duration_cast<steady_time::duration>(
      t.initial_timeout * (std::int64_t{1} << std::min<unsigned>(attempt, retries_cap)));
}

bool answers(cmdmon::command c, cmdmon::reply_code r) {
  const auto codes = cmdmon::replies_to(c);
  return std::find(codes.begin(), codes.end(), r) != codes.end();
}

}  // namespace

std::string_view cmdmon_outcome_kind_name(cmdmon_outcome_kind k) noexcept {
  switch (k) {
    case cmdmon_outcome_kind::pending:
      return "pending";
    case cmdmon_outcome_kind::reply:
      return "reply";
    case cmdmon_outcome_kind::status_error:
      return "status_error";
    case cmdmon_outcome_kind::bad_reply:
      return "bad_reply";
    case cmdmon_outcome_kind::timeout:
      return "timeout";
    case cmdmon_outcome_kind::transport_error:
      return "transport_error";
  }
  return "unknown";
}

cmdmon_query::cmdmon_query(const cmdmon_plan& plan) : plan_(plan) {
  plan_.timing.max_retries = std::min(plan_.timing.max_retries, retries_cap);
  outcome_.version = plan_.timing.version;
  const auto probe =
      cmdmon::encode_request(plan_.request, {plan_.timing.version, 0, plan_.sequence});
  if (!probe) finish(cmdmon_outcome_kind::bad_reply, probe.error());
}

void cmdmon_query::finish(cmdmon_outcome_kind k, std::error_code ec) {
  outcome_.kind = k;
  outcome_.error = ec;
  send_due_ = false;
  awaiting_sent_ = false;
}

void cmdmon_query::ignore(ignore_reason r) noexcept {
  outcome_.ignored.add(r);
}

session_action cmdmon_query::next(steady_time now) {
  if (done()) return finished{};
  if (awaiting_sent_) {  // the driver did not report the send: take it as sent now
    awaiting_sent_ = false;
    deadline_ = now + attempt_timeout(plan_.timing, attempt_);
  }
  if (!send_due_ && now >= deadline_) {
    if (attempt_ >= plan_.timing.max_retries) {
      finish(cmdmon_outcome_kind::timeout);
      return finished{};
    }
    ++attempt_;
    send_due_ = true;
  }
  if (send_due_) {
    auto bytes =
        cmdmon::encode_request(plan_.request, {outcome_.version, attempt_, plan_.sequence});
    if (!bytes) {  // only the version 5 resend can get here, and it encodes
      finish(cmdmon_outcome_kind::bad_reply, bytes.error());
      return finished{};
    }
    send_due_ = false;
    awaiting_sent_ = true;
    ++outcome_.requests_sent;
    outcome_.last_attempt = attempt_;
    return send_bytes{std::move(*bytes), attempt_};
  }
  return wait_until{deadline_};
}

void cmdmon_query::on_sent(const sent_meta& m) {
  if (done() || !awaiting_sent_ || m.tag != attempt_) return;
  awaiting_sent_ = false;
  deadline_ = m.at + attempt_timeout(plan_.timing, attempt_);
}

void cmdmon_query::on_send_failed(std::error_code ec) {
  if (!done()) finish(cmdmon_outcome_kind::transport_error, ec);
}

void cmdmon_query::resend_now() {
  ++attempt_;
  send_due_ = true;
  awaiting_sent_ = false;
}

void cmdmon_query::on_transport_error(std::error_code ec) {
  if (done()) return;
  if (attempt_ >= plan_.timing.max_retries) {
    finish(cmdmon_outcome_kind::transport_error, ec);
    return;
  }
  resend_now();
}

void cmdmon_query::on_datagram(std::span<const std::uint8_t> bytes, const datagram_meta& m) {
  if (done()) return;
  if (!m.from_peer) return ignore(ignore_reason::source);
  if (m.truncated) return ignore(ignore_reason::oversized);
  const auto h = cmdmon::decode_reply_header(bytes);
  if (!h) {
    return ignore(h.error() == errc::truncated ? ignore_reason::malformed
                                               : ignore_reason::not_reply);
  }
  // Another version is ours only as a bad_packet_version reply from version 4 up (chronyc's
  // PROTO_VERSION_MISMATCH_COMPAT_CLIENT).
  if (h->version != outcome_.version &&
      !(h->version >= 4 && h->status == cmdmon::status::bad_packet_version)) {
    return ignore(ignore_reason::version);
  }
  if (h->cmd != plan_.request.code) return ignore(ignore_reason::command);
  if (h->sequence != plan_.sequence) return ignore(ignore_reason::sequence);
  take_reply(bytes, *h);
}

void cmdmon_query::take_reply(std::span<const std::uint8_t> bytes, const cmdmon::reply_header& h) {
  if (outcome_.version == cmdmon::protocol_version && h.version == cmdmon::protocol_version_5 &&
      plan_.timing.version5_fallback) {
    // A version 5 chronyd: the same request again as version 5, with the same attempt number.
    outcome_.version = cmdmon::protocol_version_5;
    send_due_ = true;
    awaiting_sent_ = false;
    return;
  }
  const auto needed = cmdmon::reply_length(h.reply);
  if (needed != 0 && bytes.size() < needed) {
    ignore(ignore_reason::truncated);
    if (attempt_ >= plan_.timing.max_retries) {
      finish(cmdmon_outcome_kind::bad_reply, errc::truncated);
    } else {
      resend_now();
    }
    return;
  }
  auto decoded = cmdmon::decode_reply(bytes);
  if (!cmdmon::is_success(h.status)) {
    outcome_.reply = decoded ? std::move(*decoded) : cmdmon::reply{h, cmdmon::null_reply{}};
    finish(cmdmon_outcome_kind::status_error);
    return;
  }
  if (!answers(plan_.request.code, h.reply)) {
    // chronyc's "508 Bad reply from daemon"; say why when the code is not even decodable.
    const std::error_code why = decoded ? errc::cmdmon_unexpected_reply : decoded.error();
    if (decoded) outcome_.reply = std::move(*decoded);
    finish(cmdmon_outcome_kind::bad_reply, why);
    return;
  }
  if (!decoded) {
    finish(cmdmon_outcome_kind::bad_reply, decoded.error());
    return;
  }
  outcome_.reply = std::move(*decoded);
  finish(cmdmon_outcome_kind::reply);
}

}  // namespace ntpkit::proto
