#include "ntpkit/report/json.hpp"

#include <nlohmann/json.hpp>

#include "ntpkit/proto/refid.hpp"
#include "ntpkit/report/census.hpp"
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

// ntpclients.

double ns_secs(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e9; }

ordered_json capture_time_json(proto::sys_nanoseconds t) {
  return {{"iso", iso8601(t)},
          {"unix", static_cast<double>(t.time_since_epoch().count()) / 1e9}};
}

ordered_json optional_time_json(const std::optional<proto::sys_nanoseconds>& t) {
  return t ? capture_time_json(*t) : ordered_json(nullptr);
}

const char* const census_modes[] = {"reserved", "symmetric_active", "symmetric_passive",
                                    "client",   "server",           "broadcast",
                                    "control",  "private"};

ordered_json split_json(const model::census_split& s) {
  ordered_json versions = ordered_json::object(), modes = ordered_json::object();
  for (std::size_t v = 0; v < 8; ++v) {
    if (s.by_version[v] > 0) versions[std::to_string(v)] = s.by_version[v];
    if (s.by_mode[v] > 0) modes[census_modes[v]] = s.by_mode[v];
  }
  return {{"ipv4", s.by_family[0]}, {"ipv6", s.by_family[1]}, {"by_version", versions},
          {"by_mode", modes}};
}

ordered_json latency_json(const model::latency_summary& s) {
  if (s.count == 0) return {{"count", 0}};
  return {{"count", s.count},          {"min", ns_secs(s.min)}, {"median", ns_secs(s.median)},
          {"p90", ns_secs(s.p90)},     {"p99", ns_secs(s.p99)}, {"max", ns_secs(s.max)}};
}

ordered_json histogram_json(const model::latency_histogram& h) {
  ordered_json buckets = ordered_json::array();
  for (std::size_t b = 0; b < h.counts.size(); ++b) {
    buckets.push_back({{"le", b < h.upper_bounds.size() ? ordered_json(ns_secs(h.upper_bounds[b]))
                                                        : ordered_json(nullptr)},
                       {"count", h.counts[b]}});
  }
  return {{"sum", ns_secs(h.sum)}, {"buckets", buckets}};
}

std::string endpoint_json(const model::ip_address& a, std::uint16_t port) {
  const auto t = model::to_string(a);
  return a.family == model::family::ipv6 ? "[" + t + "]:" + std::to_string(port)
                                         : t + ":" + std::to_string(port);
}

