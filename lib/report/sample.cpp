#include "ntpkit/report/sample.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include "ntpkit/proto/refid.hpp"

namespace ntpkit::report {

std::string_view error_kind_name(error_kind k) noexcept {
  switch (k) {
    case error_kind::none: return "none";
    case error_kind::resolve: return "resolve";
    case error_kind::timeout: return "timeout";
    case error_kind::unreachable: return "unreachable";
    case error_kind::network: return "network";
    case error_kind::kiss: return "kiss";
    case error_kind::unsynchronised: return "unsynchronised";
    case error_kind::sanity: return "sanity";
    case error_kind::auth: return "auth";
    case error_kind::usage: return "usage";
  }
  return "unknown";
}

std::string_view time_source_name(time_source s) noexcept {
  return s == time_source::kernel ? "kernel" : "user";
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

void match_ipv6_refids(target_report& t, const ipv6_refid_table& table) {
  if (table.empty()) return;
  for (auto& a : t.addresses) {
    for (auto& s : a.samples) {
      if (s.reply.stratum < 2 || s.reply.stratum > 15) continue;
      if (const auto it = table.find(s.reply.refid); it != table.end()) s.refid_ipv6 = it->second;
    }
  }
}

std::string_view auth_status(const address_report& a) noexcept {
  if (!a.key) return {};
  if (a.selected) return "authenticated";
  auto seen = [&](std::string_view reason) {
    return std::any_of(a.ignored.begin(), a.ignored.end(),
                       [&](const ignored_count& i) { return i.reason == reason; });
  };
  if (seen("mac") || seen("mac_length")) return "bad_mac";
  if (seen("mac_missing")) return "no_mac";
  if (seen("mac_key_id")) return "unknown_key";
  if (seen("crypto_nak")) return "crypto_nak";
  return "no_reply";
}

void address_report::ignore(std::string_view reason) {
  auto it = std::find_if(ignored.begin(), ignored.end(),
                         [&](const ignored_count& c) { return c.reason == reason; });
  if (it == ignored.end()) {
    ignored.push_back({std::string(reason), 1});
  } else {
    ++it->count;
  }
}

bool target_report::ok() const noexcept {
  return !error && !addresses.empty() &&
         std::all_of(addresses.begin(), addresses.end(),
                     [](const address_report& a) { return a.ok(); });
}

bool probe_report::ok() const noexcept {
  return std::all_of(targets.begin(), targets.end(),
                     [](const target_report& t) { return t.ok(); });
}

namespace {

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

std::string ignored_text(const std::vector<ignored_count>& ignored) {
  std::string out;
  for (const auto& i : ignored) {
    out += out.empty() ? "" : ", ";
    out += std::to_string(i.count) + " " + i.reason;
  }
  return out;
}

error_info judge_last(const sample& s) {
  const auto& a = s.assessed;
  switch (a.result) {
    case proto::verdict::kiss: {
      const auto meaning = proto::kiss_code_meaning(a.kiss_code);
      std::string text = "kiss-o'-death " + a.kiss_code;
      if (!meaning.empty()) text += " (" + std::string(meaning) + ")";
      if (a.kiss_code == "DENY" || a.kiss_code == "RSTR") text = "server refuses us: " + text;
      return {error_kind::kiss, text + "; no further requests sent", a.kiss_code};
    }
    case proto::verdict::unsynchronised:
      return {error_kind::unsynchronised,
              s.reply.stratum >= 16 ? "server unsynchronised (stratum " +
                                          std::to_string(s.reply.stratum) + ")"
                                    : std::string("server unsynchronised (leap indicator 3)"),
              {}};
    case proto::verdict::bad_mac:
      return {error_kind::auth, "reply MAC does not verify", {}};
    default:
      return {error_kind::sanity, "reply failed sanity checks: " + failed_checks(a.checks), {}};
  }
}

}  // namespace

void conclude(address_report& a, error_info transport) {
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
  if (!good.empty()) {
    const auto best = proto::select_min_delay(good);
    a.selected = index[best];
    a.jitter = proto::offset_jitter(good, best);
  }
  if (kiss) {
    a.error = judge_last(*kiss);
  } else if (transport.kind == error_kind::kiss) {
    a.error = transport;  // the address kissed another query of the run
  } else if (a.selected) {
    a.error = {};
  } else if (!a.samples.empty()) {
    a.error = judge_last(a.samples.back());
  } else {
    a.error = transport;
    if (!a.error) a.error = {error_kind::timeout, "no reply", {}};
  }
  const bool rejected_mac = std::any_of(a.ignored.begin(), a.ignored.end(), [](auto& i) {
    return i.reason.starts_with("mac") || i.reason == "crypto_nak";
  });
  if (!a.selected && a.samples.empty() && rejected_mac) {
    a.error = {error_kind::auth, "no reply passed authentication", {}};
  } else if (a.key && a.error.kind == error_kind::timeout) {
    a.error.message += "; servers drop requests whose MAC they reject, so the server may not "
                       "know key " + std::to_string(a.key->key_id) + " or hold another secret";
  }
  if (a.error && !a.selected && !a.ignored.empty()) {
    a.error.message += " (ignored: " + ignored_text(a.ignored) + ")";
  }
}

}  // namespace ntpkit::report
