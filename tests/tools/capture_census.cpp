// capture_census: the census engine over capture files, as JSON on stdout, for the tests that
// compare it with tshark (tests/integration/test_capture_counts.py). Built for the tests
// only; ntpclients is the program users run.
//
//   capture_census [--port N] [--timeout-ms N] [--interval-s N] [--server ADDR]... FILE...
//
// Prints one JSON object: the file reports, the census counts, every client (as top talkers
// with no limit) and every matched answer (as the slowest list with no limit). With
// --throughput it prints frames/s of reading+decoding+census instead (one core, wall clock).

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ntpkit/capture/flows.hpp"
#include "ntpkit/capture/pcap_source.hpp"

using namespace ntpkit;
using json = nlohmann::json;

namespace {

json split_json(const model::census_split& s) {
  return {{"family", s.by_family}, {"version", s.by_version}, {"mode", s.by_mode}};
}

json summary_json(const model::latency_summary& s) {
  return {{"count", s.count},        {"min_ns", s.min.count()}, {"median_ns", s.median.count()},
          {"p90_ns", s.p90.count()}, {"p99_ns", s.p99.count()}, {"max_ns", s.max.count()}};
}

json result_json(const model::census_result& r) {
  const auto& f = r.frames;
  const auto& m = r.matching;
  json j;
  j["frames"] = {{"frames", f.frames},
                 {"ntp", f.ntp},
                 {"other_udp", f.other_udp},
                 {"not_ip", f.not_ip},
                 {"truncated", f.truncated},
                 {"bad_header", f.bad_header},
                 {"fragments", f.fragments},
                 {"fragments_ntp_port", f.fragments_ntp_port},
                 {"other_protocol", f.other_protocol},
                 {"too_deep", f.too_deep},
                 {"unsupported_link", f.unsupported_link},
                 {"tunnelled", f.tunnelled},
                 {"vlan", f.vlan}};
  j["datagrams"] = {{"ntp", r.datagrams.ntp},
                    {"malformed", r.datagrams.malformed},
                    {"truncated", r.datagrams.truncated},
                    {"split", split_json(r.datagrams.split)}};
  j["clients"] = r.clients;
  j["client_split"] = split_json(r.client_split);
  j["control_clients"] = r.control_clients;
  j["spoofed_sources"] = r.spoofed_sources;
  j["matching"] = {{"requests", m.requests},
                   {"matched", m.matched},
                   {"late", m.late},
                   {"unanswered", m.unanswered},
                   {"pending_at_end", m.pending_at_end},
                   {"dropped", m.dropped},
                   {"duplicate_requests", m.duplicate_requests},
                   {"duplicate_responses", m.duplicate_responses},
                   {"unmatched_responses", m.unmatched_responses}};
  j["delta"] = summary_json(r.delta);
  j["processing"] = summary_json(r.processing);
  j["kisses"] = json::object();
  for (const auto& k : r.kisses) j["kisses"][std::string(k.code.begin(), k.code.end())] = k.count;
  j["talkers"] = json::array();
  for (const auto& t : r.top_talkers) {
    j["talkers"].push_back({{"address", model::to_string(t.address)}, {"packets", t.packets}});
  }
  j["answers"] = json::array();
  for (const auto& s : r.slowest) {
    j["answers"].push_back({{"delta_ns", s.delta.count()},
                            {"request_file", s.request_file},
                            {"request_frame", s.request_frame},
                            {"response_file", s.response_file},
                            {"response_frame", s.response_frame},
                            {"client", model::to_string(s.client)}});
  }
  j["intervals"] = r.intervals.size();
  j["client_table_bytes"] = r.client_table_bytes;
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  capture::census_options o;
  o.top = SIZE_MAX;
  o.slowest = SIZE_MAX;
  bool throughput = false;
  bool read_only = false;  // the floor: libpcap's read loop alone
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--port" && has_value) {
      o.server_port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
    } else if (a == "--timeout-ms" && has_value) {
      o.response_timeout = std::chrono::milliseconds(std::atoll(argv[++i]));
    } else if (a == "--interval-s" && has_value) {
      o.interval = std::chrono::seconds(std::atoll(argv[++i]));
    } else if (a == "--server" && has_value) {
      model::ip_address addr;
      if (!model::parse_ip_address(argv[++i], addr)) return 2;
      o.server_addresses.push_back(addr);
    } else if (a == "--read-only") {
      read_only = true;
      throughput = true;
    } else if (a == "--throughput") {
      throughput = true;
      o.top = 10;
      o.slowest = 10;
    } else {
      paths.push_back(a);
    }
  }
  capture::census census(o);
  capture::pcap_files files(paths);
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t bytes = 0;
  const auto frames = files.read([&](const capture::frame_view& v) {
    if (read_only) {
      bytes += v.bytes.size();
    } else {
      census.add_frame(v.time, v.link_type, v.bytes, {v.source, v.number});
    }
    return true;
  });
  if (read_only && bytes == 0 && frames > 0) return 1;
  const auto r = census.result();
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  if (throughput) {
    std::printf("%llu frames in %.3f s: %.0f frames/s; %zu clients, %zu bytes of client state\n",
                static_cast<unsigned long long>(frames), took.count(),
                static_cast<double>(frames) / took.count(), static_cast<std::size_t>(r.clients),
                r.client_table_bytes);
    return 0;
  }
  json j = result_json(r);
  j["files"] = json::array();
  for (const auto& f : files.files()) {
    std::string error;
    if (f.error.category() == capture::capture_category()) {
      switch (static_cast<capture::capture_errc>(f.error.value())) {
        case capture::capture_errc::cut:
          error = "cut";
          break;
        case capture::capture_errc::not_a_capture:
          error = "not_a_capture";
          break;
        case capture::capture_errc::mixed_interfaces:
          error = "mixed_interfaces";
          break;
        case capture::capture_errc::gzip_failed:
          error = "gzip_failed";
          break;
        default:
          error = "other";
          break;
      }
    } else if (f.error) {
      error = "system";
    }
    j["files"].push_back({{"path", f.path},
                          {"frames", f.frames},
                          {"error", error},
                          {"detail", f.detail},
                          {"link_type", f.link_type},
                          {"compressed", f.compressed},
                          {"pcapng", f.pcapng}});
  }
  std::cout << j.dump() << '\n';
  return 0;
}
