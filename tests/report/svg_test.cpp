// report/svg.hpp: the chart engine's round tick steps, escaping, and ntpclients' picture for
// inputs with and without NTP.

#include "ntpkit/report/svg.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace ntpkit;
using namespace std::chrono_literals;

TEST_CASE("nice_step gives 1, 2 or 5 times a power of ten") {
  CHECK(report::nice_step(10, 5) == doctest::Approx(2));
  CHECK(report::nice_step(100, 4) == doctest::Approx(50));
  CHECK(report::nice_step(0.003, 3) == doctest::Approx(0.001));
  CHECK(report::nice_step(7, 8) == doctest::Approx(1));
  for (const double range : {0.37, 1.0, 13.0, 999.0, 123456.0}) {
    const double s = report::nice_step(range, 6);
    CHECK(s > 0);
    CHECK(range / s <= 6.0 + 1e-9);
  }
}

TEST_CASE("svg_document escapes text and draws every series") {
  report::chart c;
  c.title = "a <b> & \"c\"";
  c.series.push_back({"line", {{0, 1}, {1, 3}, {2, 2}}, "#1f77b4", false, 0});
  c.series.push_back({"bars", {{0, 2}, {1, 1}}, "#ff7f0e", true, 0});
  const auto svg = report::svg_document({c}, 600, 200, "caption & more");
  CHECK(svg.rfind("<?xml", 0) == 0);
  CHECK(svg.find("a &lt;b&gt; &amp; &quot;c&quot;") != std::string::npos);
  CHECK(svg.find("caption &amp; more") != std::string::npos);
  CHECK(svg.find("<polyline") != std::string::npos);
  CHECK(svg.find("<rect") != std::string::npos);
  CHECK(svg.find("a <b>") == std::string::npos);
  CHECK(svg.substr(svg.size() - 7) == "</svg>\n");
}

TEST_CASE("census_svg: an input without NTP gives one panel saying so") {
  model::clients_run r;
  const auto svg = report::census_svg(r);
  CHECK(svg.find("No NTP datagrams on port 123") != std::string::npos);
  CHECK(svg.find("<polyline") == std::string::npos);
}
