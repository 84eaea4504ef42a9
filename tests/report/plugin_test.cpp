// report/plugin.hpp, the plugin writer as an engine over rows any program gives it: states
// combine as the monitoring-plugins combine them, rows are judged and written as perfdata in
// the guidelines' form or in check_ntp_time's.

#include "ntpkit/report/plugin.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace ntpkit;
using report::plugin_item;
using report::plugin_state;

namespace {

report::nagios_range range(std::string_view text) { return report::parse_nagios_range(text).value(); }

plugin_item item(const char* where, plugin_state s) {
  plugin_item i;
  i.where = where;
  i.state = s;
  i.summary = "x";
  return i;
}

}  // namespace

TEST_CASE("states rank CRITICAL > WARNING > UNKNOWN > OK") {
  using enum plugin_state;
  CHECK(report::worse(ok, unknown) == unknown);
  CHECK(report::worse(unknown, warning) == warning);
  CHECK(report::worse(warning, unknown) == warning);
  CHECK(report::worse(critical, warning) == critical);
  CHECK(report::worse(ok, ok) == ok);
}

TEST_CASE("one WARNING address beside one that does not answer is WARNING, not UNKNOWN") {
  // The monitoring-plugins' rule: an answer that is out of range says more than a silence.
  const auto out = report::combine({item("a", plugin_state::warning),
                                    item("b", plugin_state::unknown)}, {});
  CHECK(out.state == plugin_state::warning);
  CHECK(out.line.starts_with("NTP WARNING: 0 of 2 servers OK; a x; b x"));
  CHECK(report::combine({item("a", plugin_state::ok), item("b", plugin_state::unknown)}, {})
            .state == plugin_state::unknown);
  CHECK(report::combine({item("a", plugin_state::critical), item("b", plugin_state::warning)}, {})
            .state == plugin_state::critical);
  CHECK(report::combine({}, {}).state == plugin_state::unknown);
}

TEST_CASE("min_ok: OK with N OK items, WARNING with N at least WARNING, else CRITICAL") {
  report::combine_options o;
  o.min_ok = 2;
  const std::vector<plugin_item> two_ok{item("a", plugin_state::ok), item("b", plugin_state::ok),
                                        item("c", plugin_state::critical)};
  CHECK(report::combine(two_ok, o).state == plugin_state::ok);
  const std::vector<plugin_item> warned{item("a", plugin_state::ok),
                                        item("b", plugin_state::warning),
                                        item("c", plugin_state::unknown)};
  CHECK(report::combine(warned, o).state == plugin_state::warning);
  const std::vector<plugin_item> one{item("a", plugin_state::ok), item("b", plugin_state::unknown)};
  const auto out = report::combine(one, o);
  CHECK(out.state == plugin_state::critical);
  CHECK(out.line.find("(at least 2 required)") != std::string::npos);
}

TEST_CASE("judge raises to the state of the first range that alerts and names value and range") {
  plugin_item i;
  report::metric_row r{"delay", 0.3, 0.3, "", {range("0.1"), range("0.5")}, "s", "0", "", 3};
  i.judge(r);
  CHECK(i.state == plugin_state::warning);
  REQUIRE(i.problems.size() == 1);
  CHECK(i.problems[0] == "delay 0.300 outside warning range 0.1");
  r.value = r.judged = 0.7;
  i.judge(r);
  CHECK(i.state == plugin_state::critical);
  CHECK(i.problems[1] == "delay 0.700 outside critical range 0.5");
  CHECK(i.metrics.size() == 2);
}

TEST_CASE("an @ range that alerts says the value is inside it, and |offset| names its size") {
  plugin_item i;
  i.judge({"stratum", 3, 3, "", {{}, range("@1:4")}, "", "0", "16", 0});
  REQUIRE(i.problems.size() == 1);
  CHECK(i.problems[0] == "stratum 3 inside critical range @1:4");
  plugin_item o;
  o.judge({"offset", -0.5, 0.5, "|offset|", {range("0.4"), {}}, "s", "", "", 3});
  REQUIRE(o.problems.size() == 1);
  CHECK(o.problems[0] == "|offset| 0.500 outside warning range 0.4");
}

TEST_CASE("perfdata: the guidelines' form with ranges as written, or check_ntp_time's") {
  const report::metric_row r{"offset", -0.25, 0.25, "|offset|", {range("~:0.1"), range("@1:2")},
                             "s", "", "", 9};
  CHECK(report::perfdata(r, "") == "'offset'=-0.250000000s;~:0.1;@1:2;;");
  CHECK(report::perfdata(r, "192.0.2.1 ") == "'192.0.2.1 offset'=-0.250000000s;~:0.1;@1:2;;");
  // monitoring-plugins fperfdata(): only each range's end, %f, no quotes, min/max empty.
  CHECK(report::perfdata(r, "", report::perfdata_style::range_end) ==
        "offset=-0.250000s;0.100000;2.000000;");
  const report::metric_row open{"offset", 1, 1, "", {range("10:"), {}}, "s", "", "", 9};
  CHECK(report::perfdata(open, "", report::perfdata_style::range_end) ==
        "offset=1.000000s;0.000000;0.000000;");
}

TEST_CASE("combine writes the service word, the one item's description and all perfdata") {
  plugin_item i = item("ntp1 192.0.2.1:123", plugin_state::ok);
  i.judge({"stratum", 2, 2, "", {}, "", "0", "16", 0});
  report::combine_options o;
  o.service = "NTPPEER";
  const auto out = report::combine({i}, o);
  CHECK(out.line == "NTPPEER OK: ntp1 192.0.2.1:123 x|'stratum'=2;;;0;16\n");
}

TEST_CASE("when every item is OK, the line shows the figures of the worst one") {
  // A dual-stack name whose two addresses are OK said only "2 of 2 servers OK".
  auto a = item("ntp1 192.0.2.1:123", plugin_state::ok);
  a.summary = "offset +0.001 s";
  a.severity = 0.001;
  auto b = item("ntp1 [2001:db8::1]:123", plugin_state::ok);
  b.summary = "offset -0.004 s";
  b.severity = 0.004;
  CHECK(report::combine({a, b}, {}).line ==
        "NTP OK: 2 of 2 servers OK; worst ntp1 [2001:db8::1]:123 offset -0.004 s\n");
}
