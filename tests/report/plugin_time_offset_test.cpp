#include <doctest/doctest.h>

#include "ntpkit/report/ntp_plugin.hpp"
#include "support/report_fixture.hpp"

using namespace ntpkit;

namespace {

// Target 0 of the fixture alone: one good sample with offset +9.875 s.
model::ntp_run answered() {
  auto r = test::fixture_report();
  r.targets.resize(1);
  return r;
}

report::plugin_policy warn_over(const char* range) {
  report::plugin_policy p;
  p.offset.warning = *report::parse_nagios_range(range);
  return p;
}

}  // namespace

TEST_CASE("evaluate_plugin: time_offset_s is added to the offset before it is judged") {
  // check_ntp_time -o: the expected offset of the server, here cancelling the real 9.875 s.
  auto p = warn_over("0.1");
  CHECK(report::evaluate_plugin(answered(), p).state == report::plugin_state::warning);
  p.time_offset_s = -9.875;
  const auto out = report::evaluate_plugin(answered(), p);
  CHECK(out.state == report::plugin_state::ok);
  CHECK(out.line.find("'offset'=0.000000000s;0.1;") != std::string::npos);
  // The sum is judged by its absolute value, as check_ntp_time does.
  p.time_offset_s = -20;
  CHECK(report::evaluate_plugin(answered(), p).state == report::plugin_state::warning);
}
