#include <utility>

#include "ntpkit/proto/errc.hpp"
#include "ntpkit/proto/nts_ke.hpp"

namespace ntpkit::proto {

std::string_view nts_ke_end_name(nts_ke_end e) noexcept {
  switch (e) {
    case nts_ke_end::running:
      return "running";
    case nts_ke_end::completed:
      return "completed";
    case nts_ke_end::rejected:
      return "rejected";
    case nts_ke_end::malformed:
      return "malformed";
    case nts_ke_end::closed_early:
      return "closed_early";
    case nts_ke_end::timed_out:
      return "timed_out";
    case nts_ke_end::send_failed:
      return "send_failed";
    case nts_ke_end::transport_failed:
      return "transport_failed";
  }
  return "unknown";
}

nts_ke_session::nts_ke_session(nts_ke_plan plan) : plan_(std::move(plan)), decoder_(plan_.limits) {}

session_action nts_ke_session::next(steady_time now) {
  if (done()) return finished{};
  if (!request_made_) {
    request_made_ = true;
    auto bytes = make_nts_ke_request(plan_.aead_algorithms);
    out_.bytes_sent = bytes.size();
    return send_bytes{std::move(bytes), 0};
  }
  if (!sent_) {
    // next() again before on_sent: a stream cannot take the request twice.
    finish(nts_ke_end::send_failed, std::make_error_code(std::errc::operation_not_permitted));
    return finished{};
  }
  if (now >= deadline_) {
    finish(nts_ke_end::timed_out, std::make_error_code(std::errc::timed_out));
    return finished{};
  }
  return wait_until{deadline_};
}

void nts_ke_session::on_sent(const sent_meta& m) {
  if (done() || !request_made_ || sent_) return;
  sent_ = true;
  deadline_ = m.at + plan_.timeout;
}

void nts_ke_session::on_send_failed(std::error_code ec) {
  if (done()) return;
  finish(nts_ke_end::send_failed, ec);
}

void nts_ke_session::on_bytes(std::span<const std::uint8_t> bytes) {
  if (done()) return;
  out_.bytes_received += bytes.size();
  if (auto fed = decoder_.feed(bytes); !fed) return finish(nts_ke_end::malformed, fed.error());
  drain();
}

void nts_ke_session::drain() {
  for (;;) {
    auto r = decoder_.next();
    if (!r) return finish(nts_ke_end::malformed, r.error());
    if (!*r) break;
    if (auto taken = take_nts_ke_record(out_.response, **r); !taken) {
      return finish(nts_ke_end::malformed, taken.error());
    }
  }
  if (!decoder_.complete()) return;
  if (auto ok = check_nts_ke_response(out_.response, plan_.aead_algorithms); !ok) {
    return finish(nts_ke_end::rejected, ok.error());
  }
  finish(nts_ke_end::completed);
}

void nts_ke_session::on_end_of_stream() {
  if (done()) return;
  const auto f = decoder_.finish();
  finish(nts_ke_end::closed_early,
         f ? make_error_code(errc::nts_ke_missing_end_of_message) : f.error());
}

void nts_ke_session::on_transport_error(std::error_code ec) {
  if (done()) return;
  finish(nts_ke_end::transport_failed, ec);
}

void nts_ke_session::finish(nts_ke_end end, std::error_code ec) {
  out_.end = end;
  out_.error = ec;
}

}  // namespace ntpkit::proto
