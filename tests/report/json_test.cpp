#include "ntpkit/report/json.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "support/report_fixture.hpp"

using namespace ntpkit;
// ordered_json keeps the key order of the document, which the tests also pin.
using json = nlohmann::ordered_json;

namespace {

json probe_doc() {
  return json::parse(report::probe_json(test::fixture_report(), {"ntpprobe", "0.1.0-test"}));
}

// Every object key anywhere in `j`, checked against DESIGN.md's snake_case rule.
void check_snake_case_keys(const json& j, const std::string& path) {
  static const std::regex snake("^[a-z][a-z0-9_]*$");
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      CAPTURE(path);
      CAPTURE(key);
      CHECK(std::regex_match(key, snake));
      check_snake_case_keys(value, path + "." + key);
    }
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) {
      check_snake_case_keys(j[i], path + "[" + std::to_string(i) + "]");
    }
  }
}

// DESIGN.md: timestamps are objects with an ISO 8601 UTC string and ntpq's raw hex.
void check_timestamp(const json& t, const char* iso, const char* ntp) {
  REQUIRE(t.is_object());
  CHECK(t.at("iso") == iso);
  CHECK(t.at("ntp") == ntp);
}

}  // namespace

TEST_CASE("probe_json: top level has the schema version, tool, start time and summary") {
  const auto raw = report::probe_json(test::fixture_report(), {"ntpprobe", "0.1.0-test"});
  CHECK(raw.back() == '\n');
  const auto j = json::parse(raw);
  CHECK(j.begin().key() == "schema");  // first, so a reader can dispatch on it
  CHECK(j.at("schema") == 1);
  CHECK(j.at("schema").is_number_integer());
  CHECK(j.at("tool") == "ntpprobe");
  CHECK(j.at("version") == "0.1.0-test");
  // 2026-11-26T04:00:00Z is NTP second 1795665600 + 2208988800 = 4004654400 = 0xeeb22d40.
  check_timestamp(j.at("started"), "2026-11-26T04:00:00.000000000Z", "0xeeb22d40.00000000");
  CHECK(j.at("ok") == false);
  const auto& s = j.at("summary");
  CHECK(s.at("targets") == 3);
  CHECK(s.at("targets_ok") == 1);  // the unresolved name fails as a target, not as an address
  CHECK(s.at("targets_failed") == 2);
  CHECK(s.at("addresses") == 3);
  CHECK(s.at("addresses_ok") == 1);
  CHECK(s.at("addresses_failed") == 2);
  check_snake_case_keys(j, "$");
}

TEST_CASE("probe_json: a good address has seconds as numbers and the server's header") {
  const auto j = probe_doc();
  const auto& t = j.at("targets").at(0);
  CHECK(t.at("target") == "127.0.0.1:11123");
  CHECK(t.at("host") == "127.0.0.1");
  CHECK(t.at("port") == 11123);
  CHECK(t.at("ok") == true);
  CHECK(t.at("error").is_null());
  const auto& a = t.at("addresses").at(0);
  CHECK(a.at("address") == "127.0.0.1");
  CHECK(a.at("port") == 11123);
  CHECK(a.at("family") == "ipv4");
  CHECK(a.at("ok") == true);
  CHECK(a.at("error").is_null());
  CHECK(a.at("requests") == 2);
  CHECK(a.at("replies") == 1);
  CHECK(a.at("ignored") == json::object());
  // Values derived in report_fixture.hpp; all exact binary fractions.
  for (const char* k : {"offset", "delay", "processing", "dispersion", "jitter", "root_distance"}) {
    CAPTURE(k);
    CHECK(a.at(k).is_number());
  }
  CHECK(a.at("offset") == 9.875);
  CHECK(a.at("delay") == 0.25);
  CHECK(a.at("processing") == 0.25);
  CHECK(a.at("dispersion") == 0.000244140625);
  CHECK(a.at("jitter") == 0.0);
  CHECK(a.at("root_distance") == 0.625244140625);

  const auto& srv = a.at("server");
  CHECK(srv.at("leap") == 0);
  CHECK(srv.at("leap_name") == "none");
  CHECK(srv.at("version") == 4);
  CHECK(srv.at("mode") == 4);
  CHECK(srv.at("mode_name") == "server");
  CHECK(srv.at("stratum") == 2);
  CHECK(srv.at("poll") == 6);
  CHECK(srv.at("precision") == -20);
  CHECK(srv.at("precision_seconds") == 9.5367431640625e-07);  // 2^-20
  CHECK(srv.at("root_delay") == 0.5);
  CHECK(srv.at("root_dispersion") == 0.25);
  CHECK(srv.at("refid") ==
        json{{"raw", "0xc0000201"}, {"text", "192.0.2.1"}, {"kind", "ipv4"}});  // no meaning
  check_timestamp(srv.at("reference_time"), "2026-11-26T03:58:56.000000000Z",
                  "0xeeb22d00.00000000");
  CHECK(srv.at("extension_fields") == 0);
  CHECK(srv.at("mac").is_null());
}

