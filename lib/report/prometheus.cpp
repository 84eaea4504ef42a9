#include "ntpkit/report/prometheus.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <unordered_set>
#include <vector>

#include "ntpkit/proto/refid.hpp"
#include "ntpkit/report/format.hpp"

namespace ntpkit::report {
namespace {

// Every family, in the order they are written. Names follow the Prometheus conventions: one
// prefix, base units in the name (_seconds), _info for label-only series valued 1.
namespace fam {
enum id : std::size_t {
  build_info,
  last_run,
  up,
  requests,
  replies,
  offset,
  delay,
  processing,
  dispersion,
  jitter,
  root_distance,
  root_delay,
  root_dispersion,
  stratum,
  leap,
  precision,
  reference_time,
  server_info,
  error_info,
  family_count,
};
}  // namespace fam

struct family_def {
  const char* name;
  const char* help;
};

constexpr std::array<family_def, fam::family_count> families = {{
    {"ntpkit_build_info", "Tool and version that wrote these metrics; always 1."},
    {"ntpkit_last_run_timestamp_seconds",
     "Unix time at which the run that wrote these "
     "metrics started."},
    {"ntpkit_up", "1 when the address gave a reply that passed every check, else 0."},
    {"ntpkit_requests", "Requests sent to the address in the last run."},
    {"ntpkit_replies", "Replies accepted from the address in the last run."},
    {"ntpkit_offset_seconds",
     "Offset of the server's clock from the local clock (server "
     "minus local) in the selected sample."},
    {"ntpkit_delay_seconds", "Round-trip delay of the selected sample, (T4-T1)-(T3-T2)."},
    {"ntpkit_processing_seconds",
     "Time the server held the request, T3-T2, in the selected "
     "sample."},
    {"ntpkit_dispersion_seconds",
     "Dispersion of the selected sample (both precisions plus "
     "15 ppm of the round trip)."},
    {"ntpkit_jitter_seconds",
     "RMS of the other samples' offsets from the selected one "
     "(0 with one sample)."},
    {"ntpkit_root_distance_seconds",
     "Root synchronisation distance as seen from here: "
     "(root delay + delay)/2 + root dispersion + dispersion + "
     "jitter."},
    {"ntpkit_root_delay_seconds", "Root delay the server reports."},
    {"ntpkit_root_dispersion_seconds", "Root dispersion the server reports."},
    {"ntpkit_stratum", "Stratum the server reports (16: unsynchronised)."},
    {"ntpkit_leap",
     "Leap indicator the server reports: 0 none, 1 insert a second, 2 delete "
     "a second, 3 unsynchronised."},
    {"ntpkit_precision_seconds", "Precision of the server's clock, 2^precision."},
    {"ntpkit_reference_timestamp_seconds",
     "Unix time at which the server's clock was last "
     "set or corrected (its reference timestamp)."},
    {"ntpkit_server_info", "Header fields of the server's reply as labels; always 1."},
    {"ntpkit_error_info",
     "Why the address (or the name) failed: error kind and Kiss-o'-Death "
     "code; always 1."},
}};

double unix_seconds(proto::date d) {
  return static_cast<double>(d.to_sys_time().time_since_epoch().count()) / 1e9;
}

// ntpprobe's families, declared in the order they are written.
struct ntp_families {
  exposition m;
  std::size_t id[fam::family_count];
  ntp_families() {
    for (std::size_t f = 0; f < fam::family_count; ++f) {
      id[f] = m.family(families[f].name, families[f].help, metric_type::gauge);
    }
  }
  void add(fam::id f, const label_set& labels, double value) { m.add(id[f], labels, value); }
};

label_set with(label_set base, std::initializer_list<std::pair<std::string, std::string>> more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

void add_header(ntp_families& m, const label_set& where, const model::sample& s) {
  const auto& p = s.reply;
  m.add(fam::root_delay, where, p.root_delay.to_duration().to_seconds());
  m.add(fam::root_dispersion, where, p.root_dispersion.to_duration().to_seconds());
  m.add(fam::stratum, where, p.stratum);
  m.add(fam::leap, where, static_cast<double>(p.leap));
  m.add(fam::precision, where, proto::duration::from_log2(p.precision).to_seconds());
  if (!p.reference.is_zero()) {
    m.add(fam::reference_time, where, unix_seconds(proto::resolve_near(p.reference, s.t1_date)));
  }
  const auto refid = model::describe_refid(s);
  m.add(fam::server_info,
        with(where, {{"refid", refid.text},
                     {"refid_kind", std::string(refid_kind_name(refid.kind))},
                     {"version", std::to_string(p.version)},
                     {"mode", std::string(mode_name(p.mode))},
                     {"leap", std::string(leap_name(p.leap))}}),
        1);
}

void add_error(ntp_families& m, const label_set& where, const model::error_info& e) {
  if (!e) return;
  m.add(fam::error_info,
        with(where, {{"kind", std::string(model::error_kind_name(e.kind))},
                     {"kiss_code", e.kiss_code}}),
        1);
}

void add_address(ntp_families& m, const model::ntp_target& t, const model::ntp_address& a) {
  const label_set where{{"server", t.spec},
                        {"address", a.address},
                        {"family", std::string(model::family_name(a.family))}};
  m.add(fam::up, where, a.ok() ? 1 : 0);
  m.add(fam::requests, where, a.requests);
  m.add(fam::replies, where, static_cast<double>(a.samples.size()));
  if (a.selected) {
    const auto& b = a.best();
    m.add(fam::offset, where, b.measured.offset.to_seconds());
    m.add(fam::delay, where, b.measured.delay.to_seconds());
    m.add(fam::processing, where, b.measured.processing.to_seconds());
    m.add(fam::dispersion, where, b.measured.dispersion.to_seconds());
    m.add(fam::jitter, where, a.jitter.to_seconds());
    m.add(fam::root_distance, where, a.root_distance.to_seconds());
  }
  // The header of the reply JSON shows as "server": the selected one, else the last; a
  // Kiss-o'-Death's header fields are not the server's state (ntpkit_error_info has its code).
  const auto* shown = a.shown_sample();
  if (shown && shown->assessed.result != proto::verdict::kiss) add_header(m, where, *shown);
  add_error(m, where, a.error);
}

const char* type_name(metric_type t) {
  switch (t) {
    case metric_type::gauge: return "gauge";
    case metric_type::counter: return "counter";
    case metric_type::histogram: return "histogram";
  }
  return "untyped";
}

std::string labels_text(const label_set& labels, std::string_view extra_name = {},
                        std::string_view extra_value = {}) {
  std::string out;
  for (const auto& [name, value] : labels) {
    out += (out.empty() ? "" : ",") + name + "=\"" + prometheus_escape(value) + "\"";
  }
  if (!extra_name.empty()) {
    out += (out.empty() ? "" : ",") + std::string(extra_name) + "=\"" +
           prometheus_escape(extra_value) + "\"";
  }
  return out.empty() ? out : "{" + out + "}";
}

}  // namespace

std::string prometheus_escape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string prometheus_number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  std::array<char, 32> buf{};
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  if (ec != std::errc{}) return "NaN";  // cannot happen: 32 chars hold any double
  return std::string(buf.data(), end);
}

std::size_t exposition::family(std::string name, std::string help, metric_type type) {
  families_.push_back({std::move(name), std::move(help), type, {}, {}});
  return families_.size() - 1;
}

bool exposition::fresh(family_data& f, const std::string& series) {
  return f.seen.insert(series).second;
}

void exposition::add(std::size_t family, const label_set& labels, double value) {
  auto& f = families_.at(family);
  auto series = f.name + labels_text(labels);
  if (!fresh(f, series)) return;
  f.lines += series + " " + prometheus_number(value) + "\n";
}

void exposition::add_histogram(std::size_t family, const label_set& labels,
                               std::span<const std::pair<double, std::uint64_t>> buckets,
                               double sum, std::uint64_t count) {
  auto& f = families_.at(family);
  if (!fresh(f, f.name + labels_text(labels))) return;
  for (const auto& [bound, n] : buckets) {
    f.lines += f.name + "_bucket" + labels_text(labels, "le", prometheus_number(bound)) + " " +
               std::to_string(n) + "\n";
  }
  f.lines += f.name + "_bucket" + labels_text(labels, "le", "+Inf") + " " +
             std::to_string(count) + "\n";
  f.lines += f.name + "_sum" + labels_text(labels) + " " + prometheus_number(sum) + "\n";
  f.lines += f.name + "_count" + labels_text(labels) + " " + std::to_string(count) + "\n";
}

std::string exposition::str() const {
  std::string out;
  for (const auto& f : families_) {
    if (f.lines.empty()) continue;
    out += "# HELP " + f.name + " " + f.help + "\n";
    out += "# TYPE " + f.name + " " + type_name(f.type) + "\n";
    out += f.lines;
  }
  return out;
}

std::string probe_prometheus(const model::ntp_run& r, const prometheus_meta& meta) {
  ntp_families m;
  m.add(fam::build_info, {{"tool", meta.tool}, {"version", meta.version}}, 1);
  m.add(fam::last_run, {}, unix_seconds(r.started));
  for (const auto& t : r.targets) {
    if (t.error || t.addresses.empty()) {
      const label_set where{{"server", t.spec}, {"address", ""}, {"family", ""}};
      m.add(fam::up, where, 0);
      add_error(m, where, t.error);
    }
    for (const auto& a : t.addresses) add_address(m, t, a);
  }
  return m.m.str();
}

}  // namespace ntpkit::report
