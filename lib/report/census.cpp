#include "ntpkit/report/census.hpp"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "ntpkit/report/format.hpp"

namespace ntpkit::report {
namespace {

using model::census_result;
using model::census_split;
using model::clients_run;
using model::latency_summary;
using std::chrono::nanoseconds;

std::string num(std::uint64_t v) { return std::to_string(v); }

double secs(nanoseconds d) { return static_cast<double>(d.count()) / 1e9; }

std::string percent(std::uint64_t part, std::uint64_t whole) {
  if (whole == 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100.0 * static_cast<double>(part) /
                                               static_cast<double>(whole));
  return buf;
}

double percent_value(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

// Capture times are the capturing host's; seconds are plenty for people, the JSON has more.
std::string when(proto::sys_nanoseconds t, int decimals = 0) { return iso8601(t, decimals); }

std::string span_text(nanoseconds d) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (s < 60) return human_duration(d);
  const auto h = s / 3600, m = s / 60 % 60;
  s %= 60;
  std::string out;
  if (h > 0) out += std::to_string(h) + " h ";
  if (h > 0 || m > 0) out += std::to_string(m) + " min ";
  return out + std::to_string(s) + " s";
}

const char* mode_word(std::size_t mode) {
  static const char* const names[] = {"reserved",  "symmetric active", "symmetric passive",
                                      "client",    "server",           "broadcast",
                                      "control",   "private"};
  return names[mode & 7];
}

// "IPv4 11000, IPv6 1345; version 4: 12000, 3: 300; client 12340, symmetric active 5".
std::string split_text(const census_split& s, bool with_family) {
  std::string out;
  if (with_family) out = "IPv4 " + num(s.by_family[0]) + ", IPv6 " + num(s.by_family[1]);
  std::string versions;
  for (std::size_t v = s.by_version.size(); v-- > 0;) {
    if (s.by_version[v] == 0) continue;
    versions += (versions.empty() ? "version " : ", ") + std::to_string(v) + ": " +
                num(s.by_version[v]);
  }
  std::string modes;
  for (std::size_t m = 0; m < s.by_mode.size(); ++m) {
    if (s.by_mode[m] == 0) continue;
    modes += (modes.empty() ? "" : ", ") + std::string(mode_word(m)) + " " + num(s.by_mode[m]);
  }
  for (const auto& part : {versions, modes}) {
    if (!part.empty()) out += (out.empty() ? "" : "; ") + part;
  }
  return out;
}

std::string summary_text(const latency_summary& s) {
  return "min " + human_duration(s.min) + ", median " + human_duration(s.median) + ", p90 " +
         human_duration(s.p90) + ", p99 " + human_duration(s.p99) + ", max " +
         human_duration(s.max);
}

void line(std::string& out, const char* head, const std::string& text) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%-10s", head);
  out += buf + text + "\n";
}

std::string file_text(const model::capture_input& in) {
  std::string what = in.pcapng ? "pcapng" : "pcap";
  if (in.compressed) what += ", gzip";
  if (in.link_type != 0 || in.frames > 0) what += ", " + link_type_name(in.link_type);
  what += ", " + num(in.frames) + " frames";
  std::string out = printable(in.name) + " (" + what + ")";
  if (!in.complete()) {
    out += ": " + printable(in.error.message());
    if (!in.detail.empty()) out += " (" + printable(in.detail) + ")";
  }
  return out;
}

std::string mru_text(const model::mru_reading& m) {
  std::string what = printable(m.server);
  if (!m.address.empty() && m.address != m.server) what += " (" + printable(m.address) + ")";
  what += ": MRU list, " + num(m.entries) + " entries, ";
  what += m.complete() ? std::string("read to its end") : "not read to its end: " +
                                                              std::string(proto::to_string(m.outcome));
  if (!m.complete() && m.error) what += " (" + printable(m.error.message()) + ")";
  if (!m.server_error.empty()) what += " (" + printable(m.server_error) + ")";
  what += " in " + human_duration(m.duration) + ", " + num(m.requests) + " requests, " +
          num(m.restarts) + (m.restarts == 1 ? " restart" : " restarts");
  return what;
}

void input_section(std::string& out, const clients_run& r) {
  if (r.source == model::census_source::mru_list && r.mru) {
    line(out, "Server", mru_text(*r.mru));
    if (r.mru->malformed_rows > 0) {
      line(out, "", num(r.mru->malformed_rows) + " rows did not read and are left out");
    }
    const auto& c = r.census;
    if (c.first_time && c.last_time) {
      line(out, "Time", when(*c.first_time) + " to " + when(*c.last_time) + " (" +
                            span_text(*c.last_time - *c.first_time) +
                            ", first and latest packet, server clock)");
    }
    return;
  }
  if (r.source == model::census_source::live_capture) {
    std::string what = r.inputs.empty() ? "?" : printable(r.inputs.front().name);
    if (!r.inputs.empty() && r.inputs.front().link_type != 0) {
      what += " (" + link_type_name(r.inputs.front().link_type) + ")";
    }
    if (r.started && r.ended) {
      what += ", " + when(*r.started) + " to " + when(*r.ended) + " (" +
              span_text(*r.ended - *r.started) + ")";
    }
    if (r.period) what += ", this period";
    line(out, "Interface", what);
    if (r.kernel) {
      line(out, "", num(r.kernel->received) + " frames passed the filter, " +
                        num(r.kernel->dropped) + " dropped by the kernel (not counted), " +
                        num(r.kernel->interface_dropped) + " by the interface");
    }
  } else {
    for (std::size_t i = 0; i < r.inputs.size(); ++i) {
      line(out, i == 0 ? (r.inputs.size() == 1 ? "File" : "Files") : "",
           file_text(r.inputs[i]));
    }
  }
  const auto& c = r.census;
  if (c.first_time && c.last_time) {
    line(out, "Time", when(*c.first_time) + " to " + when(*c.last_time) + " (" +
                          span_text(*c.last_time - *c.first_time) + ", capture clock)");
  }
  if (r.interrupted) line(out, "", "interrupted: what was read until then");
}

void clients_section(std::string& out, const census_result& c) {
  line(out, "Clients", num(c.clients) + " distinct: " + split_text(c.client_split, true));
  if (c.clients > 0) {
    line(out, "", num(c.fast_clients) + " faster than one request per " +
                      human_duration(c.rate_limit) + " (median interval)");
  }
  if (c.control_clients > 0 || c.control_packets > 0) {
    line(out, "", "control (mode 6/7): " + num(c.control_clients) +
                      (c.control_clients == 1 ? " address, " : " addresses, ") +
                      num(c.control_packets) + (c.control_packets == 1 ? " packet" : " packets"));
  }
  if (c.spoofed_sources > 0) {
    line(out, "", "spoofed-looking sources (port 0, multicast/broadcast, the server's own): " +
                      num(c.spoofed_sources) + ", " + num(c.spoofed_packets) +
                      " packets, not counted as clients");
  }
}

void packets_section(std::string& out, const census_result& c) {
  std::uint64_t requests = 0, responses = 0;
  for (const auto& i : c.intervals) {
    requests += i.requests;
    responses += i.responses;
  }
  std::string text = num(c.datagrams.ntp) + " NTP: " + num(requests) + " requests, " +
                     num(responses) + " responses";
  if (c.broadcasts > 0) text += ", " + num(c.broadcasts) + " broadcasts";
  text += "; peak " + num(c.peak_pps) + "/s";
  line(out, "Packets", text);
  if (c.datagrams.ntp > 0) line(out, "", split_text(c.datagrams.split, true));
  const auto& d = c.datagrams;
  if (d.malformed + d.truncated + d.header_only > 0) {
    line(out, "", num(d.malformed) + " malformed on the NTP port, " + num(d.truncated) +
                      " cut before 48 bytes, " + num(d.header_only) + " cut after the header");
  }
}

// What an MRU list knows of packets: ntpd's counts by the latest packet's version and mode.
void mru_packets_section(std::string& out, const census_result& c) {
  line(out, "Packets", num(c.datagrams.ntp) + " counted by ntpd (" + num(c.matching.requests) +
                           " client requests, " + num(c.control_packets) + " control" +
                           (c.broadcasts > 0 ? ", " + num(c.broadcasts) + " broadcasts" : "") +
                           "); no answer times in an MRU list");
  if (c.datagrams.ntp > 0) line(out, "", split_text(c.datagrams.split, true) + " (latest packet)");
}

// Every entry as ntpq's mrulist shows them: seconds since the latest packet and the mean
// interval, restrictions, mode, version, count, address.
void mru_entries_section(std::string& out, const std::vector<proto::mru_entry>& entries) {
  proto::timestamp newest;
  for (const auto& e : entries) {
    if ((e.last - newest).to_seconds() > 0 || newest.is_zero()) newest = e.last;
  }
  out += "\nEntries (oldest first; lstint and avgint in seconds, as ntpq's mrulist)\n";
  char buf[160];
  std::snprintf(buf, sizeof buf, "  %8s %8s %6s %2s %2s %10s  %s\n", "lstint", "avgint", "rstr",
                "m", "v", "count", "address");
  out += buf;
  for (const auto& e : entries) {
    const double lstint = (newest - e.last).to_seconds();
    const double avgint = e.count > 1 ? (e.last - e.first).to_seconds() /
                                            static_cast<double>(e.count - 1)
                                      : 0.0;
    std::snprintf(buf, sizeof buf, "  %8.0f %8.0f %6x %2u %2u %10llu  ", lstint, avgint,
                  e.restrictions, e.mode_version & 7u, (e.mode_version >> 3) & 7u,
                  static_cast<unsigned long long>(e.count));
    out += buf + printable(e.address) + "\n";
  }
}

void answers_section(std::string& out, const census_result& c) {
  const auto& m = c.matching;
  if (m.requests == 0 && m.unmatched_responses == 0) return;
  line(out, "Answers", num(m.matched) + " matched (" + percent(m.matched, m.requests) + " of " +
                           num(m.requests) + " requests), " + num(m.late) + " late, " +
                           num(m.unanswered) + " unanswered (" +
                           percent(m.unanswered, m.requests) + "), " + num(m.pending_at_end) +
                           " pending at the end");
  if (m.dropped + m.duplicate_requests + m.duplicate_responses + m.unmatched_responses > 0) {
    line(out, "", num(m.duplicate_requests) + " repeated requests, " +
                      num(m.duplicate_responses) + " repeated answers, " +
                      num(m.unmatched_responses) + " answers to no captured request, " +
                      num(m.dropped) + " requests forgotten unanswered (table full)");
  }
  if (c.delta.count > 0) {
    line(out, "Delta", summary_text(c.delta) + " (request to answer on the wire, " +
                           num(c.delta.count) + " answers)");
  }
  if (c.processing.count > 0) {
    line(out, "T3-T2", summary_text(c.processing) + " (the server's own processing)");
  }
  if (m.negative_processing > 0) {
    line(out, "", num(m.negative_processing) + " answers with T3 before T2 (left out)");
  }
  if (!c.kisses.empty()) {
    std::string k;
    for (const auto& kiss : c.kisses) {
      k += (k.empty() ? "" : ", ") + printable(std::string_view(kiss.code.data(), 4)) + " " +
           num(kiss.count);
    }
    line(out, "KoD", k);
  }
}

void frames_section(std::string& out, const census_result& c, bool verbose) {
  const auto& f = c.frames;
  const std::pair<const char*, std::uint64_t> parts[] = {
      {"NTP port", f.ntp},
      {"other UDP", f.other_udp},
      {"other protocols", f.other_protocol},
      {"not IP", f.not_ip},
      {"fragments", f.fragments},
      {"truncated headers", f.truncated},
      {"bad headers", f.bad_header},
      {"nested too deep", f.too_deep},
      {"unknown link type", f.unsupported_link},
  };
  std::string text = num(f.frames) + " frames";
  std::string list;
  for (const auto& [name, n] : parts) {
    if (n == 0 && !verbose) continue;
    list += (list.empty() ? "" : ", ") + num(n) + " " + name;
  }
  if (!list.empty()) text += ": " + list;
  line(out, "Frames", text);
  if (f.tunnelled + f.vlan + f.fragments_ntp_port > 0 || verbose) {
    line(out, "", "of the NTP port: " + num(f.tunnelled) + " in tunnels, " + num(f.vlan) +
                      " behind VLAN tags; " + num(f.fragments_ntp_port) +
                      " first fragments of NTP-port datagrams (not reassembled)");
  }
}

std::string pad(std::string s, std::size_t width, bool right) {
  if (s.size() >= width) return s;
  return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

// A table: columns with widths from their contents, numbers right-aligned.
struct table {
  std::vector<std::string> head;
  std::vector<bool> right;
  std::vector<std::vector<std::string>> rows;
  std::string str(const std::string& indent = "  ") const {
    std::vector<std::size_t> w(head.size());
    for (std::size_t i = 0; i < head.size(); ++i) w[i] = head[i].size();
    for (const auto& r : rows) {
      for (std::size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], r[i].size());
    }
    auto row_text = [&](const std::vector<std::string>& r) {
      std::string s = indent;
      for (std::size_t i = 0; i < r.size(); ++i) {
        s += (i ? "  " : "") + pad(r[i], i + 1 == r.size() && !right[i] ? 0 : w[i], right[i]);
      }
      return s + "\n";
    };
    std::string out = row_text(head);
    for (const auto& r : rows) out += row_text(r);
    return out;
  }
};

std::string delta_cell(const latency_summary& s, nanoseconds v) {
  return s.count == 0 ? "-" : human_duration(v);
}

void intervals_section(std::string& out, const census_result& c) {
  if (c.intervals.empty()) return;
  out += "\nIntervals of " + span_text(c.interval) +
         " (a client polling every 1024 s shows in about one interval in " +
         std::to_string(std::max<long long>(
             1, static_cast<long long>(std::ceil(1024e9 / static_cast<double>(
                                                               std::max<std::int64_t>(
                                                                   1, c.interval.count())))))) +
         "; the total above counts every client seen)\n";
  table t{{"start", "clients", "IPv4", "IPv6", "control", "packets", "requests", "answered",
           "peak/s", "delta p50", "delta p99"},
          {false, true, true, true, true, true, true, true, true, true, true},
          {}};
  for (const auto& i : c.intervals) {
    t.rows.push_back({when(i.start), num(i.clients), num(i.client_split.by_family[0]),
                      num(i.client_split.by_family[1]), num(i.control_clients), num(i.packets),
                      num(i.requests), num(i.delta.count), num(i.peak_pps),
                      delta_cell(i.delta, i.delta.median), delta_cell(i.delta, i.delta.p99)});
  }
  out += t.str();
}

void talkers_section(std::string& out, const census_result& c) {
  if (c.top_talkers.empty()) return;
  out += "\nTop " + std::to_string(c.top_talkers.size()) + " talkers (most requests)\n";
  table t{{"address", "requests", "first seen", "last seen", "median interval"},
          {false, true, false, false, true},
          {}};
  for (const auto& k : c.top_talkers) {
    t.rows.push_back({model::to_string(k.address), num(k.packets), when(k.first_seen),
                      when(k.last_seen),
                      k.median_interval ? human_duration(*k.median_interval) : "-"});
  }
  out += t.str();
}

std::string frame_ref(const clients_run& r, std::uint32_t file, std::uint64_t frame) {
  if (r.source == model::census_source::live_capture || r.inputs.size() <= 1) {
    return "#" + num(frame);
  }
  return (file < r.inputs.size() ? printable(r.inputs[file].name) : "?") + "#" + num(frame);
}

std::string endpoint_text(const model::ip_address& a, std::uint16_t port) {
  const auto text = model::to_string(a);
  return a.family == model::family::ipv6 ? "[" + text + "]:" + std::to_string(port)
                                         : text + ":" + std::to_string(port);
}

void slowest_section(std::string& out, const clients_run& r) {
  const auto& c = r.census;
  if (c.slowest.empty()) return;
  out += "\nSlowest answers (frame numbers as Wireshark shows them";
  out += r.source == model::census_source::live_capture ? ", counted from the capture's start)\n"
                                                        : ")\n";
  table t{{"delta", "client", "request at", "request", "answer"},
          {true, false, false, false, false},
          {}};
  for (const auto& s : c.slowest) {
    t.rows.push_back({human_duration(s.delta), endpoint_text(s.client, s.client_port),
                      when(s.time, 6), frame_ref(r, s.request_file, s.request_frame),
                      frame_ref(r, s.response_file, s.response_frame)});
  }
  out += t.str();
}

void histogram_section(std::string& out, const char* title, const model::latency_histogram& h) {
  std::uint64_t total = 0;
  for (auto n : h.counts) total += n;
  if (total == 0) return;
  out += "\n" + std::string(title) + "\n";
  std::uint64_t most = *std::max_element(h.counts.begin(), h.counts.end());
  // Only the buckets from the first to the last that hold something.
  std::size_t first = 0, last = h.counts.size();
  while (first < h.counts.size() && h.counts[first] == 0) ++first;
  while (last > first && h.counts[last - 1] == 0) --last;
  for (std::size_t b = first; b < last; ++b) {
    const std::string bound =
        b < h.upper_bounds.size() ? "<= " + human_duration(h.upper_bounds[b])
                                  : " > " + human_duration(h.upper_bounds.back());
    const auto bar = static_cast<std::size_t>(std::llround(
        40.0 * static_cast<double>(h.counts[b]) / static_cast<double>(std::max<std::uint64_t>(
                                                      most, 1))));
    out += "  " + pad(bound, 12, true) + "  " + pad(num(h.counts[b]), 10, true) + "  " +
           std::string(bar, '#') + "\n";
  }
}

}  // namespace

