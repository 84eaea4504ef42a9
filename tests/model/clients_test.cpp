// model/clients.hpp: the census an MRU list gives (census_of_mru): who is a client, control
// client or spoofed-looking source, addresses as ntpd writes them, one client per address
// across ports, and the mean interval that decides fast clients.

#include "ntpkit/model/clients.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace ntpkit;
using namespace std::chrono_literals;

namespace {

proto::mru_entry entry(std::string address, unsigned mode, unsigned version,
                       std::uint64_t count, std::uint32_t first_s, std::uint32_t last_s) {
  proto::mru_entry e;
  e.address = std::move(address);
  e.mode_version = static_cast<std::uint8_t>(version << 3 | mode);
  e.count = count;
  // NTP seconds of 2026 (era 0).
  e.first = proto::timestamp::from_parts(3'973'000'000u + first_s, 0);
  e.last = proto::timestamp::from_parts(3'973'000'000u + last_s, 0);
  return e;
}

}  // namespace

TEST_CASE("census_of_mru: clients, control clients, spoofed sources and their packets") {
  const std::vector<proto::mru_entry> list = {
      entry("192.0.2.1:40000", 3, 4, 10, 0, 90),   // client, every 10 s
      entry("192.0.2.1:40001", 3, 4, 5, 100, 104),  // same address, other port: same client
      entry("[2001:db8::7]:123", 1, 4, 3, 0, 2),    // symmetric active, v6
      entry("192.0.2.9:40000", 3, 3, 1, 50, 50),    // one request, v3
      entry("127.0.0.1:35000", 6, 2, 40, 0, 80),    // ntpq: control
      entry("198.51.100.4:0", 3, 4, 7, 0, 6),       // port 0: spoofed-looking
      entry("224.0.1.1:123", 3, 4, 2, 0, 1),        // multicast source: spoofed-looking
      entry("garbage", 3, 4, 99, 0, 1),             // does not read: left out
      entry("192.0.2.3:123:4", 3, 4, 99, 0, 1),     // neither form
      entry("[2001:db8::8]123", 3, 4, 99, 0, 1),    // no colon after the bracket
      entry("192.0.2.4:70000", 3, 4, 99, 0, 1),     // port out of range
  };
  const auto c = model::census_of_mru(list, 10, 8s);
  CHECK(c.clients == 3);
  CHECK(c.client_split.by_family[0] == 2);
  CHECK(c.client_split.by_family[1] == 1);
  CHECK(c.client_split.by_mode[3] == 2);
  CHECK(c.client_split.by_mode[1] == 1);
  CHECK(c.client_split.by_version[3] == 1);
  CHECK(c.control_clients == 1);
  CHECK(c.control_packets == 40);
  CHECK(c.spoofed_sources == 2);
  CHECK(c.spoofed_packets == 9);
  CHECK(c.matching.requests == 16);  // mode 3 client packets only
  CHECK(c.datagrams.ntp == 10 + 5 + 3 + 1 + 40 + 7 + 2);
  REQUIRE(c.top_talkers.size() == 3);
  const auto& top = c.top_talkers.front();
  CHECK(model::to_string(top.address) == "192.0.2.1");
  CHECK(top.packets == 15);
  // first 0 s, last 104 s over 15 packets: a mean of 104/14 s, under the 8 s limit.
  REQUIRE(top.median_interval);
  CHECK(*top.median_interval == 104'000'000'000ns / 14);
  CHECK(c.fast_clients == 2);  // 192.0.2.1 and the v6 peer (2 s / 2); 192.0.2.9 has 1 packet
  CHECK_FALSE(c.top_talkers.back().median_interval);
  CHECK(c.first_time < c.last_time);
  CHECK(c.delta.count == 0);
  CHECK(c.intervals.empty());
}

TEST_CASE("census_of_mru: top talkers are cut to `top`, most packets first") {
  std::vector<proto::mru_entry> list;
  for (unsigned i = 1; i <= 20; ++i) {
    list.push_back(entry("10.0.0." + std::to_string(i) + ":123", 3, 4, i, 0, i));
  }
  const auto c = model::census_of_mru(list, 5, 8s);
  CHECK(c.clients == 20);
  REQUIRE(c.top_talkers.size() == 5);
  CHECK(c.top_talkers[0].packets == 20);
  CHECK(c.top_talkers[4].packets == 16);
  CHECK(model::census_of_mru({}, 5, 8s).clients == 0);
  CHECK_FALSE(model::census_of_mru({}, 5, 8s).usable());
}
