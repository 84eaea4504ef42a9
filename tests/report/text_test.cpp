#include "ntpkit/report/text.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support/report_fixture.hpp"

using namespace ntpkit;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    out.push_back(text.substr(start, nl - start));
  }
  CHECK(start == text.size());  // every line ends in a newline
  return out;
}

}  // namespace

TEST_CASE("probe_text: one line per address, or per unresolved target") {
  // Golden text for report_fixture.hpp, derived by hand: the server's time is T4 + offset =
  // 04:00:00.5 + 9.875 s = 04:00:10.375 (6 digits); ± is the root distance 0.625244140625 s
  // with 6 digits; the host is not repeated when it is the address itself; IPv6 addresses are
  // bracketed and followed by the name they came from.
  const std::string expected =
      "2026-11-26T04:00:10.375000Z  127.0.0.1:11123  offset +9.875000000 ±0.625244 s  "
      "delay 0.250000000 s  stratum 2  refid 192.0.2.1  leap none\n"
      "nosuch.invalid  error resolve: name does not resolve (Host not found)\n"
      "[::1]:11124 (localhost)  error timeout: no reply (ignored: 1 origin)\n"
      "127.0.0.1:11124 (localhost)  error kiss: kiss-o'-death RATE (rate exceeded: the client must send less often); no further requests sent\n";
  CHECK(report::probe_text(test::fixture_report(), false) == expected);
}

TEST_CASE("target_text verbose: every header field, timestamp, check and sample of an address") {
  // Golden block for target 0 of report_fixture.hpp; names padded to 17 columns after two
  // spaces, seconds with 9 digits (2^-20 s = 0.000000954, 2^-12 s = 0.000244141, root
  // distance 0.625244140625 = 0.625244141).
  const std::vector<std::string> expected = {
      "127.0.0.1:11123",
      "  status           ok",
      "  traffic          2 request(s), 1 reply(ies) taken",
      "  offset           +9.875000000 s",
      "  delay            +0.250000000 s",
      "  processing       +0.250000000 s  (T3 - T2)",
      "  jitter           +0.000000000 s",
      "  root distance    +0.625244141 s",
      "  leap             none (0)",
      "  version          4",
      "  mode             server (4)",
      "  stratum          2",
      "  poll             6 (2^6 s)",
      "  precision        -20 (0.000000954 s)",
      "  root delay       0.500000000 s",
      "  root dispersion  0.250000000 s",
      "  refid            192.0.2.1  0xc0000201  ipv4",
      "  reference time   2026-11-26T03:58:56.000000000Z  0xeeb22d00.00000000",
      "  extensions       0 field(s)",
      "  mac              none",
      "  sample 1 (selected): ok",
      "    T1 origin      2026-11-26T04:00:00.000000000Z  0xeeb22d40.00000000  kernel",
      "    T2 receive     2026-11-26T04:00:10.000000000Z  0xeeb22d4a.00000000",
      "    T3 transmit    2026-11-26T04:00:10.250000000Z  0xeeb22d4a.40000000",
      "    T4 destination 2026-11-26T04:00:00.500000000Z  0xeeb22d40.80000000  user",
      "    offset         +9.875000000 s",
      "    delay          +0.250000000 s",
      "    processing     +0.250000000 s  (T3 - T2)",
      "    dispersion     +0.000244141 s",
      "    checks         all passed (source mode version origin transmit receive server_order "
      "round_trip leap stratum root_distance reference)",
  };
  const auto r = test::fixture_report();
  CHECK(lines_of(report::target_text(r.targets.at(0), true)) == expected);
}

TEST_CASE("target_text verbose: failed addresses show their error, traffic and last reply") {
  const auto r = test::fixture_report();
  const auto lines = lines_of(report::target_text(r.targets.at(2), true));
  REQUIRE(lines.size() > 6);
  // The timed-out [::1]: no header block, the ignored datagram is counted.
  CHECK(lines[0] == "[::1]:11124 (localhost)");
  CHECK(lines[1] == "  status           error timeout: no reply (ignored: 1 origin)");
  CHECK(lines[2] == "  traffic          3 request(s), 0 reply(ies) taken, 1 ignored (origin)");
  // The KoD: no offset block (nothing selected), but the reply's header and its checks.
  CHECK(lines[3] == "127.0.0.1:11124 (localhost)");
  CHECK(lines[4] == "  status           error kiss: kiss-o'-death RATE (rate exceeded: the client must send less often); no further requests sent");
  CHECK(lines[5] == "  traffic          1 request(s), 1 reply(ies) taken");
  CHECK(lines[6] == "  leap             unsynchronised (3)");
  auto has_line_starting = [&](const std::string& prefix) {
    for (const auto& l : lines) {
      if (l.rfind(prefix, 0) == 0) return true;
    }
    return false;
  };
  CHECK(has_line_starting("  refid            .RATE.  0x52415445  kiss_code: "));
  CHECK(has_line_starting("  reference time   (zero)          0x00000000.00000000"));
  CHECK(has_line_starting("  sample 1: kiss"));
  CHECK(
      has_line_starting("    checks         FAILED leap stratum; passed source mode version "
                        "origin transmit receive server_order round_trip root_distance"));
  CHECK_FALSE(has_line_starting("  offset "));
}

TEST_CASE("target_text: a resolve error is one line naming the target as given") {
  const auto r = test::fixture_report();
  CHECK(report::target_text(r.targets.at(1), true) ==
        "nosuch.invalid  error resolve: name does not resolve (Host not found)\n");
}
