#include "ntpkit/report/json.hpp"

#include <nlohmann/json.hpp>

#include "ntpkit/proto/refid.hpp"
#include "ntpkit/report/describe.hpp"
#include "ntpkit/report/format.hpp"

namespace ntpkit::report {
namespace {

using nlohmann::ordered_json;
using model::ntp_address;
using model::ntp_target;
using model::sample;

double secs(proto::duration d) { return d.to_seconds(); }

ordered_json timestamp_json(proto::date d) {
  return {{"iso", iso8601(d.to_sys_time())}, {"ntp", ntp_hex(d.to_timestamp())}};
}

// A server timestamp, placed in the era nearest our own clock reading.
ordered_json server_time_json(proto::timestamp ts, proto::date near) {
  if (ts.is_zero()) return {{"iso", nullptr}, {"ntp", ntp_hex(ts)}};
  return timestamp_json(proto::resolve_near(ts, near));
}

ordered_json error_json(const model::error_info& e, const std::string& message) {
  if (!e) return nullptr;
  ordered_json j{{"kind", model::error_kind_name(e.kind)}, {"message", message}};
  if (!e.kiss_code.empty()) j["kiss_code"] = e.kiss_code;
  return j;
}

ordered_json refid_json(const sample& s) {
  const auto& p = s.reply;
  const auto info = model::describe_refid(s);
  ordered_json j{{"raw", refid_hex(p.refid)},
                 {"text", info.text},
                 {"kind", refid_kind_name(info.kind)}};
  if (!info.meaning.empty()) j["meaning"] = info.meaning;
  return j;
}

ordered_json server_json(const sample& s) {
  const auto& p = s.reply;
  return {{"leap", static_cast<int>(p.leap)},
          {"leap_name", leap_name(p.leap)},
          {"version", p.version},
          {"mode", static_cast<int>(p.mode)},
          {"mode_name", mode_name(p.mode)},
          {"stratum", p.stratum},
          {"poll", p.poll},
          {"precision", p.precision},
          {"precision_seconds", secs(proto::duration::from_log2(p.precision))},
          {"root_delay", secs(p.root_delay.to_duration())},
          {"root_dispersion", secs(p.root_dispersion.to_duration())},
          {"refid", refid_json(s)},
          {"reference_time", server_time_json(p.reference, s.t1_date)},
          {"extension_fields", p.extensions.size()},
          {"mac", p.mac ? ordered_json{{"key_id", p.mac->key_id},
                                       {"digest_bytes", p.mac->digest.size()}}
                        : ordered_json(nullptr)}};
}

ordered_json checks_json(const proto::check_results& c) {
  ordered_json j = ordered_json::object();
  for (std::size_t i = 0; i < proto::check_count; ++i) {
    const auto k = static_cast<proto::check>(i);
    if (c.ran(k)) j[std::string(proto::check_name(k))] = c.passed(k);
  }
  return j;
}

ordered_json sample_json(const sample& s, bool selected) {
  auto t1 = timestamp_json(s.t1_date);
  t1["source"] = proto::time_source_name(s.t1_source);
  auto t4 = timestamp_json(s.t4_date);
  t4["source"] = proto::time_source_name(s.t4_source);
  ordered_json j{{"attempt", s.attempt},
                 {"selected", selected},
                 {"broadcast", s.broadcast},
                 {"interleaved", s.interleaved},
                 {"verdict", proto::verdict_name(s.assessed.result)},
                 {"t1", s.broadcast ? ordered_json(nullptr) : t1},
                 {"t2", s.broadcast ? ordered_json(nullptr) : server_time_json(s.times.t2, s.t1_date)},
                 {"t3", server_time_json(s.times.t3, s.t1_date)},
                 {"t4", t4},
                 {"offset", secs(s.measured.offset)},
                 {"delay", secs(s.measured.delay)},
                 {"processing", secs(s.measured.processing)},
                 {"dispersion", secs(s.measured.dispersion)},
                 {"checks", checks_json(s.assessed.checks)}};
  if (!s.assessed.kiss_code.empty()) j["kiss_code"] = s.assessed.kiss_code;
  return j;
}

ordered_json address_json(const ntp_address& a) {
  ordered_json j{{"address", a.address},
                 {"port", a.port},
                 {"family", model::family_name(a.family)},
                 {"ok", a.ok()},
                 {"error", error_json(a.error, address_error_text(a))},
                 {"requests", a.requests},
                 {"replies", a.samples.size()}};
  ordered_json ignored = ordered_json::object();
  for (const auto& [reason, count] : a.ignored) {
    ignored[std::string(proto::ignore_reason_name(reason))] = count;
  }
  j["ignored"] = ignored;
  if (a.key) {
    j["authentication"] = {{"key_id", a.key->key_id},
                           {"algorithm", proto::to_string(a.key->algorithm)},
                           {"digest_bytes", a.key->digest_bytes},
                           {"request_version", a.key->version},
                           {"status", model::auth_status_name(a.auth)}};
  } else {
    j["authentication"] = nullptr;
  }
  const sample* shown = a.shown_sample();
  if (a.selected) {
    const auto& b = a.best();
    j["offset"] = secs(b.measured.offset);
    j["delay"] = secs(b.measured.delay);
    j["processing"] = secs(b.measured.processing);
    j["dispersion"] = secs(b.measured.dispersion);
    j["jitter"] = secs(a.jitter);
    j["root_distance"] = secs(a.root_distance);
  } else {
    for (const char* k : {"offset", "delay", "processing", "dispersion", "jitter", "root_distance"})
      j[k] = nullptr;
  }
  j["server"] = shown ? server_json(*shown) : ordered_json(nullptr);
  ordered_json samples = ordered_json::array();
  for (std::size_t i = 0; i < a.samples.size(); ++i) {
    samples.push_back(sample_json(a.samples[i], a.selected == i));
  }
  j["samples"] = std::move(samples);
  return j;
}

ordered_json target_json(const ntp_target& t) {
  ordered_json addresses = ordered_json::array();
  for (const auto& a : t.addresses) addresses.push_back(address_json(a));
  return {{"target", t.spec},
          {"host", t.host},
          {"port", t.port},
          {"ok", t.ok()},
          {"error", error_json(t.error, target_error_text(t))},
          {"addresses", std::move(addresses)}};
}

std::string dump(const ordered_json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

// `text` with `prefix` at the start of every line (JSON strings hold no raw newlines).
std::string indented(const std::string& text, const std::string& prefix) {
  std::string out = prefix;
  out.reserve(text.size() + text.size() / 8);
  for (const char c : text) {
    out += c;
    if (c == '\n') out += prefix;
  }
  return out;
}

}  // namespace

void write_probe_json(const model::ntp_run& r, const json_meta& meta, const json_sink& write) {
  const auto c = r.counts();
  const auto targets_ok = c.targets_ok, addresses = c.addresses, ok = c.addresses_ok;
  ordered_json doc{{"schema", probe_schema_version},
                   {"tool", meta.tool},
                   {"version", meta.version},
                   {"started", timestamp_json(r.started)},
                   {"ok", r.ok()},
                   {"summary",
                    {{"targets", r.targets.size()},
                     {"targets_ok", targets_ok},
                     {"targets_failed", r.targets.size() - targets_ok},
                     {"addresses", addresses},
                     {"addresses_ok", ok},
                     {"addresses_failed", addresses - ok}}},
                   {"targets", ordered_json::array()}};
  auto head = dump(doc, 2);
  if (r.targets.empty()) {
    write(head + "\n");
    return;
  }
  // "targets" is the last key: the dump ends in "[]\n}". Each target goes between the
  // brackets as nlohmann would place it, two levels deep, so only one target's tree exists
  // at a time.
  head.resize(head.size() - 3);
  write(head);
  for (std::size_t i = 0; i < r.targets.size(); ++i) {
    write((i == 0 ? "\n" : ",\n") + indented(dump(target_json(r.targets[i]), 2), "    "));
  }
  write("\n  ]\n}\n");
}

std::string probe_json(const model::ntp_run& r, const json_meta& meta) {
  std::string out;
  write_probe_json(r, meta, [&](const std::string& piece) { out += piece; });
  return out;
}

std::string target_json_line(const model::ntp_target& t, const json_meta& meta) {
  auto j = target_json(t);
  ordered_json line{{"schema", probe_schema_version}, {"tool", meta.tool}};
  line.update(j);
  return dump(line, -1) + "\n";
}

}  // namespace ntpkit::report
