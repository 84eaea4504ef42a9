#include "ntpkit/report/ntp_plugin.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

#include "ntpkit/proto/refid.hpp"
#include "ntpkit/report/describe.hpp"
#include "ntpkit/report/format.hpp"

namespace ntpkit::report {
namespace {

std::string where_of(const model::ntp_target& t, const model::ntp_address& a) {
  return t.host == a.address ? a.label : printable(t.host) + " " + a.label;
}

metric_row row(const char* label, double value, double judged, const thresholds& limits,
               const char* unit, const char* min, const char* max, int decimals = 9) {
  return {label, value, judged, "", limits, unit, min, max, decimals};
}

plugin_item judge_address(const model::ntp_target& t, const model::ntp_address& a,
                          const plugin_policy& p, const std::string& prefix) {
  plugin_item j;
  j.where = where_of(t, a);
  j.label_prefix = prefix;
  if (!a.selected) {
    const auto kind = a.error.kind;
    const bool silent = kind == model::error_kind::timeout ||
                        kind == model::error_kind::unreachable ||
                        kind == model::error_kind::network || kind == model::error_kind::none;
    j.state = silent && !p.no_reply_critical ? plugin_state::unknown : plugin_state::critical;
    j.summary = a.error ? address_error_text(a) : "no reply";
    return j;
  }
  const auto& b = a.best();
  const double distance = a.root_distance.to_seconds();
  const double offset = b.measured.offset.to_seconds() + p.time_offset_s;
  const double delay = b.measured.delay.to_seconds();
  const double jitter = a.jitter.to_seconds();
  const double processing = b.measured.processing.to_seconds();
  j.severity = std::fabs(offset);
  auto offset_row = row("offset", offset, std::fabs(offset), p.offset, "s", "", "");
  offset_row.judged_name = "|offset|";  // judged by its size, as check_ntp_time does
  j.judge(std::move(offset_row));
  j.judge(row("delay", delay, delay, p.delay, "s", "0", ""));
  j.judge(row("jitter", jitter, jitter, p.jitter, "s", "0", ""));
  j.judge(row("stratum", b.reply.stratum, b.reply.stratum, p.stratum, "", "0", "16", 0));
  j.judge(row("root_distance", distance, distance, p.root_distance, "s", "0", ""));
  j.judge(row("processing", processing, processing, p.processing, "s", "0", ""));
  const auto refid = model::describe_refid(b);
  j.summary = "offset " + signed_seconds(offset) + " s, delay " + plugin_number(delay) +
              " s, stratum " + std::to_string(b.reply.stratum) + ", refid " + refid.text;
  if (!p.expect_refid.empty() &&
      std::none_of(p.expect_refid.begin(), p.expect_refid.end(), [&](const std::string& e) {
        return refid_matches(b.reply.refid, b.reply.stratum, e);
      })) {
    j.raise(plugin_state::critical, "refid " + refid.text + " is not the expected one");
  }
  const auto leap = b.reply.leap;
  if ((leap == proto::leap_indicator::add_second || leap == proto::leap_indicator::del_second) &&
      !p.leap_ok) {
    j.raise(plugin_state::warning,
            std::string("leap second pending (") + std::string(leap_name(leap)) + ")");
  }
  // A kiss that came after good answers: the server still told us to go away or slow down.
  if (a.error.kind == model::error_kind::kiss) {
    j.raise(plugin_state::critical, address_error_text(a));
  }
  return j;
}

}  // namespace

bool refid_matches(const std::array<std::uint8_t, 4>& refid, std::uint8_t stratum,
                   std::string_view expected) {
  const auto info = proto::decode_refid(refid, stratum);
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  if (lower(info.text) == lower(expected)) return true;
  if (lower(refid_hex(refid)) == lower(expected)) return true;
  std::array<std::uint8_t, 16> v6{};
  const std::string e(expected);
  if (::inet_pton(AF_INET6, e.c_str(), v6.data()) == 1) {
    return proto::refid_of_ipv6(std::span<const std::uint8_t, 16>(v6)) == refid;
  }
  return false;
}

namespace {

// Perfdata label prefixes, unique and stable for the same command line: the address alone
// when no other address of the run has it, else address and port, else the target as given
// and the address and port (one address behind two names on the same port).
std::vector<std::string> label_prefixes(const model::ntp_run& r) {
  std::map<std::string, int> by_address, by_label;
  for (const auto& t : r.targets) {
    for (const auto& a : t.addresses) {
      ++by_address[a.address];
      ++by_label[a.label];
    }
  }
  std::vector<std::string> out;
  for (const auto& t : r.targets) {
    for (const auto& a : t.addresses) {
      out.push_back(by_address[a.address] == 1 ? a.address + " "
                    : by_label[a.label] == 1   ? a.label + " "
                                               : printable(t.spec) + " " + a.label + " ");
    }
  }
  return out;
}

}  // namespace

std::vector<plugin_item> ntp_plugin_items(const model::ntp_run& r, const plugin_policy& p) {
  std::vector<plugin_item> all;
  std::size_t addresses = 0;
  for (const auto& t : r.targets) addresses += t.addresses.size();
  const bool many = r.targets.size() > 1 || addresses > 1;
  const auto prefixes = label_prefixes(r);
  std::size_t n = 0;
  for (const auto& t : r.targets) {
    if (t.error) {
      plugin_item j;
      j.where = printable(t.spec);
      j.state = plugin_state::unknown;
      j.summary = target_error_text(t);
      all.push_back(std::move(j));
      continue;
    }
    for (const auto& a : t.addresses) {
      all.push_back(judge_address(t, a, p, many ? prefixes[n] : ""));
      ++n;
    }
  }
  return all;
}

plugin_output evaluate_plugin(const model::ntp_run& r, const plugin_policy& p) {
  combine_options o;
  o.min_ok = p.min_ok;
  return combine(ntp_plugin_items(r, p), o);
}

}  // namespace ntpkit::report