std::string human_duration(nanoseconds d) {
  const auto ns = d.count();
  const double a = std::fabs(static_cast<double>(ns));
  char buf[48];
  if (a < 1e3) {
    std::snprintf(buf, sizeof buf, "%lld ns", static_cast<long long>(ns));
  } else if (a < 1e6) {
    std::snprintf(buf, sizeof buf, a < 1e5 ? "%.1f us" : "%.0f us",
                  static_cast<double>(ns) / 1e3);
  } else if (a < 1e9) {
    std::snprintf(buf, sizeof buf, a < 1e8 ? "%.2f ms" : "%.1f ms",
                  static_cast<double>(ns) / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.3f s", static_cast<double>(ns) / 1e9);
  }
  return buf;
}

std::string link_type_name(std::uint32_t link_type) {
  switch (link_type) {
    case 0: return "NULL";
    case 1: return "EN10MB";
    case 12: return "RAW";
    case 14: return "RAW";
    case 101: return "RAW";
    case 108: return "LOOP";
    case 113: return "LINUX_SLL";
    case 228: return "IPV4";
    case 229: return "IPV6";
    case 276: return "LINUX_SLL2";
    default: return "linktype " + std::to_string(link_type);
  }
}

std::string census_text(const clients_run& r, bool verbose) {
  std::string out;
  const auto& c = r.census;
  input_section(out, r);
  if (!c.usable()) {
    line(out, "", "no NTP datagrams on port " + std::to_string(c.server_port));
    frames_section(out, c, verbose);
    return out;
  }
  clients_section(out, c);
  if (r.source == model::census_source::mru_list) {
    mru_packets_section(out, c);
    talkers_section(out, c);
    if (!r.mru_entries.empty()) mru_entries_section(out, r.mru_entries);
    return out;
  }
  packets_section(out, c);
  answers_section(out, c);
  frames_section(out, c, verbose);
  intervals_section(out, c);
  talkers_section(out, c);
  slowest_section(out, r);
  if (verbose) {
    histogram_section(out, "Delta time (request to answer on the wire)", c.delta_histogram);
    histogram_section(out, "Server processing time (T3-T2)", c.processing_histogram);
  }
  return out;
}

std::string census_csv_header() {
  return "start,start_unix,clients,clients_ipv4,clients_ipv6,control_clients,packets,requests,"
         "responses,peak_packets_per_second,answers,delta_min_s,delta_median_s,delta_p90_s,"
         "delta_p99_s,delta_max_s,processing_median_s,processing_p99_s\n";
}

std::string census_csv_rows(const clients_run& r) {
  std::string out;
  auto sec = [](const latency_summary& s, nanoseconds v) {
    if (s.count == 0) return std::string();
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9f", secs(v));
    return std::string(buf);
  };
  for (const auto& i : r.census.intervals) {
    const auto unix_s =
        std::chrono::duration_cast<std::chrono::seconds>(i.start.time_since_epoch()).count();
    out += when(i.start) + "," + std::to_string(unix_s) + "," + num(i.clients) + "," +
           num(i.client_split.by_family[0]) + "," + num(i.client_split.by_family[1]) + "," +
           num(i.control_clients) + "," + num(i.packets) + "," + num(i.requests) + "," +
           num(i.responses) + "," + num(i.peak_pps) + "," + num(i.delta.count) + "," +
           sec(i.delta, i.delta.min) + "," + sec(i.delta, i.delta.median) + "," +
           sec(i.delta, i.delta.p90) + "," + sec(i.delta, i.delta.p99) + "," +
           sec(i.delta, i.delta.max) + "," + sec(i.processing, i.processing.median) + "," +
           sec(i.processing, i.processing.p99) + "\n";
  }
  return out;
}

std::string census_prometheus(const clients_run& r, const prometheus_meta& meta,
                              const label_set& labels) {
  exposition m;
  const auto& c = r.census;
  auto with = [&](label_set extra) {
    label_set l = labels;
    l.insert(l.end(), extra.begin(), extra.end());
    return l;
  };
  using mt = metric_type;
  const auto build = m.family("ntpkit_build_info", "ntpkit's version", mt::gauge);
  const auto clients = m.family("ntpkit_clients_distinct",
                                "distinct client addresses (mode 3 or 1/2 senders)", mt::gauge);
  const auto clients_family =
      m.family("ntpkit_clients_distinct_by_family", "distinct clients by address family", mt::gauge);
  const auto control = m.family("ntpkit_clients_control_distinct",
                                "distinct senders of mode 6/7 requests", mt::gauge);
  const auto spoofed = m.family("ntpkit_clients_spoofed_sources",
                                "distinct spoofed-looking sources, not counted as clients",
                                mt::gauge);
  const auto fast = m.family("ntpkit_clients_fast",
                             "clients whose median request interval is under the rate limit",
                             mt::gauge);
  const auto peak = m.family("ntpkit_clients_peak_packets_per_second",
                             "most NTP datagrams in one second", mt::gauge);
  const auto interval_clients =
      m.family("ntpkit_clients_last_interval_distinct",
               "distinct clients in the last interval of the input", mt::gauge);
  const auto packets = m.family("ntpkit_clients_packets_total",
                                "NTP datagrams by direction (request, response, other)",
                                mt::counter);
  const auto by_version = m.family("ntpkit_clients_packets_by_version_total",
                                   "NTP datagrams by version field", mt::counter);
  const auto by_mode =
      m.family("ntpkit_clients_packets_by_mode_total", "NTP datagrams by mode", mt::counter);
  const auto frames = m.family("ntpkit_clients_frames_total",
                               "captured frames by what they held", mt::counter);
  const auto datagrams = m.family("ntpkit_clients_malformed_total",
                                  "datagrams on the NTP port that were not NTP or were cut",
                                  mt::counter);
  const auto answers = m.family("ntpkit_clients_requests_total",
                                "mode 3 requests by what became of them", mt::counter);
  const auto kisses = m.family("ntpkit_clients_kiss_total",
                               "Kiss-o'-Death answers the server sent, by code", mt::counter);
  const auto delta = m.family("ntpkit_clients_response_seconds",
                              "request to answer on the wire (delta time)", mt::histogram);
  const auto processing = m.family("ntpkit_clients_processing_seconds",
                                   "the server's processing time T3-T2", mt::histogram);
  const auto kernel = m.family("ntpkit_clients_kernel_dropped_total",
                               "frames the kernel dropped for lack of buffer space (live)",
                               mt::counter);
  const auto complete = m.family("ntpkit_clients_input_complete",
                                 "1 when every input was read whole", mt::gauge);

  m.add(build, {{"tool", meta.tool}, {"version", meta.version}}, 1);
  m.add(complete, labels, r.inputs_complete() && !r.interrupted ? 1 : 0);
  m.add(clients, labels, static_cast<double>(c.clients));
  m.add(clients_family, with({{"family", "ipv4"}}),
        static_cast<double>(c.client_split.by_family[0]));
  m.add(clients_family, with({{"family", "ipv6"}}),
        static_cast<double>(c.client_split.by_family[1]));
  m.add(control, labels, static_cast<double>(c.control_clients));
  m.add(spoofed, labels, static_cast<double>(c.spoofed_sources));
  m.add(fast, labels, static_cast<double>(c.fast_clients));
  m.add(peak, labels, static_cast<double>(c.peak_pps));
  if (!c.intervals.empty()) {
    m.add(interval_clients, labels, static_cast<double>(c.intervals.back().clients));
  }
  std::uint64_t requests = 0, responses = 0;
  for (const auto& i : c.intervals) {
    requests += i.requests;
    responses += i.responses;
  }
  m.add(packets, with({{"direction", "request"}}), static_cast<double>(requests));
  m.add(packets, with({{"direction", "response"}}), static_cast<double>(responses));
  const auto ntp = c.datagrams.ntp;
  m.add(packets, with({{"direction", "other"}}),
        static_cast<double>(ntp >= requests + responses ? ntp - requests - responses : 0));
  for (std::size_t v = 0; v < 8; ++v) {
    if (c.datagrams.split.by_version[v] == 0) continue;
    m.add(by_version, with({{"version", std::to_string(v)}}),
          static_cast<double>(c.datagrams.split.by_version[v]));
  }
  static const char* const modes[] = {"reserved", "symmetric_active", "symmetric_passive",
                                      "client",   "server",           "broadcast",
                                      "control",  "private"};
  for (std::size_t v = 0; v < 8; ++v) {
    if (c.datagrams.split.by_mode[v] == 0) continue;
    m.add(by_mode, with({{"mode", modes[v]}}), static_cast<double>(c.datagrams.split.by_mode[v]));
  }
  const auto& f = c.frames;
  const std::pair<const char*, std::uint64_t> frame_kinds[] = {
      {"ntp", f.ntp},
      {"other_udp", f.other_udp},
      {"other_protocol", f.other_protocol},
      {"not_ip", f.not_ip},
      {"fragment", f.fragments},
      {"truncated", f.truncated},
      {"bad_header", f.bad_header},
      {"too_deep", f.too_deep},
      {"unsupported_link", f.unsupported_link},
  };
  for (const auto& [kind, n] : frame_kinds) {
    m.add(frames, with({{"kind", kind}}), static_cast<double>(n));
  }
  m.add(datagrams, with({{"kind", "malformed"}}), static_cast<double>(c.datagrams.malformed));
  m.add(datagrams, with({{"kind", "truncated"}}), static_cast<double>(c.datagrams.truncated));
  const auto& mt_ = c.matching;
  const std::pair<const char*, std::uint64_t> outcomes[] = {
      {"matched", mt_.matched},       {"late", mt_.late},
      {"unanswered", mt_.unanswered}, {"pending", mt_.pending_at_end},
      {"dropped", mt_.dropped},       {"duplicate", mt_.duplicate_requests},
  };
  for (const auto& [outcome, n] : outcomes) {
    m.add(answers, with({{"outcome", outcome}}), static_cast<double>(n));
  }
  for (const auto& k : c.kisses) {
    m.add(kisses, with({{"code", printable(std::string_view(k.code.data(), 4))}}),
          static_cast<double>(k.count));
  }
  auto histogram = [&](std::size_t family, const model::latency_histogram& h) {
    std::vector<std::pair<double, std::uint64_t>> buckets;
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < h.upper_bounds.size(); ++b) {
      cumulative += h.counts[b];
      buckets.emplace_back(secs(h.upper_bounds[b]), cumulative);
    }
    std::uint64_t total = 0;
    for (auto n : h.counts) total += n;
    m.add_histogram(family, labels, buckets, secs(h.sum), total);
  };
  if (!c.delta_histogram.counts.empty()) histogram(delta, c.delta_histogram);
  if (!c.processing_histogram.counts.empty()) histogram(processing, c.processing_histogram);
  if (r.kernel) m.add(kernel, labels, static_cast<double>(r.kernel->dropped));
  return m.str();
}

