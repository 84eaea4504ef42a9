// ntpmon-query's readings and writers over mode 6 answers captured from NTPsec 1.2.2 ntpd
// (tests/proto/data/mode6_captures.hpp, with what ntpq printed for each): the association
// list prints as ntpq's `as` table, raw variable lists keep exactly the values `ntpq -c raw`
// printed, and the PARSE clock's words decode to those ntpq showed.

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "ntpkit/model/control.hpp"
#include "ntpkit/proto/control.hpp"
#include "ntpkit/proto/refclock.hpp"
#include "ntpkit/report/control.hpp"
#include "proto/data/mode6_captures.hpp"
#include "support/test_support.hpp"

using namespace ntpkit;
namespace cap = ntpkit::test::mode6;

namespace {

// The answer of the last request in a capture: its server datagrams reassembled.
template <std::size_t N>
proto::control_response answer(const cap::datagram (&datagrams)[N]) {
  std::vector<std::uint8_t> request;
  for (const auto& d : datagrams) {
    if (!d.from_server) request = test::from_hex(d.hex);
  }
  const auto h = proto::parse_control_header(request);
  REQUIRE(h);
  proto::control_reassembler r(h->sequence, h->opcode);
  for (const auto& d : datagrams) {
    if (d.from_server) (void)r.feed(test::from_hex(d.hex));
  }
  REQUIRE(r.complete());
  return r.response();
}

template <std::size_t N>
model::control_read read_of(const cap::datagram (&datagrams)[N], proto::control_opcode op,
                            std::uint16_t assoc) {
  proto::control_query_result q;
  q.outcome = proto::control_outcome::response;
  q.response = answer(datagrams);
  return model::take_read(op, assoc, q);
}

std::vector<std::string> items(const model::control_read& r) {
  std::vector<std::string> out;
  for (const auto& [name, v] : r.variables) out.push_back(name + "=" + std::string(v.raw()));
  return out;
}

}  // namespace

TEST_CASE("the captured association list prints as ntpq -c as printed it") {
  auto r = read_of(cap::as, proto::control_opcode::read_status, 0);
  model::take_association_list(r, answer(cap::as));
  std::sort(r.associations.begin(), r.associations.end(),
            [](auto& a, auto& b) { return a.association_id < b.association_id; });
  CHECK(report::associations_text(r) ==
        "ind assid status  conf reach auth condition  last_event cnt\n"
        "===========================================================\n"
        "  1 17767  b114   yes   yes  none falsetick   reachable  1\n"
        "  2 17768  9114   yes   yes  none falsetick   reachable  1\n"
        "  3 17769  9114   yes   yes  none falsetick   reachable  1\n"
        "  4 17770  912a   yes   yes  none falsetick    sys_peer  2\n");
}

TEST_CASE("captured raw variable lists keep the values ntpq -c raw printed") {
  // rv-raw: ntpq printed these items (mode6_captures.hpp).
  const auto sys = read_of(cap::rv_raw, proto::control_opcode::read_variables, 0);
  CHECK(items(sys) == std::vector<std::string>{
                          "leap=0", "stratum=10", "precision=-23", "rootdelay=0.000",
                          "rootdisp=0.000", "refid=127.0.0.1", "reftime=0xeebc22cc.02b1128b",
                          "tc=3", "peer=0", "offset=0.000000", "frequency=0.000000",
                          "sys_jitter=2.310745", "clk_jitter=0.000119",
                          "clock=0xeebc22e8.b356518b", "processor=\"x86_64\"",
                          "system=\"Linux/6.18.44-fc-v1252\"",
                          "version=\"ntpd ntpsec-1.2.2\"", "clk_wander=0.000000", "mintc=0"});
  CHECK(sys.status == 0x0028);
  CHECK(report::variables_text(sys).rfind(
            "associd=0 status=0028 leap_none, sync_unspec, 2 events, no_sys_peer,\n", 0) == 0);
  const auto stratum = model::read_value("stratum", *proto::find_variable(sys.variables, "stratum"));
  CHECK(stratum.type == model::value_type::integer);
  CHECK(stratum.integer == 10);
}

TEST_CASE("the captured PARSE clock decodes to the words ntpq printed") {
  // cv-parse-raw: refclock_status="TIME CODE; (LEAP INDICATION)",
  // refclock_states="*NOMINAL: 00:00:55 (100.00%); running time: 00:00:55", status 0x0000.
  const auto r = read_of(cap::cv_parse_raw, proto::control_opcode::read_clock, 17770);
  CHECK(r.status == 0x0000);
  CHECK(report::clock_status_text(r.status) == "clk_unspec, 0 events");
  const auto* status = proto::find_variable(r.variables, "refclock_status");
  REQUIRE(status);
  const auto s = proto::decode_parse_status(*status->text());
  REQUIRE(s);
  CHECK(s->has(proto::parse_flag::time_code));
  CHECK(s->has(proto::parse_capability::leap_indication));
  const auto doc = report::control_json(
      model::control_run{"clockvars", "127.0.0.1", "127.0.0.1", 123, "", {r}, {}}, "0");
  CHECK(doc.find("\"flags\": [\n            \"TIME CODE\"\n          ]") != std::string::npos);
  CHECK(doc.find("\"current\": \"NOMINAL\"") != std::string::npos);
  CHECK(doc.find("\"running_seconds\": 55") != std::string::npos);
}