TEST_CASE("probe_json: samples carry T1..T4 as timestamps, the verdict and every check run") {
  const auto j = probe_doc();
  const auto& samples = j.at("targets").at(0).at("addresses").at(0).at("samples");
  REQUIRE(samples.size() == 1);
  const auto& s = samples.at(0);
  CHECK(s.at("attempt") == 0);
  CHECK(s.at("selected") == true);
  CHECK(s.at("verdict") == "ok");
  check_timestamp(s.at("t1"), "2026-11-26T04:00:00.000000000Z", "0xeeb22d40.00000000");
  CHECK(s.at("t1").at("source") == "kernel");
  check_timestamp(s.at("t2"), "2026-11-26T04:00:10.000000000Z", "0xeeb22d4a.00000000");
  check_timestamp(s.at("t3"), "2026-11-26T04:00:10.250000000Z", "0xeeb22d4a.40000000");
  check_timestamp(s.at("t4"), "2026-11-26T04:00:00.500000000Z", "0xeeb22d40.80000000");
  CHECK(s.at("t4").at("source") == "user");
  CHECK(s.at("offset") == 9.875);
  CHECK(s.at("delay") == 0.25);
  // Twelve checks ran (no key, so no "mac") and passed.
  const auto& checks = s.at("checks");
  CHECK(checks.size() == 12);
  CHECK_FALSE(checks.contains("mac"));
  for (const char* k :
       {"source", "mode", "version", "origin", "transmit", "receive", "server_order", "round_trip",
        "leap", "stratum", "root_distance", "reference"}) {
    CAPTURE(k);
    CHECK(checks.at(k) == true);
  }
  CHECK_FALSE(s.contains("kiss_code"));
}

TEST_CASE("probe_json: errors are objects with a kind, and a kiss carries its code") {
  const auto j = probe_doc();
  const auto& unresolved = j.at("targets").at(1);
  CHECK(unresolved.at("ok") == false);
  CHECK(unresolved.at("error") ==
        json{{"kind", "resolve"}, {"message", "name does not resolve (Host not found)"}});
  CHECK(unresolved.at("addresses") == json::array());

  const auto& two = j.at("targets").at(2).at("addresses");
  const auto& v6 = two.at(0);
  CHECK(v6.at("family") == "ipv6");
  CHECK(v6.at("address") == "::1");  // numeric, no brackets
  CHECK(v6.at("error") == json{{"kind", "timeout"}, {"message", "no reply (ignored: 1 origin)"}});
  CHECK(v6.at("ignored") == json{{"origin", 1}});
  CHECK(v6.at("replies") == 0);
  CHECK(v6.at("server").is_null());
  CHECK(v6.at("samples") == json::array());
  for (const char* k : {"offset", "delay", "processing", "dispersion", "jitter", "root_distance"}) {
    CAPTURE(k);
    CHECK(v6.at(k).is_null());  // present, but null: no number to report
  }

  const auto& kissed = two.at(1);
  CHECK(kissed.at("ok") == false);
  CHECK(kissed.at("error") ==
        json{{"kind", "kiss"}, {"message", "kiss-o'-death RATE (rate exceeded: the client must send less often); no further requests sent"}, {"kiss_code", "RATE"}});
  CHECK(kissed.at("offset").is_null());
  // The server block shows the last reply even when none was usable.
  const auto& srv = kissed.at("server");
  CHECK(srv.at("stratum") == 0);
  CHECK(srv.at("leap_name") == "unsynchronised");
  CHECK(srv.at("refid").at("kind") == "kiss_code");
  CHECK(srv.at("refid").at("text") == "RATE");
  CHECK(srv.at("refid").at("raw") == "0x52415445");
  CHECK(srv.at("refid").contains("meaning"));
  // A zero reference time has no calendar date: iso is null, the raw value stays.
  CHECK(srv.at("reference_time") == json{{"iso", nullptr}, {"ntp", "0x00000000.00000000"}});
  const auto& sample = kissed.at("samples").at(0);
  CHECK(sample.at("verdict") == "kiss");
  CHECK(sample.at("selected") == false);
  CHECK(sample.at("kiss_code") == "RATE");
  CHECK(sample.at("checks").at("leap") == false);
  CHECK(sample.at("checks").at("stratum") == false);
  CHECK_FALSE(sample.at("checks").contains("reference"));
}

TEST_CASE("target_json_line is one line with the schema and tool first") {
  const auto r = test::fixture_report();
  const auto line = report::target_json_line(r.targets.at(2), {"ntpprobe", "0.1.0-test"});
  REQUIRE_FALSE(line.empty());
  CHECK(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);
  const auto j = json::parse(line);
  auto it = j.begin();
  CHECK(it.key() == "schema");
  CHECK((++it).key() == "tool");
  CHECK(j.at("schema") == 1);
  CHECK(j.at("target") == "localhost:11124");
  CHECK(j.at("addresses").size() == 2);
  check_snake_case_keys(j, "$");
}

TEST_CASE("write_probe_json writes, piece by piece, exactly nlohmann's pretty print") {
  // The pieces are one per target, indented by hand; they must join to what dumping the
  // whole tree at once gives, byte for byte.
  const auto r = test::fixture_report();
  std::vector<std::string> pieces;
  report::write_probe_json(r, {"ntpprobe", "0.1.0-test"},
                           [&](const std::string& p) { pieces.push_back(p); });
  std::string joined;
  for (const auto& p : pieces) joined += p;
  CHECK(pieces.size() == r.targets.size() + 2);
  CHECK(joined == json::parse(joined).dump(2) + "\n");
  CHECK(joined == report::probe_json(r, {"ntpprobe", "0.1.0-test"}));
  model::ntp_run empty;
  const auto none = report::probe_json(empty, {"ntpprobe", "0.1.0-test"});
  CHECK(none == json::parse(none).dump(2) + "\n");
}
