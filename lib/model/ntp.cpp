#include "ntpkit/model/ntp.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <utility>

namespace ntpkit::model {

std::string_view auth_status_name(auth_status s) noexcept {
  switch (s) {
    case auth_status::not_used:
      return "";
    case auth_status::authenticated:
      return "authenticated";
    case auth_status::bad_mac:
      return "bad_mac";
    case auth_status::no_mac:
      return "no_mac";
    case auth_status::unknown_key:
      return "unknown_key";
    case auth_status::crypto_nak:
      return "crypto_nak";
    case auth_status::no_reply:
      return "no_reply";
    case auth_status::bad_authenticator:
      return "bad_authenticator";
    case auth_status::no_authenticator:
      return "no_authenticator";
    case auth_status::unique_id_mismatch:
      return "unique_id_mismatch";
    case auth_status::nts_nak:
      return "nts_nak";
  }
  return "";
}

proto::date ntp_exchange::server_clock() const {
  const auto& b = best();
  // T4 + offset in wire arithmetic, placed in the era nearest T4 (exact, since |offset| <
  // 2^31 s), so that a conversion to system time saturates instead of overflowing.
  return proto::resolve_near(b.t4_date.to_timestamp() + b.measured.offset, b.t4_date);
}

proto::refid_info describe_refid(const sample& s) {
  if (s.refid_ipv6.empty()) return proto::decode_refid(s.reply.refid, s.reply.stratum);
  return {proto::refid_kind::ipv6_hash, s.refid_ipv6, "hash of the upstream's IPv6 address"};
}

bool add_ipv6_refid(ipv6_refid_table& table, const std::string& address) {
  std::array<std::uint8_t, 16> bytes{};
  if (::inet_pton(AF_INET6, address.c_str(), bytes.data()) != 1) return false;
  table.emplace(proto::refid_of_ipv6(std::span<const std::uint8_t, 16>(bytes)), address);
  return true;
}

void match_ipv6_refids(ntp_target& t, const ipv6_refid_table& table) {
  if (table.empty()) return;
  for (auto& a : t.addresses) {
    for (auto& s : a.samples) {
      if (s.reply.stratum < 2 || s.reply.stratum > 15) continue;
      if (const auto it = table.find(s.reply.refid); it != table.end()) s.refid_ipv6 = it->second;
    }
  }
}

namespace {

using proto::ignore_reason;

auth_status judge_nts_auth(const ntp_address& a) {
  if (a.nts->cookies_sent == 0) return auth_status::not_used;  // the key exchange failed
  if (a.nts->nak) return auth_status::nts_nak;
  if (a.selected) return auth_status::authenticated;
  const auto& i = a.ignored;
  if (i.count(ignore_reason::nts_auth)) return auth_status::bad_authenticator;
  if (i.count(ignore_reason::nts_unique_id)) return auth_status::unique_id_mismatch;
  if (i.count(ignore_reason::nts_missing)) return auth_status::no_authenticator;
  return auth_status::no_reply;
}

auth_status judge_auth(const ntp_address& a) {
  if (a.nts) return judge_nts_auth(a);
  if (!a.key) return auth_status::not_used;
  if (a.selected) return auth_status::authenticated;
  const auto& i = a.ignored;
  if (i.count(ignore_reason::mac) || i.count(ignore_reason::mac_length)) {
    return auth_status::bad_mac;
  }
  if (i.count(ignore_reason::mac_missing)) return auth_status::no_mac;
  if (i.count(ignore_reason::mac_key_id)) return auth_status::unknown_key;
  if (i.count(ignore_reason::crypto_nak)) return auth_status::crypto_nak;
  return auth_status::no_reply;
}

// The error a sample stands for when it is the last word of the address.
error_info judge_sample(const sample& s) {
  error_info e;
  switch (s.assessed.result) {
    case proto::verdict::kiss:
      e.kind = error_kind::kiss;
      e.cause = error_cause::kiss_received;
      e.kiss_code = s.assessed.kiss_code;
      break;
    case proto::verdict::unsynchronised:
      e.kind = error_kind::unsynchronised;
      e.cause =
          s.reply.stratum >= 16 ? error_cause::stratum_unsynchronised : error_cause::leap_alarm;
      e.stratum = s.reply.stratum;
      break;
    case proto::verdict::bad_mac:
      e.kind = error_kind::auth;
      e.cause = error_cause::reply_mac_bad;
      break;
    default:
      e.kind = error_kind::sanity;
      e.cause = error_cause::checks_failed;
      e.checks = s.assessed.checks;
      break;
  }
  return e;
}

bool mac_rejected(const proto::ignore_counts& ignored) {
  for (const auto& [reason, count] : ignored) {
    switch (reason) {
      case ignore_reason::mac:
      case ignore_reason::mac_missing:
      case ignore_reason::mac_key_id:
      case ignore_reason::mac_length:
      case ignore_reason::crypto_nak:
        return true;
      default:
        break;
    }
  }
  return false;
}

// With NTS: the error the NTP part stands for when NTS, not NTP, is the reason.
void conclude_nts(ntp_address& a, const error_info& ended) {
  auto& n = *a.nts;
  if (ended.cause == error_cause::nts_no_cookies_left) {
    // The server's answers did not replace the cookies: the samples asked for could not all
    // be taken, which is the server's fault even when some were (RFC 8915 §5.7).
    a.error = ended;
  } else if (n.nak) {
    a.error = failure(error_kind::nts, error_cause::nts_nak);
    a.error.kiss_code = "NTSN";
  } else if (!a.selected && a.samples.empty()) {
    const auto& i = a.ignored;
    if (i.count(ignore_reason::nts_auth)) {
      a.error = failure(error_kind::nts, error_cause::nts_bad_authenticator);
    } else if (i.count(ignore_reason::nts_unique_id)) {
      a.error = failure(error_kind::nts, error_cause::nts_unique_id_mismatch);
    } else if (i.count(ignore_reason::nts_missing)) {
      a.error = failure(error_kind::nts, error_cause::nts_unauthenticated);
    }
  }
  if (a.error.cause == error_cause::signing_failed) {
    a.error.kind = error_kind::nts;
    a.error.cause = error_cause::nts_seal_failed;
  }
  n.authenticated_samples = 0;
  for (const auto& s : a.samples) n.authenticated_samples += s.nts_authenticated ? 1 : 0;
  if (a.error && n.failed_step == nts_step::none) n.failed_step = nts_step::ntp;
}

}  // namespace

void conclude(ntp_address& a, error_info ended) {
  std::vector<proto::measurement> good;
  std::vector<std::size_t> index;
  const sample* kiss = nullptr;
  for (std::size_t i = 0; i < a.samples.size(); ++i) {
    const auto& s = a.samples[i];
    if (s.assessed.result == proto::verdict::ok) {
      good.push_back(s.measured);
      index.push_back(i);
    } else if (s.assessed.result == proto::verdict::kiss) {
      kiss = &s;
    }
  }
  a.selected.reset();
  a.jitter = {};
  a.root_distance = {};
  if (!good.empty()) {
    const auto best = proto::select_min_delay(good);
    a.selected = index[best];
    a.jitter = proto::offset_jitter(good, best);
    const auto& b = a.samples[*a.selected];
    a.root_distance = proto::root_distance(b.reply, b.measured, a.jitter);
  }
  a.shown = a.selected          ? a.selected
            : a.samples.empty() ? std::nullopt
                                : std::optional<std::size_t>(a.samples.size() - 1);
  if (kiss) {
    a.error = judge_sample(*kiss);
  } else if (ended.kind == error_kind::kiss || ended.kind == error_kind::interrupted) {
    a.error = ended;  // the address kissed another query of the run, or the run was stopped
  } else if (a.selected) {
    a.error = {};
  } else if (!a.samples.empty()) {
    a.error = judge_sample(a.samples.back());
  } else {
    a.error = ended;
    if (!a.error) a.error = failure(error_kind::timeout, error_cause::no_reply);
  }
  if (!a.selected && a.samples.empty() && mac_rejected(a.ignored)) {
    a.error = failure(error_kind::auth, error_cause::no_authenticated_reply);
  }
  if (a.nts) conclude_nts(a, ended);
  a.auth = judge_auth(a);
}

error_info end_error(const proto::ntp_query_outcome& o, std::chrono::milliseconds timeout) {
  using proto::ntp_query_end;
  error_info e;
  switch (o.end) {
    case ntp_query_end::running:
    case ntp_query_end::completed:
    case ntp_query_end::kissed:
      break;
    case ntp_query_end::timed_out:
      e.kind = error_kind::timeout;
      e.cause = error_cause::no_reply;
      e.waited = timeout;
      break;
    case ntp_query_end::kissed_elsewhere:
      e.kind = error_kind::kiss;
      e.cause = error_cause::kissed_earlier;
      e.kiss_code = o.kiss_code;
      e.requests_before = o.requests;
      break;
    case ntp_query_end::send_failed:
    case ntp_query_end::transport_failed:
      e = transport_error(o.error, o.end == ntp_query_end::send_failed);
      break;
    case ntp_query_end::sign_failed:
      e.kind = error_kind::auth;
      e.cause = error_cause::signing_failed;
      e.code = o.error;
      break;
    case ntp_query_end::nts_no_cookies:
      e.kind = error_kind::nts;
      e.cause = error_cause::nts_no_cookies_left;
      break;
  }
  return e;
}

error_info transport_error(std::error_code ec, bool sending) {
  error_info e;
  e.code = ec;
  if (ec == std::errc::connection_refused) {
    e.kind = error_kind::unreachable;
    e.cause = error_cause::port_unreachable;
  } else if (ec == std::errc::host_unreachable) {
    e.kind = error_kind::unreachable;
    e.cause = error_cause::host_unreachable;
  } else if (ec == std::errc::network_unreachable) {
    e.kind = error_kind::unreachable;
    e.cause = error_cause::network_unreachable;
  } else {
    e.kind = error_kind::network;
    e.cause = sending ? error_cause::send_failed : error_cause::receive_failed;
  }
  return e;
}

void take_outcome(ntp_address& a, proto::ntp_query_outcome&& o, std::chrono::milliseconds timeout) {
  const auto ended = end_error(o, timeout);
  a.requests += o.requests;
  for (const auto& [reason, count] : o.ignored) a.ignored.add(reason, count);
  if (a.nts) {
    a.nts->cookies_sent += o.nts.cookies_sent;
    a.nts->placeholders_sent += o.nts.placeholders_sent;
    a.nts->cookies_received += o.nts.cookies_received;
    a.nts->cookies_left = o.nts_cookies.size();
    a.nts->nak = a.nts->nak || o.nts.nak;
  }
  for (auto& s : o.samples) {
    sample m;
    static_cast<proto::ntp_sample&>(m) = std::move(s);
    a.samples.push_back(std::move(m));
  }
  conclude(a, ended);
}

}  // namespace ntpkit::model