std::string_view response_figure_name(response_figure f) noexcept {
  switch (f) {
    case response_figure::median: return "median";
    case response_figure::p90: return "p90";
    case response_figure::p99: return "p99";
    case response_figure::max: return "max";
  }
  return "p99";
}

plugin_output census_plugin(const clients_run& r, const census_policy& p) {
  const auto& c = r.census;
  plugin_item item;
  if (!r.inputs.empty() && r.source == model::census_source::live_capture) {
    item.where = printable(r.inputs.front().name);
  }
  if (!c.usable()) {
    item.state = p.no_traffic_critical ? plugin_state::critical : plugin_state::unknown;
    item.summary = r.source == model::census_source::mru_list
                       ? std::string("no client in the MRU list")
                       : "no NTP datagrams on port " + std::to_string(c.server_port) + " in " +
                             num(c.frames.frames) + " frames";
  } else {
    const auto& m = c.matching;
    const auto figure = [&] {
      switch (p.figure) {
        case response_figure::median: return c.delta.median;
        case response_figure::p90: return c.delta.p90;
        case response_figure::p99: return c.delta.p99;
        case response_figure::max: return c.delta.max;
      }
      return c.delta.p99;
    }();
    const double unanswered = percent_value(m.unanswered, m.requests);
    item.judge({"clients", static_cast<double>(c.clients), static_cast<double>(c.clients), "",
                p.clients, "", "0", "", 0});
    const bool mru = r.source == model::census_source::mru_list;
    if (!mru) {
      item.judge({"rate", static_cast<double>(c.peak_pps), static_cast<double>(c.peak_pps),
                  "peak packets/s", p.rate, "", "0", "", 0});
    } else if (p.rate.warning || p.rate.critical || p.response.warning || p.response.critical ||
               p.unanswered.warning || p.unanswered.critical) {
      item.raise(plugin_state::unknown,
                 "an MRU list has no packet rate, answer times or unanswered requests to judge");
    }
    const std::string response_label = "response_" + std::string(response_figure_name(p.figure));
    if (c.delta.count > 0) {
      item.judge({response_label, secs(figure), secs(figure),
                  "response " + std::string(response_figure_name(p.figure)), p.response, "s",
                  "0", "", 6});
    } else if ((p.response.warning || p.response.critical) && !mru) {
      item.raise(plugin_state::unknown, "no answer was matched: no response time to judge");
    }
    if (m.requests > 0 && !mru) {
      item.judge({"unanswered", unanswered, unanswered, "unanswered %", p.unanswered, "%", "0",
                  "100", 2});
    }
    item.summary = mru ? num(c.clients) + " clients in the MRU list"
                       : num(c.clients) + " clients, peak " + num(c.peak_pps) + " packets/s";
    if (c.delta.count > 0) {
      item.summary += ", response " + std::string(response_figure_name(p.figure)) + " " +
                      human_duration(figure);
    }
    if (m.requests > 0 && !mru) {
      item.summary += ", " + percent(m.unanswered, m.requests) + " unanswered";
    }
  }
  for (const auto& in : r.inputs) {
    if (!in.complete()) {
      item.raise(plugin_state::warning, printable(in.name) + ": " + printable(in.error.message()));
    }
  }
  if (r.mru && !r.mru->complete()) {
    item.raise(r.mru->entries == 0 ? plugin_state::unknown : plugin_state::warning,
               "the MRU list was not read to its end: " +
                   std::string(proto::to_string(r.mru->outcome)));
  }
  if (r.kernel && r.kernel->dropped > 0) {
    item.raise(plugin_state::warning, "the kernel dropped " + num(r.kernel->dropped) + " frames");
  }
  combine_options o;
  o.service = "NTPCLIENTS";
  o.noun = "captures";
  return combine({item}, o);
}

}  // namespace ntpkit::report
