#include "ntpkit/report/prometheus.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/report_fixture.hpp"

using namespace ntpkit;

namespace {

// The exposition as series -> value, and the HELP/TYPE lines by family, parsed by hand so the
// tests pin the text itself (promtool checks the syntax in tests/cli/test_prometheus.py).
struct exposition {
  std::map<std::string, std::string> series;
  std::vector<std::string> order;  // family names in HELP order
  std::map<std::string, std::string> types;
};

exposition parse(const std::string& text) {
  exposition e;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0) {
      e.order.push_back(line.substr(7, line.find(' ', 7) - 7));
    } else if (line.rfind("# TYPE ", 0) == 0) {
      const auto name_end = line.find(' ', 7);
      e.types[line.substr(7, name_end - 7)] = line.substr(name_end + 1);
    } else {
      const auto space = line.rfind(' ');
      REQUIRE(space != std::string::npos);
      const auto [it, fresh] = e.series.emplace(line.substr(0, space), line.substr(space + 1));
      CAPTURE(line);
      CHECK(fresh);  // no series twice
    }
  }
  return e;
}

const std::string good = R"(server="127.0.0.1:11123",address="127.0.0.1",family="ipv4")";
const std::string kissed = R"(server="localhost:11124",address="127.0.0.1",family="ipv4")";
const std::string v6 = R"(server="localhost:11124",address="::1",family="ipv6")";
const std::string unresolved = R"(server="nosuch.invalid",address="",family="")";

std::string at(const exposition& e, const std::string& name, const std::string& labels) {
  const auto it = e.series.find(name + "{" + labels + "}");
  return it == e.series.end() ? "absent" : it->second;
}

}  // namespace

TEST_CASE("probe_prometheus: every family has HELP and TYPE gauge lines, ntpkit_ names") {
  const auto text = report::probe_prometheus(test::fixture_report(), {"ntpprobe", "0.1.0-test"});
  REQUIRE(!text.empty());
  CHECK(text.back() == '\n');
  const auto e = parse(text);
  static const std::regex name("^ntpkit_[a-z_]+$");
  for (const auto& f : e.order) {
    CAPTURE(f);
    CHECK(std::regex_match(f, name));
    CHECK(e.types.at(f) == "gauge");
  }
  CHECK(e.order.size() == e.types.size());
  // Each series belongs to the family whose HELP came last before it (grouped, not interleaved).
  for (const auto& [series, value] : e.series) {
    const auto family = series.substr(0, series.find('{'));
    CAPTURE(series);
    CHECK(e.types.count(family) == 1);
  }
}

TEST_CASE("probe_prometheus: an answered address has its measurements in seconds") {
  const auto e = parse(report::probe_prometheus(test::fixture_report(), {"ntpprobe", "x"}));
  // Values derived in support/report_fixture.hpp.
  CHECK(at(e, "ntpkit_up", good) == "1");
  CHECK(at(e, "ntpkit_requests", good) == "2");
  CHECK(at(e, "ntpkit_replies", good) == "1");
  CHECK(at(e, "ntpkit_offset_seconds", good) == "9.875");
  CHECK(at(e, "ntpkit_delay_seconds", good) == "0.25");
  CHECK(at(e, "ntpkit_processing_seconds", good) == "0.25");
  CHECK(at(e, "ntpkit_dispersion_seconds", good) == "0.000244140625");
  CHECK(at(e, "ntpkit_jitter_seconds", good) == "0");
  CHECK(at(e, "ntpkit_root_distance_seconds", good) == "0.625244140625");
  CHECK(at(e, "ntpkit_root_delay_seconds", good) == "0.5");
  CHECK(at(e, "ntpkit_root_dispersion_seconds", good) == "0.25");
  CHECK(at(e, "ntpkit_stratum", good) == "2");
  CHECK(at(e, "ntpkit_leap", good) == "0");
  CHECK(at(e, "ntpkit_precision_seconds", good) == "9.5367431640625e-07");  // 2^-20
  // Reference time 2026-11-26T03:58:56Z = Unix 1795665600 - 64.
  CHECK(at(e, "ntpkit_reference_timestamp_seconds", good) == "1795665536");
  CHECK(at(e, "ntpkit_server_info",
           good + R"(,refid="192.0.2.1",refid_kind="ipv4",version="4",mode="server",)"
                  R"(leap="none")") == "1");
  CHECK(at(e, "ntpkit_error_info", good + R"(,kind="timeout",kiss_code="")") == "absent");
}

