#include "ntpkit/report/text.hpp"

#include <cstdio>

#include "ntpkit/proto/refid.hpp"
#include "ntpkit/report/format.hpp"

namespace ntpkit::report {
namespace {

std::string where(const target_report& t, const address_report& a) {
  std::string s = a.ipv6 ? "[" + a.address + "]" : a.address;
  s += ":" + std::to_string(a.port);
  if (t.host != a.address) s += " (" + t.host + ")";
  return s;
}

std::string refid_text(const sample& s) {
  const auto info = describe_refid(s);
  switch (info.kind) {
    case proto::refid_kind::none: return "-";
    case proto::refid_kind::ipv6_hash:
      return s.refid_ipv6.empty() ? "ipv6-hash:" + info.text : info.text + " (IPv6 hash)";
    case proto::refid_kind::ipv4: return info.text;
    default: return "." + info.text + ".";
  }
}

std::string error_line(const error_info& e) {
  return "error " + std::string(error_kind_name(e.kind)) + ": " + e.message;
}

std::string summary_line(const target_report& t, const address_report& a) {
  std::string line;
  if (a.ok()) {
    const auto& b = a.best();
    // The server's clock at T4, as a date: T4 + offset in wire arithmetic, placed in the era
    // nearest T4 (exact, since |offset| < 2^31 s), so that the conversion to system time
    // saturates instead of overflowing a time_point near its limits.
    const auto server_now =
        proto::resolve_near(b.t4_date.to_timestamp() + b.measured.offset, b.t4_date)
            .to_sys_time();
    const double error = proto::root_distance(b.reply, b.measured, a.jitter).to_seconds();
    line = iso8601(server_now, 6) + "  " + where(t, a) + "  offset " +
           signed_seconds(b.measured.offset.to_seconds()) + " ±" + seconds(error, 6) +
           " s  delay " + seconds(b.measured.delay.to_seconds()) + " s  stratum " +
           std::to_string(b.reply.stratum) + "  refid " + refid_text(b) + "  leap " +
           std::string(leap_name(b.reply.leap));
    if (a.key) line += "  authenticated (key " + std::to_string(a.key->key_id) + ")";
  } else {
    line = where(t, a) + "  " + error_line(a.error);
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
  const auto refid = describe_refid(s);
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
                                  "  " + std::string(time_source_name(s.t1_source)));
    field(out, "  T2 receive", server_time(s.times.t2, s.t1_date));
  }
  field(out, "  T3 transmit", server_time(s.times.t3, s.t1_date));
  field(out, "  T4 destination", iso8601(s.t4_date.to_sys_time()) + "  " +
                                     ntp_hex(s.times.t4) + "  " +
                                     std::string(time_source_name(s.t4_source)));
  field(out, "  offset", duration_text(s.measured.offset));
  field(out, "  delay", duration_text(s.measured.delay));
  field(out, "  processing", duration_text(s.measured.processing) + "  (T3 - T2)");
  field(out, "  dispersion", duration_text(s.measured.dispersion));
  field(out, "  checks", checks_text(s.assessed.checks));
}

std::string verbose_block(const target_report& t, const address_report& a) {
  std::string out = where(t, a) + "\n";
  field(out, "status", a.ok() ? std::string("ok") : error_line(a.error));
  std::string traffic = std::to_string(a.requests) + " request(s), " +
                        std::to_string(a.samples.size()) + " reply(ies) taken";
  for (const auto& i : a.ignored) {
    traffic += ", " + std::to_string(i.count) + " ignored (" + i.reason + ")";
  }
  field(out, "traffic", traffic);
  if (a.key) {
    field(out, "authentication",
          "key " + std::to_string(a.key->key_id) + " " + a.key->algorithm + ", " +
              std::to_string(a.key->digest_bytes) + "-byte digest in NTPv" +
              std::to_string(a.key->version) + ": " +
              std::string(auth_status(a)));
  }
  if (a.selected) {
    const auto& b = a.best();
    field(out, "offset", duration_text(b.measured.offset));
    field(out, "delay", duration_text(b.measured.delay));
    field(out, "processing", duration_text(b.measured.processing) + "  (T3 - T2)");
    field(out, "jitter", duration_text(a.jitter));
    field(out, "root distance",
          duration_text(proto::root_distance(b.reply, b.measured, a.jitter)));
  }
  const sample* shown = a.selected ? &a.best() : a.samples.empty() ? nullptr : &a.samples.back();
  if (shown) header_block(out, *shown);
  for (std::size_t i = 0; i < a.samples.size(); ++i) {
    sample_block(out, a.samples[i], i, a.selected == i);
  }
  return out;
}

}  // namespace

std::string target_text(const target_report& t, bool verbose) {
  if (t.error) return t.spec + "  " + error_line(t.error) + "\n";
  std::string out;
  for (const auto& a : t.addresses) {
    out += verbose ? verbose_block(t, a) : summary_line(t, a);
  }
  return out;
}

std::string probe_text(const probe_report& r, bool verbose) {
  std::string out;
  for (const auto& t : r.targets) out += target_text(t, verbose);
  return out;
}

}  // namespace ntpkit::report
