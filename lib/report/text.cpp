#include "ntpkit/report/text.hpp"

#include <cstdio>

#include "ntpkit/proto/refid.hpp"
#include "ntpkit/report/describe.hpp"
#include "ntpkit/report/format.hpp"

namespace ntpkit::report {
namespace {

using model::ntp_address;
using model::ntp_target;
using model::sample;

std::string refid_text(const sample& s) {
  const auto info = model::describe_refid(s);
  switch (info.kind) {
    case proto::refid_kind::none: return "-";
    case proto::refid_kind::ipv6_hash:
      return s.refid_ipv6.empty() ? "ipv6-hash:" + info.text : info.text + " (IPv6 hash)";
    case proto::refid_kind::ipv4: return info.text;
    default: return "." + info.text + ".";
  }
}

std::string error_line(const model::error_info& e, const std::string& message) {
  return "error " + std::string(model::error_kind_name(e.kind)) + ": " + message;
}

std::string summary_line(const ntp_target& t, const ntp_address& a) {
  std::string line;
  if (a.ok()) {
    const auto& b = a.best();
    const double error = a.root_distance.to_seconds();
    line = iso8601(a.server_clock().to_sys_time(), 6) + "  " + printable(t.describe(a)) + "  offset " +
           signed_seconds(b.measured.offset.to_seconds()) + " ±" + seconds(error, 6) +
           " s  delay " + seconds(b.measured.delay.to_seconds()) + " s  stratum " +
           std::to_string(b.reply.stratum) + "  refid " + refid_text(b) + "  leap " +
           std::string(leap_name(b.reply.leap));
    if (a.key) line += "  authenticated (key " + std::to_string(a.key->key_id) + ")";
  } else {
    line = printable(t.describe(a)) + "  " + error_line(a.error, address_error_text(a));
  }
  return line + "\n";
}

void field(std::string& out, const char* name, const std::string& value) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "  %-17s", name);
  out += buf + value + "\n";
}

std::string duration_text(proto::duration d) { return signed_seconds(d.to_seconds()) + " s"; }

std::string server_time(proto::timestamp ts, proto::date near) {
  if (ts.is_zero()) return "(zero)          " + ntp_hex(ts);
  return iso8601(proto::resolve_near(ts, near).to_sys_time()) + "  " + ntp_hex(ts);
}

void header_block(std::string& out, const sample& s) {
  const auto& p = s.reply;
  const auto refid = model::describe_refid(s);
  field(out, "leap", std::string(leap_name(p.leap)) + " (" + std::to_string(int(p.leap)) + ")");
  field(out, "version", std::to_string(p.version));
  field(out, "mode", std::string(mode_name(p.mode)) + " (" + std::to_string(int(p.mode)) + ")");
  field(out, "stratum", std::to_string(p.stratum));
  field(out, "poll", std::to_string(p.poll) + " (2^" + std::to_string(p.poll) + " s)");
  field(out, "precision", std::to_string(p.precision) + " (" +
                              seconds(proto::duration::from_log2(p.precision).to_seconds()) + " s)");
  field(out, "root delay", seconds(p.root_delay.to_duration().to_seconds()) + " s");
  field(out, "root dispersion", seconds(p.root_dispersion.to_duration().to_seconds()) + " s");
  std::string r = refid_text(s) + "  " + refid_hex(p.refid) + "  " +
                  std::string(refid_kind_name(refid.kind));
  if (!refid.meaning.empty()) r += ": " + std::string(refid.meaning);
  field(out, "refid", r);
  field(out, "reference time", server_time(p.reference, s.t1_date));
  field(out, "extensions", std::to_string(p.extensions.size()) + " field(s)");
  field(out, "mac", p.mac ? "key " + std::to_string(p.mac->key_id) + ", " +
                                std::to_string(p.mac->digest.size()) + "-byte digest"
                          : std::string("none"));
}

