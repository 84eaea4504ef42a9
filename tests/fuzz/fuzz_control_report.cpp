// Fuzz target: ntpmon-query's reading and writing of mode 6 variable lists over any bytes
// (model/control.hpp typed readings and ntpq -p rows; report/control.hpp text and JSON).
// Its corpus is control_vars' (a link): the same inputs, one layer up.
//
// Invariants:
// - read_value() agrees with the raw text: an integer is its decimal or its 0x value, a timestamp's ntpq hex is the raw text when that has 8 + 8 lowercase digits,
//   numbers are finite, a bare name reads as none;
// - summarize_peer() gives a tally of " x.-+#*o", a poll of at least 1 s, a `when` above 0
//   when set, a type character that is printable;
// - the text writers write printable ASCII and newlines only (terminal_safe), every peers row is at least 79
//   columns, and the JSON document parses back with the variables in order and raw text kept
//   (bytes that are no UTF-8 replaced).

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "ntpkit/model/control.hpp"
#include "ntpkit/proto/control_vars.hpp"
#include "ntpkit/report/control.hpp"
#include "ntpkit/report/format.hpp"

namespace {

using namespace ntpkit;

bool printable_text(std::string_view s) {
  for (unsigned char c : s) {
    if (c != '\n' && (c < 0x20 || c > 0x7e)) return false;
  }
  return true;
}

bool hex16(std::string_view s) {
  if (s.size() != 19 || s.substr(0, 2) != "0x" || s[10] != '.') return false;
  for (std::size_t i = 2; i < s.size(); ++i) {
    if (i == 10) continue;
    const char c = s[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

void check_value(const std::string& name, const proto::variable_value& v) {
  const auto t = model::read_value(name, v);
  if (!v.present()) {
    NTPKIT_FUZZ_CHECK(t.type == model::value_type::none);
    return;
  }
  switch (t.type) {
    case model::value_type::integer: {
      const auto raw = v.raw();
      const bool hex = raw.size() > 2 && raw[0] == '0' && (raw[1] == 'x' || raw[1] == 'X');
      if (!hex) NTPKIT_FUZZ_CHECK(t.integer == *v.integer());
      if (hex) NTPKIT_FUZZ_CHECK(static_cast<std::uint64_t>(t.integer) == *v.hex());
      break;
    }
    case model::value_type::number: NTPKIT_FUZZ_CHECK(std::isfinite(t.number)); break;
    case model::value_type::timestamp:
      if (hex16(v.raw())) NTPKIT_FUZZ_CHECK(report::ntp_hex(t.ntp_time) == v.raw());
      break;
    case model::value_type::numbers:
      for (const auto& n : t.numbers) NTPKIT_FUZZ_CHECK(!n || std::isfinite(*n));
      break;
    case model::value_type::text:
    case model::value_type::none: break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  const auto vars = proto::parse_variables(bytes);
  for (const auto& [name, v] : vars) check_value(name, v);

  const std::uint16_t status = size >= 2 ? static_cast<std::uint16_t>(data[0] << 8 | data[1]) : 0;
  const auto now = proto::timestamp::from_bits(0xeebd92e500000000ULL);
  const auto p = model::summarize_peer(7, status, vars, now);
  NTPKIT_FUZZ_CHECK(std::string_view(" x.-+#*o").find(p.tally) != std::string_view::npos);
  NTPKIT_FUZZ_CHECK(p.poll_s >= 1);
  NTPKIT_FUZZ_CHECK(!p.when_s || *p.when_s > 0);
  NTPKIT_FUZZ_CHECK(p.type >= 0x20 && p.type < 0x7f);

  const auto table = report::peers_text({p});
  NTPKIT_FUZZ_CHECK(printable_text(table));
  const auto row = table.substr(table.find('\n', table.find('\n') + 1) + 1);
  NTPKIT_FUZZ_CHECK(row.size() >= 80);  // 79 columns and the newline

  model::control_read r;
  r.outcome = proto::control_outcome::response;
  r.status = status;
  r.variables = vars;
  NTPKIT_FUZZ_CHECK(printable_text(report::variables_text(r)));
  NTPKIT_FUZZ_CHECK(printable_text(report::statistics_text(r)));
  r.opcode = proto::control_opcode::read_clock;
  NTPKIT_FUZZ_CHECK(printable_text(report::variables_text(r)));

  model::control_run run;
  run.command = "peers";
  run.host = "fuzz";
  run.address = "127.0.0.1";
  run.reads.push_back(r);
  run.peers.push_back(p);
  const auto doc = nlohmann::json::parse(report::control_json(run, "0"));
  const auto& got = doc["reads"][0]["variables"];
  NTPKIT_FUZZ_CHECK(got.size() == vars.size());
  for (std::size_t i = 0; i < vars.size(); ++i) {
    NTPKIT_FUZZ_CHECK(got[i]["raw"].is_null() == !vars[i].second.present());
  }
  NTPKIT_FUZZ_CHECK(!report::control_prometheus(run, "0").empty());
  return 0;
}
