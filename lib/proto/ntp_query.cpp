#include "ntpkit/proto/ntp_query.hpp"

#include <algorithm>
#include <utility>

#include "ntpkit/proto/errc.hpp"

namespace ntpkit::proto {

namespace {

// The ignored-reason for a reply whose MAC did not verify.
ignore_reason mac_failure(std::error_code ec) {
  if (ec == errc::mac_missing) return ignore_reason::mac_missing;
  if (ec == errc::key_id_mismatch) return ignore_reason::mac_key_id;
  if (ec == errc::crypto_nak) return ignore_reason::crypto_nak;
  if (ec == errc::bad_mac_length) return ignore_reason::mac_length;
  return ignore_reason::mac;
}

// The ignored-reason for a reply whose NTS authentication failed (RFC 8915 §5.7).
ignore_reason nts_failure(std::error_code ec) {
  if (ec == errc::nts_authenticator_missing) return ignore_reason::nts_missing;
  if (ec == errc::nts_unique_id_missing || ec == errc::nts_unique_id_mismatch) {
    return ignore_reason::nts_unique_id;
  }
  return ignore_reason::nts_auth;
}

// NTS: the request and its answer together stay below a 1500-byte MTU: at most this many
// bytes of cookie and placeholder fields in a request (its answer carries as many new cookies).
constexpr std::size_t max_cookie_field_bytes = 1200;

// The ignored-reason for a reply a check found not to be for us.
ignore_reason not_for_us_reason(const check_results& c) {
  switch (c.first_failure().value_or(check::origin)) {
    case check::source:
      return ignore_reason::source;
    case check::mode:
      return ignore_reason::mode;
    case check::mac:
      return ignore_reason::mac;
    default:
      return ignore_reason::origin;
  }
}

}  // namespace

ntp_query::ntp_query(ntp_query_plan plan, random_source random)
    : plan_(std::move(plan)), random_(std::move(random)) {
  if (plan_.nts) cookies_ = std::exchange(plan_.nts->cookies, {});
  if (plan_.samples == 0) finish(ntp_query_end::completed);
}

session_action ntp_query::next(steady_time now) {
  switch (state_) {
    case state::done:
      return finished{};
    case state::need_send:
      return make_request();
    case state::send_pending: {
      // next() again before on_sent: hand out the same request (its bytes are gone, so this
      // only happens when a driver misbehaves); treat it as unsent and make a new one.
      sent_.pop_back();
      return make_request();
    }
    case state::awaiting:
      if (now < deadline_) return wait_until{deadline_};
      round_unanswered();
      return next(now);
  }
  return finished{};
}

session_action ntp_query::make_request() {
  const auto xmt = timestamp::from_bits(random_());
  auto p = make_client_request(xmt, plan_.version);
  outstanding req;
  req.transmit = xmt;
  req.tag = next_tag_++;
  req.attempt = attempt_;
  if (plan_.interleaved && !answered_.empty()) {
    // RFC 9769: origin = the server's receive timestamp of its previous answer; receive = a
    // value the server echoes back (random, so it also authenticates the answer).
    auto token = timestamp::from_bits(random_() | 1);
    if (token == xmt) token = timestamp::from_bits(token.bits() ^ 2);
    p.origin = answered_.back().t2;
    p.receive = token;
    req.token = token;
    req.previous = answered_.back();
  }
  auto bytes = serialize_packet(p);
  if (plan_.key) {
    if (auto signed_ok = append_mac(bytes, *plan_.key, plan_.mac); !signed_ok) {
      out_.error = signed_ok.error();
      finish(ntp_query_end::sign_failed);
      return finished{};
    }
  } else if (plan_.nts) {
    if (cookies_.empty()) {
      finish(ntp_query_end::nts_no_cookies);
      return finished{};
    }
    if (auto sealed = seal(bytes, req); !sealed) {
      out_.error = sealed.error();
      finish(ntp_query_end::sign_failed);
      return finished{};
    }
  }
  sent_.push_back(std::move(req));
  state_ = state::send_pending;
  return send_bytes{std::move(bytes), sent_.back().tag};
}

result<void> ntp_query::seal(std::vector<std::uint8_t>& bytes, outstanding& req) {
  // RFC 8915 §5.3, §5.6: a fresh random unique identifier and nonce for every request.
  auto random_bytes = [this](std::size_t n) {
    std::vector<std::uint8_t> out(n);
    for (std::size_t i = 0; i < n; i += 8) {
      const std::uint64_t v = random_();
      for (std::size_t k = 0; k < 8 && i + k < n; ++k) out[i + k] = std::uint8_t(v >> (8 * k));
    }
    return out;
  };
  auto uid = random_bytes(nts_unique_id_size);
  const auto nonce = random_bytes(nts_nonce_size);
  const auto& cookie = cookies_.front();
  // One cookie per request, never reused (RFC 8915 §5.7, unlinkability); placeholders ask for
  // as many more as bring the pool back to what the plan wants.
  const std::size_t left = cookies_.size() - 1;
  std::size_t placeholders =
      plan_.nts->cookies_wanted > left + 1 ? plan_.nts->cookies_wanted - left - 1 : 0;
  const std::size_t field = 4 + nts_cookie_field_value_size(cookie.size());
  while (placeholders > 0 && (placeholders + 1) * field > max_cookie_field_bytes) --placeholders;
  const nts_request_fields f{uid, cookie, static_cast<unsigned>(placeholders), nonce};
  if (auto r = append_nts_request(bytes, f, plan_.nts->keys); !r) return r;
  cookies_.erase(cookies_.begin());
  req.unique_id = std::move(uid);
  ++out_.nts.cookies_sent;
  out_.nts.placeholders_sent += static_cast<std::uint32_t>(placeholders);
  return {};
}

bool ntp_query::nts_accepts(std::span<const std::uint8_t> bytes, const packet& reply,
                            const outstanding& req,
                            std::optional<nts_verified_response>& verified) {
  auto v = verify_nts_response(bytes, req.unique_id, plan_.nts->keys);
  if (v) {
    verified = std::move(*v);
    return true;
  }
  // An NTS NAK cannot be authenticated (the server could not read our cookie); it is taken as
  // the kiss it is when it echoes our unique identifier, as chrony does.
  if (is_nts_nak(reply, req.unique_id)) return true;
  out_.ignored.add(nts_failure(v.error()));
  return false;
}

void ntp_query::take_cookies(ntp_sample& s, nts_verified_response&& verified) {
  s.nts_authenticated = true;
  s.nts_new_cookies = static_cast<std::uint32_t>(verified.cookies.size());
  out_.nts.cookies_received += s.nts_new_cookies;
  for (auto& c : verified.cookies) {
    if (cookies_.size() < plan_.nts->cookies_wanted) cookies_.push_back(std::move(c));
  }
}

void ntp_query::on_sent(const sent_meta& m) {
  if (state_ != state::send_pending || sent_.empty() || sent_.back().tag != m.tag) return;
  auto& r = sent_.back();
  r.sent = true;
  r.t1 = m.time;
  r.t1_source = m.source;
  ++out_.requests;
  deadline_ = m.at + plan_.timeout;
  state_ = state::awaiting;
}

void ntp_query::on_transmit_time(std::uint32_t tag, sys_nanoseconds t) {
  for (auto& r : sent_) {
    if (r.tag == tag && r.sent) {
      r.t1 = t;
      r.t1_source = time_source::kernel;
    }
  }
}

void ntp_query::on_send_failed(std::error_code ec) {
  if (state_ != state::send_pending) return;
  sent_.pop_back();
  out_.error = ec;
  finish(ntp_query_end::send_failed);
}

void ntp_query::on_vetoed(std::string_view kiss_code) {
  if (state_ != state::send_pending) return;
  sent_.pop_back();
  out_.kiss_code = std::string(kiss_code);
  finish(ntp_query_end::kissed_elsewhere);
}

void ntp_query::on_transport_error(std::error_code ec) {
  if (state_ == state::done) return;
  out_.error = ec;
  finish(ntp_query_end::transport_failed);
}

void ntp_query::round_unanswered() {
  last_timed_out_ = true;
  if (++attempt_ <= plan_.retries) {
    state_ = state::need_send;
    return;
  }
  attempt_ = 0;
  if (++round_ >= plan_.samples) {
    finish(ntp_query_end::timed_out);
  } else {
    state_ = state::need_send;
  }
}

void ntp_query::request_answered() {
  last_timed_out_ = false;
  attempt_ = 0;
  if (++round_ >= plan_.samples) {
    finish(ntp_query_end::completed);
  } else {
    state_ = state::need_send;
  }
}

void ntp_query::finish(ntp_query_end end) {
  state_ = state::done;
  out_.nts_cookies = std::move(cookies_);
  cookies_.clear();
  out_.end = end;
  out_.clean =
      (end == ntp_query_end::completed) && out_.ignored.empty() &&
      std::all_of(sent_.begin(), sent_.end(), [](const outstanding& r) { return r.answered; });
}

std::optional<ntp_sample> ntp_query::judge(const packet& reply, const outstanding& req,
                                           const datagram_meta& m, bool interleaved,
                                           std::optional<bool> authenticated) {
  ntp_sample s;
  s.reply = reply;
  reply_expectation expected;
  expected.local_precision = plan_.local_precision;
  expected.mac_verified = authenticated;  // MAC or NTS, verified before judge() is called
  if (interleaved) {
    // An interleaved answer completes the previous exchange: its T1, T2 and T4 with this
    // answer's transmit timestamp, the server's exact send time of the previous answer.
    const auto& prev = *req.previous;
    s.interleaved = true;
    s.reply.receive = prev.t2;
    s.attempt = prev.attempt;
    s.t1_date = prev.t1_date;
    s.t1_source = prev.t1_source;
    s.t4_date = prev.t4_date;
    s.t4_source = prev.t4_source;
    expected.sent_transmit = *req.token;
  } else {
    s.attempt = req.attempt;
    s.t1_date = date::from_sys_time(req.t1);
    s.t1_source = req.t1_source;
    s.t4_date = date::from_sys_time(m.time);
    s.t4_source = m.source;
    expected.sent_transmit = req.transmit;
  }
  s.times = {s.t1_date.to_timestamp(), s.reply.receive, reply.transmit, s.t4_date.to_timestamp()};
  s.measured = measure(s.times, reply.precision, plan_.local_precision);
  s.assessed = assess_reply(s.reply, s.times.t1, s.times.t4, expected);
  if (s.assessed.result == verdict::not_for_us || s.assessed.result == verdict::bad_mac) {
    out_.ignored.add(not_for_us_reason(s.assessed.checks));
    return std::nullopt;
  }
  return s;
}

void ntp_query::on_datagram(std::span<const std::uint8_t> bytes, const datagram_meta& m) {
  if (state_ != state::awaiting) return;
  if (!m.from_peer) return out_.ignored.add(ignore_reason::source);
  if (m.truncated) return out_.ignored.add(ignore_reason::oversized);
  auto reply = parse_packet(bytes);
  if (!reply) return out_.ignored.add(ignore_reason::malformed);
  // A basic answer echoes our transmit field, an interleaved one our receive field.
  auto req = std::find_if(sent_.begin(), sent_.end(), [&](const outstanding& r) {
    return r.sent && (r.transmit == reply->origin || (r.token && *r.token == reply->origin));
  });
  if (req == sent_.end()) return out_.ignored.add(ignore_reason::origin);
  if (req->answered) return out_.ignored.add(ignore_reason::duplicate);
  std::optional<bool> authenticated;
  std::optional<nts_verified_response> verified;
  if (plan_.key) {
    // RFC 5905: a reply that fails authentication is dropped; keep waiting for one that
    // passes (an attacker on the path could otherwise answer first).
    if (auto v = verify_mac(*plan_.key, bytes); !v) return out_.ignored.add(mac_failure(v.error()));
    authenticated = true;
  } else if (plan_.nts) {
    // RFC 8915 §5.7: the same for NTS; only an NTS NAK is taken without authentication.
    if (!nts_accepts(bytes, *reply, *req, verified)) return;
    if (verified) authenticated = true;
  }
  const bool interleaved = req->token && *req->token == reply->origin;
  auto s = judge(*reply, *req, m, interleaved, authenticated);
  if (!s) return;
  req->answered = true;
  if (verified) take_cookies(*s, std::move(*verified));
  if (plan_.nts && !verified) out_.nts.nak = true;
  // What the next interleaved request needs: this request's T1, this answer's T2 and T4.
  answered_.assign(
      1, exchange_record{date::from_sys_time(req->t1), req->t1_source, date::from_sys_time(m.time),
                         m.source, reply->receive, req->attempt});
  const bool kiss = s->assessed.result == verdict::kiss;
  if (kiss) out_.kiss_code = s->assessed.kiss_code;
  out_.samples.push_back(std::move(*s));
  // Kiss-o'-Death: RATE means slow down, DENY/RSTR mean go away; either way we stop.
  if (kiss) return finish(ntp_query_end::kissed);
  request_answered();
}

std::optional<ntp_sample> hear_broadcast(std::span<const std::uint8_t> bytes,
                                         const datagram_meta& m, duration assumed_delay,
                                         std::int8_t local_precision, ignore_reason* why) {
  auto fail = [&](ignore_reason r) {
    if (why) *why = r;
    return std::nullopt;
  };
  if (m.truncated) return fail(ignore_reason::oversized);
  auto p = parse_packet(bytes);
  if (!p) return fail(ignore_reason::malformed);
  if (p->mode != association_mode::broadcast) return fail(ignore_reason::mode);
  ntp_sample s;
  s.broadcast = true;
  s.reply = *p;
  s.t4_date = date::from_sys_time(m.time);
  s.t1_date = s.t4_date;
  s.t4_source = m.source;
  s.times = {timestamp{}, timestamp{}, p->transmit, s.t4_date.to_timestamp()};
  s.measured =
      measure_broadcast(p->transmit, s.times.t4, assumed_delay, p->precision, local_precision);
  reply_expectation e;
  e.local_precision = local_precision;
  s.assessed = assess_broadcast(*p, e);
  return s;
}

}  // namespace ntpkit::proto