std::string checks_text(const proto::check_results& c) {
  std::string passed, failed;
  for (std::size_t i = 0; i < proto::check_count; ++i) {
    const auto k = static_cast<proto::check>(i);
    if (!c.ran(k)) continue;
    auto& list = c.failed(k) ? failed : passed;
    list += (list.empty() ? "" : " ") + std::string(proto::check_name(k));
  }
  return failed.empty() ? "all passed (" + passed + ")" : "FAILED " + failed + "; passed " + passed;
}

void sample_block(std::string& out, const sample& s, std::size_t i, bool selected) {
  out += "  sample " + std::to_string(i + 1) + (s.interleaved ? " (interleaved)" : "") +
         (selected ? " (selected)" : "") + ": " +
         std::string(proto::verdict_name(s.assessed.result)) + "\n";
  if (s.broadcast) {
    field(out, "  T1, T2", "none: a broadcast, not an answer");
  } else {
    field(out, "  T1 origin", iso8601(s.t1_date.to_sys_time()) + "  " + ntp_hex(s.times.t1) +
                                  "  " + std::string(proto::time_source_name(s.t1_source)));
    field(out, "  T2 receive", server_time(s.times.t2, s.t1_date));
  }
  field(out, "  T3 transmit", server_time(s.times.t3, s.t1_date));
  field(out, "  T4 destination", iso8601(s.t4_date.to_sys_time()) + "  " +
                                     ntp_hex(s.times.t4) + "  " +
                                     std::string(proto::time_source_name(s.t4_source)));
  field(out, "  offset", duration_text(s.measured.offset));
  field(out, "  delay", duration_text(s.measured.delay));
  field(out, "  processing", duration_text(s.measured.processing) + "  (T3 - T2)");
  field(out, "  dispersion", duration_text(s.measured.dispersion));
  field(out, "  checks", checks_text(s.assessed.checks));
}

std::string verbose_block(const ntp_target& t, const ntp_address& a) {
  std::string out = printable(t.describe(a)) + "\n";
  field(out, "status", a.ok() ? std::string("ok") : error_line(a.error, address_error_text(a)));
  std::string traffic = std::to_string(a.requests) + " request(s), " +
                        std::to_string(a.samples.size()) + " reply(ies) taken";
  for (const auto& [reason, count] : a.ignored) {
    traffic += ", " + std::to_string(count) + " ignored (" +
               std::string(proto::ignore_reason_name(reason)) + ")";
  }
  field(out, "traffic", traffic);
  if (a.key) {
    field(out, "authentication",
          "key " + std::to_string(a.key->key_id) + " " +
              std::string(proto::to_string(a.key->algorithm)) + ", " +
              std::to_string(a.key->digest_bytes) + "-byte digest in NTPv" +
              std::to_string(a.key->version) + ": " +
              std::string(model::auth_status_name(a.auth)));
  }
  if (a.selected) {
    const auto& b = a.best();
    field(out, "offset", duration_text(b.measured.offset));
    field(out, "delay", duration_text(b.measured.delay));
    field(out, "processing", duration_text(b.measured.processing) + "  (T3 - T2)");
    field(out, "jitter", duration_text(a.jitter));
    field(out, "root distance", duration_text(a.root_distance));
  }
  if (const auto* shown = a.shown_sample()) header_block(out, *shown);
  for (std::size_t i = 0; i < a.samples.size(); ++i) {
    sample_block(out, a.samples[i], i, a.selected == i);
  }
  return out;
}

}  // namespace

std::string target_text(const ntp_target& t, bool verbose) {
  if (t.error) return printable(t.spec) + "  " + error_line(t.error, target_error_text(t)) + "\n";
  std::string out;
  for (const auto& a : t.addresses) {
    out += verbose ? verbose_block(t, a) : summary_line(t, a);
  }
  return out;
}

std::string probe_text(const model::ntp_run& r, bool verbose) {
  std::string out;
  for (const auto& t : r.targets) out += target_text(t, verbose);
  return out;
}

}  // namespace ntpkit::report
