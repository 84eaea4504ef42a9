#include "ntpkit/report/control.hpp"

#include <doctest/doctest.h>

#include <string>

#include "ntpkit/proto/control_vars.hpp"

using namespace ntpkit;

TEST_CASE("peers_text lays out a row exactly as NTPsec's ntpq -p") {
  // The unfed SHM clock of tests/model/control_test.cpp; the line is ntpq's own.
  model::peer_summary p;
  p.remote = "SHM(0)";
  p.refid = ".SHM0.";
  p.stratum = 0;
  p.type = 'l';
  p.poll_s = 2;
  p.delay_ms = 0.0;
  p.offset_ms = 0.0;
  p.jitter_ms = 0.00006;
  p.decimals = 4;
  const auto text = report::peers_text({p});
  CHECK(text ==
        "     remote           refid      st t when poll reach   delay   offset   jitter\n"
        "===============================================================================\n"
        " SHM(0)          .SHM0.           0 l    -    2    0   0.0000   0.0000   0.0001\n");
}

TEST_CASE("peers_text scales numbers, intervals and truncates long names as ntpq") {
  model::peer_summary p;
  p.tally = '*';
  p.remote = "2001:db8:1234:5678::1";
  p.refid = "2001:db8:aaaa:bbbb::2";
  p.stratum = 2;
  p.type = 'u';
  p.when_s = 3000;     // (3000 + 29) / 60 = 50.48 -> 50m
  p.poll_s = 1024;
  p.reach = 0377;
  p.delay_ms = 1234.5678;
  p.offset_ms = -123.456789;
  p.jitter_ms = 0.5;
  p.decimals = 4;
  const auto text = report::peers_text({p});
  const auto line = text.substr(text.rfind('\n', text.size() - 2) + 1);
  CHECK(line ==
        "*2001:db8:1234:5 -8:aaaa:bbbb::2  2 u  50m 1024  377 1234.568 -123.457   0.5000\n");
}

TEST_CASE("clock_status_text reads the high nibble as a saturating count of reports") {
  // NTPsec 1.2.2, unfed SHM clock: status 0051 at noreply=5, 00f1 from noreply=15 on.
  CHECK(report::clock_status_text(0x0051) == "clk_no_reply, 5 events");
  CHECK(report::clock_status_text(0x00f1) == "clk_no_reply, 15 events or more");
  CHECK(report::clock_status_text(0x0010) == "clk_unspec, 1 event");
  CHECK(report::system_status_text(0x0615) == "leap_none, sync_ntp, 1 event, clock_sync");
  CHECK(report::peer_status_text(0x961a) ==
        "conf, reach, sel_sys.peer, 1 event, sys_peer");
}

TEST_CASE("variables_text keeps the values as sent and escapes unprintable bytes") {
  model::control_read r;
  r.outcome = proto::control_outcome::response;
  r.status = 0x0615;
  r.variables = proto::parse_variables(std::string_view("stratum=4, x=a\x01, version=\"ntpd\""));
  CHECK(report::variables_text(r) ==
        "associd=0 status=0615 leap_none, sync_ntp, 1 event, clock_sync,\n"
        "stratum=4, x=a\\x01, version=\"ntpd\"\n");
}
