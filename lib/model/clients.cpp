#include "ntpkit/model/clients.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <string>

namespace ntpkit::model {
namespace {

// "192.0.2.1:123", "[2001:db8::1]:123" (ntpd's sockaddr text) into address and port.
bool split_address(const std::string& text, ip_address& address, unsigned& port) {
  std::string host, port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return false;
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) return false;
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  if (port_text.empty() || port_text.size() > 5 ||
      !std::all_of(port_text.begin(), port_text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  port = static_cast<unsigned>(std::stoul(port_text));
  return port <= 65535 && parse_ip_address(host, address);
}

void count(census_split& s, const ip_address& a, unsigned version, unsigned mode,
           std::uint64_t n) {
  s.by_family[a.family == family::ipv6 ? 1 : 0] += n;
  s.by_version[version & 7] += n;
  s.by_mode[mode & 7] += n;
}

}  // namespace

census_result census_of_mru(const std::vector<proto::mru_entry>& entries, std::size_t top,
                            std::chrono::nanoseconds rate_limit) {
  census_result c;
  c.rate_limit = rate_limit;
  std::set<ip_address> control, spoofed;
  std::map<ip_address, std::size_t> index;  // client -> its talker
  std::vector<talker> talkers;
  for (const auto& e : entries) {
    ip_address a;
    unsigned port = 0;
    if (!split_address(e.address, a, port)) continue;
    const unsigned mode = e.mode_version & 7;
    const unsigned version = (e.mode_version >> 3) & 7;
    const auto last = proto::to_sys_time(e.last);
    // A first packet after the latest one is not what ntpd means: taken as the latest.
    const auto first = std::min(proto::to_sys_time(e.first), last);
    if (!c.first_time || first < *c.first_time) c.first_time = first;
    if (!c.last_time || last > *c.last_time) c.last_time = last;
    c.datagrams.ntp += e.count;
    count(c.datagrams.split, a, version, mode, e.count);
    if (port == 0 || is_multicast_broadcast_or_unspecified(a)) {
      spoofed.insert(a);
      c.spoofed_packets += e.count;
      continue;
    }
    if (mode == 6 || mode == 7) {
      control.insert(a);
      c.control_packets += e.count;
      continue;
    }
    if (mode == 5) {
      c.broadcasts += e.count;
      continue;
    }
    if (mode < 1 || mode > 3) continue;
    c.matching.requests += mode == 3 ? e.count : 0;
    // One address may have several entries (one per source port): a client once.
    const auto [slot, is_new] = index.try_emplace(a, talkers.size());
    if (is_new) {
      count(c.client_split, a, version, mode, 1);
      talkers.push_back(talker{a, 0, first, last, std::nullopt});
    }
    auto& t = talkers[slot->second];
    t.packets += e.count;
    t.first_seen = std::min(t.first_seen, first);
    t.last_seen = std::max(t.last_seen, last);
  }
  for (auto& t : talkers) {
    if (t.packets > 1) {
      t.median_interval = (t.last_seen - t.first_seen) / static_cast<std::int64_t>(t.packets - 1);
      if (*t.median_interval < rate_limit) ++c.fast_clients;
    }
  }
  c.clients = index.size();
  c.control_clients = control.size();
  c.spoofed_sources = spoofed.size();
  std::sort(talkers.begin(), talkers.end(), [](const talker& x, const talker& y) {
    return x.packets != y.packets ? x.packets > y.packets : x.address < y.address;
  });
  if (talkers.size() > top) talkers.resize(top);
  c.top_talkers = std::move(talkers);
  // A std::map node: the key and slot, three links and a colour, rounded by malloc.
  c.client_table_bytes = index.size() * (sizeof(ip_address) + sizeof(std::size_t) + 32 + 8);
  return c;
}

}  // namespace ntpkit::model
