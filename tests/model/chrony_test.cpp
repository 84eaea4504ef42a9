// Tests of model/chrony.hpp over chronyd 4.3's replies in proto/cmdmon_captured.hpp: the
// system variables derived from a tracking reply and the ntpq rows derived from source_data
// replies carry the values chronyc printed for the same replies (chronyc -c, at its own
// precision), in ntpd's names and units.

#include "ntpkit/model/chrony.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "proto/cmdmon_captured.hpp"
#include "support/test_support.hpp"

using namespace ntpkit;
namespace cm = ntpkit::proto::cmdmon;
namespace cap = ntpkit::test::cmdmon_captured;

namespace {

std::vector<cm::reply> replies(const cap::exchange& e) {
  std::vector<cm::reply> out;
  for (const auto& d : e.datagrams) {
    if (!d.from_server) continue;
    auto r = cm::decode_reply(ntpkit::test::from_hex(d.hex));
    REQUIRE(r.has_value());
    out.push_back(*r);
  }
  return out;
}

std::vector<std::string> split(std::string_view line, char sep = ',') {
  std::vector<std::string> out(1);
  for (char c : line) {
    if (c == sep) {
      out.emplace_back();
    } else if (c != '\n') {
      out.back() += c;
    }
  }
  return out;
}

double number(const proto::variable_list& v, std::string_view name) {
  const auto* x = proto::find_variable(v, name);
  REQUIRE(x != nullptr);
  return std::strtod(std::string(x->raw()).c_str(), nullptr);
}

}  // namespace

TEST_CASE("chrony: tracking as ntpd's system variables, against chronyc -c tracking") {
  const auto r = replies(cap::udp_tracking);
  REQUIRE(r.size() == 1);
  const auto v = model::system_variables(std::get<cm::tracking>(r[0].body));
  // Reference ID, address, stratum, ref time, system time, last offset, RMS offset, frequency,
  // residual freq, skew, root delay, root dispersion, update interval, leap status.
  const auto f = split(cap::udp_tracking.output);
  REQUIRE(f.size() == 14);
  CHECK(std::string(proto::find_variable(v, "refid")->raw()) == f[1]);
  CHECK(number(v, "stratum") == std::stod(f[2]));
  CHECK(std::abs(number(v, "system_time") - std::stod(f[4]) * 1e3) <= 0.5e-6);
  CHECK(std::abs(number(v, "offset") - std::stod(f[5]) * 1e3) <= 0.5e-6);  // ms vs 1e-9 s
  CHECK(std::abs(number(v, "sys_jitter") - std::stod(f[6]) * 1e3) <= 0.5e-6);
  CHECK(std::abs(number(v, "frequency") - std::stod(f[7])) <= 0.0005);
  CHECK(std::abs(number(v, "resid_freq") - std::stod(f[8])) <= 0.0005);
  CHECK(std::abs(number(v, "clk_wander") - std::stod(f[9])) <= 0.0005);
  CHECK(std::abs(number(v, "rootdelay") - std::stod(f[10]) * 1e3) <= 0.5e-6);
  CHECK(std::abs(number(v, "rootdisp") - std::stod(f[11]) * 1e3) <= 0.5e-6);
  CHECK(std::abs(number(v, "update_interval") - std::stod(f[12])) <= 0.05);
  CHECK(f[13] == "Normal");
  CHECK(number(v, "leap") == 0);
  // reftime as an NTP timestamp: chronyc's Unix seconds + 2208988800.
  const auto* reftime = proto::find_variable(v, "reftime");
  REQUIRE(reftime != nullptr);
  const auto seconds = std::stoull(std::string(reftime->raw()).substr(2, 8), nullptr, 16);
  CHECK(seconds == static_cast<unsigned long long>(std::stod(f[3])) + 2208988800ull);
  // The typed reading takes ntpd's units for these names.
  CHECK(model::read_value("offset", *proto::find_variable(v, "offset")).unit == "ms");
}

TEST_CASE("chrony: sources as ntpq rows, against chronyc -c sources") {
  const auto r = replies(cap::udp_sources);
  std::vector<std::string> lines;
  {
    std::string cur;
    for (char c : cap::udp_sources.output) {
      if (c == '\n') {
        lines.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
  }
  std::size_t row = 0;
  for (const auto& reply : r) {
    const auto* sd = std::get_if<cm::source_data>(&reply.body);
    if (!sd) continue;
    REQUIRE(row < lines.size());
    const auto f = split(lines[row++]);
    REQUIRE(f.size() == 10);
    model::chrony_source s;
    s.data = *sd;
    const auto p = model::summarize_source(s);
    CAPTURE(lines[row - 1]);
    CHECK(std::string(1, cm::mode_symbol(sd->mode)) == f[0]);
    if (f[2].rfind("ID#", 0) == 0) {  // an unresolved source: named, never an address
      CHECK(p.remote == "unresolved source #" + std::to_string(std::stoul(f[2].substr(3))));
    } else {
      CHECK(p.remote == f[2]);
    }
    CHECK(p.stratum == std::stoll(f[3]));
    CHECK(p.poll_s == (std::int64_t{1} << std::stoi(f[4])));
    CHECK(p.reach == std::stoull(f[5], nullptr, 8));
    CHECK(p.reference_clock == (f[0] == "#"));
    CHECK(p.type == (f[0] == "#" ? 'l' : f[0] == "=" ? 's' : 'u'));
    const char tally = f[1] == "*" ? '*' : f[1] == "+" ? '+' : f[1] == "-" ? '-'
                       : f[1] == "x" ? 'x' : ' ';
    CHECK(p.tally == tally);
    if (f[6] == "4294967295") {
      CHECK_FALSE(p.when_s.has_value());
    } else {
      REQUIRE(p.when_s.has_value());
      CHECK(*p.when_s == std::stoll(f[6]));
      REQUIRE(p.offset_ms.has_value());
      // chronyc -c: latest (adjusted), then original offset, then the error bound
      CHECK(std::abs(*p.offset_ms - std::stod(f[7]) * 1e3) <= 0.5e-6);
      CHECK(std::abs(*p.jitter_ms - std::stod(f[9]) * 1e3) <= 0.5e-6);
    }
  }
  CHECK(row == lines.size());
  CHECK(row >= 2);
}

TEST_CASE("chrony: refids as chronyc prints them") {
  CHECK(model::refid_text(0x47505300) == "GPS");
  CHECK(model::refid_text(0x534f434b) == "SOCK");
  CHECK(model::refid_text(0x7f000001) == "7F000001");
}