ordered_json census_doc(const model::clients_run& r, const json_meta& meta) {
  const auto& c = r.census;
  ordered_json inputs = ordered_json::array();
  for (const auto& in : r.inputs) {
    ordered_json j{{"name", printable(in.name)},
                   {"format", in.pcapng ? "pcapng" : "pcap"},
                   {"compressed", in.compressed},
                   {"link_type", in.link_type},
                   {"link_type_name", link_type_name(in.link_type)},
                   {"frames", in.frames},
                   {"complete", in.complete()},
                   {"error", nullptr}};
    if (r.source == model::census_source::live_capture) j.erase("format"), j.erase("compressed");
    if (!in.complete()) {
      j["error"] = {{"kind", in.error.category().name()},
                    {"code", in.error.value()},
                    {"message", printable(in.error.message())},
                    {"detail", printable(in.detail)}};
    }
    inputs.push_back(std::move(j));
  }
  ordered_json doc{{"schema", clients_schema_version},
                   {"tool", meta.tool},
                   {"version", meta.version},
                   {"source", r.source == model::census_source::live_capture ? "live"
                              : r.source == model::census_source::mru_list   ? "mru"
                                                                             : "pcap"},
                   {"ok", c.usable() && r.inputs_complete() && !r.interrupted},
                   {"interrupted", r.interrupted},
                   {"period", r.period},
                   {"started", optional_time_json(r.started)},
                   {"ended", optional_time_json(r.ended)},
                   {"inputs", inputs},
                   {"kernel", nullptr},
                   {"mru", nullptr}};
  if (r.mru) {
    const auto& m = *r.mru;
    ordered_json mru{{"server", printable(m.server)},
                     {"address", printable(m.address)},
                     {"outcome", proto::to_string(m.outcome)},
                     {"complete", m.complete()},
                     {"error", nullptr},
                     {"entries", m.entries},
                     {"rows_received", m.rows_received},
                     {"malformed_rows", m.malformed_rows},
                     {"requests", m.requests},
                     {"nonce_requests", m.nonce_requests},
                     {"restarts", m.restarts},
                     {"duration", ns_secs(m.duration)},
                     {"server_now", optional_time_json(m.server_now)}};
    if (m.error || !m.server_error.empty()) {
      mru["error"] = {{"kind", m.error ? m.error.category().name() : "ntpkit.control"},
                      {"code", m.error.value()},
                      {"message", printable(m.server_error.empty() ? m.error.message()
                                                                   : m.server_error)}};
    }
    if (!r.mru_entries.empty()) {
      ordered_json list = ordered_json::array();
      for (const auto& e : r.mru_entries) {
        ordered_json j{{"address", printable(e.address)},
                       {"first", capture_time_json(proto::to_sys_time(e.first))},
                       {"last", capture_time_json(proto::to_sys_time(e.last))},
                       {"count", e.count},
                       {"mode", e.mode_version & 7},
                       {"version", (e.mode_version >> 3) & 7},
                       {"restrictions", e.restrictions},
                       {"score", e.score ? ordered_json(*e.score) : ordered_json(nullptr)},
                       {"dropped", e.dropped ? ordered_json(*e.dropped) : ordered_json(nullptr)}};
        list.push_back(std::move(j));
      }
      mru["list"] = std::move(list);
    }
    doc["mru"] = std::move(mru);
  }
  if (r.kernel) {
    doc["kernel"] = {{"received", r.kernel->received},
                     {"dropped", r.kernel->dropped},
                     {"interface_dropped", r.kernel->interface_dropped}};
  }
  doc["server_port"] = c.server_port;
  doc["interval"] = ns_secs(c.interval);
  doc["response_timeout"] = ns_secs(c.response_timeout);
  doc["rate_limit"] = ns_secs(c.rate_limit);
  doc["first_time"] = optional_time_json(c.first_time);
  doc["last_time"] = optional_time_json(c.last_time);
  const auto& f = c.frames;
  doc["frames"] = {{"total", f.frames},
                   {"ntp", f.ntp},
                   {"other_udp", f.other_udp},
                   {"other_protocol", f.other_protocol},
                   {"not_ip", f.not_ip},
                   {"fragments", f.fragments},
                   {"fragments_ntp_port", f.fragments_ntp_port},
                   {"truncated", f.truncated},
                   {"bad_header", f.bad_header},
                   {"too_deep", f.too_deep},
                   {"unsupported_link", f.unsupported_link},
                   {"tunnelled", f.tunnelled},
                   {"vlan", f.vlan}};
  std::uint64_t requests = 0, responses = 0;
  for (const auto& i : c.intervals) {
    requests += i.requests;
    responses += i.responses;
  }
  doc["datagrams"] = {{"ntp", c.datagrams.ntp},
                      {"requests", requests},
                      {"responses", responses},
                      {"broadcasts", c.broadcasts},
                      {"malformed", c.datagrams.malformed},
                      {"truncated", c.datagrams.truncated},
                      {"header_only", c.datagrams.header_only},
                      {"split", split_json(c.datagrams.split)},
                      {"peak_per_second", c.peak_pps}};
  auto clients = split_json(c.client_split);
  clients["distinct"] = c.clients;
  clients["fast"] = c.fast_clients;
  clients["control"] = {{"distinct", c.control_clients}, {"packets", c.control_packets}};
  clients["spoofed"] = {{"distinct", c.spoofed_sources}, {"packets", c.spoofed_packets}};
  clients["table_bytes"] = c.client_table_bytes;
  doc["clients"] = std::move(clients);
  const auto& m = c.matching;
  doc["answers"] = {{"requests", m.requests},
                    {"matched", m.matched},
                    {"late", m.late},
                    {"unanswered", m.unanswered},
                    {"pending_at_end", m.pending_at_end},
                    {"dropped", m.dropped},
                    {"duplicate_requests", m.duplicate_requests},
                    {"duplicate_responses", m.duplicate_responses},
                    {"unmatched_responses", m.unmatched_responses},
                    {"negative_processing", m.negative_processing},
                    {"outstanding_peak", c.outstanding_peak}};
  auto delta = latency_json(c.delta);
  delta["histogram"] = histogram_json(c.delta_histogram);
  doc["delta"] = std::move(delta);
  auto processing = latency_json(c.processing);
  processing["histogram"] = histogram_json(c.processing_histogram);
  doc["processing"] = std::move(processing);
  ordered_json kisses = ordered_json::array();
  for (const auto& k : c.kisses) {
    kisses.push_back({{"code", printable(std::string_view(k.code.data(), 4))}, {"count", k.count}});
  }
  doc["kisses"] = std::move(kisses);
  ordered_json intervals = ordered_json::array();
  for (const auto& i : c.intervals) {
    auto split = split_json(i.client_split);
    intervals.push_back({{"start", capture_time_json(i.start)},
                         {"clients", i.clients},
                         {"client_split", std::move(split)},
                         {"control_clients", i.control_clients},
                         {"packets", i.packets},
                         {"packet_split", split_json(i.packet_split)},
                         {"requests", i.requests},
                         {"responses", i.responses},
                         {"peak_per_second", i.peak_pps},
                         {"delta", latency_json(i.delta)},
                         {"processing", latency_json(i.processing)}});
  }
  doc["intervals"] = std::move(intervals);
  ordered_json talkers = ordered_json::array();
  for (const auto& t : c.top_talkers) {
    talkers.push_back({{"address", model::to_string(t.address)},
                       {"family", t.address.family == model::family::ipv6 ? "ipv6" : "ipv4"},
                       {"requests", t.packets},
                       {"first_seen", capture_time_json(t.first_seen)},
                       {"last_seen", capture_time_json(t.last_seen)},
                       {"median_interval", t.median_interval
                                               ? ordered_json(ns_secs(*t.median_interval))
                                               : ordered_json(nullptr)}});
  }
  doc["top_talkers"] = std::move(talkers);
  ordered_json slowest = ordered_json::array();
  for (const auto& s : c.slowest) {
    auto file = [&](std::uint32_t i) {
      return i < r.inputs.size() ? ordered_json(printable(r.inputs[i].name))
                                 : ordered_json(nullptr);
    };
    slowest.push_back({{"delta", ns_secs(s.delta)},
                       {"client", endpoint_json(s.client, s.client_port)},
                       {"time", capture_time_json(s.time)},
                       {"request", {{"file", file(s.request_file)}, {"frame", s.request_frame}}},
                       {"response",
                        {{"file", file(s.response_file)}, {"frame", s.response_frame}}}});
  }
  doc["slowest"] = std::move(slowest);
  return doc;
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

std::string census_json(const model::clients_run& r, const json_meta& meta, bool one_line) {
  return dump(census_doc(r, meta), one_line ? -1 : 2) + "\n";
}

}  // namespace ntpkit::report