TEST_CASE("probe_prometheus: failures are up 0 with an error kind, and no measurements") {
  const auto e = parse(report::probe_prometheus(test::fixture_report(), {"ntpprobe", "x"}));
  CHECK(at(e, "ntpkit_up", unresolved) == "0");
  CHECK(at(e, "ntpkit_error_info", unresolved + R"(,kind="resolve",kiss_code="")") == "1");

  CHECK(at(e, "ntpkit_up", v6) == "0");
  CHECK(at(e, "ntpkit_requests", v6) == "3");
  CHECK(at(e, "ntpkit_replies", v6) == "0");
  CHECK(at(e, "ntpkit_error_info", v6 + R"(,kind="timeout",kiss_code="")") == "1");
  CHECK(at(e, "ntpkit_offset_seconds", v6) == "absent");  // absent, not NaN
  CHECK(at(e, "ntpkit_stratum", v6) == "absent");

  // A Kiss-o'-Death: the code is a label; its stratum 0 and LI 3 are not the server's state.
  CHECK(at(e, "ntpkit_up", kissed) == "0");
  CHECK(at(e, "ntpkit_replies", kissed) == "1");
  CHECK(at(e, "ntpkit_error_info", kissed + R"(,kind="kiss",kiss_code="RATE")") == "1");
  CHECK(at(e, "ntpkit_offset_seconds", kissed) == "absent");
  CHECK(at(e, "ntpkit_stratum", kissed) == "absent");
  CHECK(at(e, "ntpkit_leap", kissed) == "absent");
}

TEST_CASE("probe_prometheus: run-wide series carry the version and the start time") {
  const auto e = parse(report::probe_prometheus(test::fixture_report(), {"ntpprobe", "9.8.7"}));
  CHECK(at(e, "ntpkit_build_info", R"(tool="ntpprobe",version="9.8.7")") == "1");
  // 2026-11-26T04:00:00Z; no labels, so no braces.
  CHECK(e.series.at("ntpkit_last_run_timestamp_seconds") == "1795665600");
}

TEST_CASE("probe_prometheus: a server named twice gives each series once") {
  auto r = test::fixture_report();
  r.targets.push_back(r.targets.front());
  r.targets.push_back(r.targets[1]);
  parse(report::probe_prometheus(r, {"ntpprobe", "x"}));  // parse() CHECKs for repeats
}

TEST_CASE("probe_prometheus: families with no series are left out") {
  model::ntp_run r;
  r.started = test::fixture_date();
  const auto text = report::probe_prometheus(r, {"ntpprobe", "x"});
  CHECK(text.find("ntpkit_offset_seconds") == std::string::npos);
  CHECK(text.find("# TYPE ntpkit_build_info gauge") != std::string::npos);
}

TEST_CASE("prometheus_escape: backslash, double quote and newline are escaped, nothing else") {
  CHECK(report::prometheus_escape("plain.example:123") == "plain.example:123");
  CHECK(report::prometheus_escape("a\\b") == "a\\\\b");
  CHECK(report::prometheus_escape("say \"hi\"") == "say \\\"hi\\\"");
  CHECK(report::prometheus_escape("two\nlines") == "two\\nlines");
  CHECK(report::prometheus_escape("tab\tkept") == "tab\tkept");
}

TEST_CASE("prometheus_number: shortest round-trip form, and the text format's NaN and Inf") {
  CHECK(report::prometheus_number(0) == "0");
  CHECK(report::prometheus_number(-0.25) == "-0.25");
  CHECK(report::prometheus_number(1.5e-5) == "1.5e-05");
  CHECK(report::prometheus_number(0.1) == "0.1");  // not 0.10000000000000001
  CHECK(report::prometheus_number(std::numeric_limits<double>::quiet_NaN()) == "NaN");
  CHECK(report::prometheus_number(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(report::prometheus_number(-std::numeric_limits<double>::infinity()) == "-Inf");
  for (const double v : {1e-9, 123456.789, 1795665600.123456, -3.0e-300}) {
    CAPTURE(v);
    CHECK(std::stod(report::prometheus_number(v)) == v);
  }
}

TEST_CASE("exposition: typed families in declaration order, empty ones left out") {
  report::exposition e;
  const auto requests = e.family("x_requests_total", "Requests.", report::metric_type::counter);
  const auto unused = e.family("x_unused", "Nothing.", report::metric_type::gauge);
  const auto rtt = e.family("x_rtt_seconds", "Round trips.", report::metric_type::histogram);
  (void)unused;
  e.add(requests, {{"server", "a\"b"}}, 3);
  e.add(requests, {{"server", "a\"b"}}, 4);  // a repeat is dropped
  const std::pair<double, std::uint64_t> buckets[] = {{0.001, 2}, {0.01, 5}};
  e.add_histogram(rtt, {{"server", "a"}}, buckets, 0.0234, 7);
  CHECK(e.str() ==
        "# HELP x_requests_total Requests.\n"
        "# TYPE x_requests_total counter\n"
        "x_requests_total{server=\"a\\\"b\"} 3\n"
        "# HELP x_rtt_seconds Round trips.\n"
        "# TYPE x_rtt_seconds histogram\n"
        "x_rtt_seconds_bucket{server=\"a\",le=\"0.001\"} 2\n"
        "x_rtt_seconds_bucket{server=\"a\",le=\"0.01\"} 5\n"
        "x_rtt_seconds_bucket{server=\"a\",le=\"+Inf\"} 7\n"
        "x_rtt_seconds_sum{server=\"a\"} 0.0234\n"
        "x_rtt_seconds_count{server=\"a\"} 7\n");
}
