// Fuzz target: the census an MRU list gives (model::census_of_mru), over the entries
// parse_mru_response reads from any READ_MRU text, each entry also fed on its own with any
// address text (ntpd's "ip:port" and "[v6]:port" forms, or anything else).
//
// Invariants:
// - clients, control clients and spoofed sources are distinct addresses: together at most the
//   entries; the clients split by family adds up to the clients, by mode to the clients;
// - the packets of clients, control clients and spoofed sources are within ntpd's counts;
// - the top talkers are at most `top`, most packets first, each with first <= last, and the
//   mean interval exists exactly when a talker sent more than one packet;
// - an MRU list has no answers: no delta, no intervals.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "ntpkit/model/clients.hpp"
#include "ntpkit/proto/control_vars.hpp"
#include "ntpkit/proto/mru.hpp"

namespace {

using namespace ntpkit;
using namespace std::chrono_literals;

void check(const std::vector<proto::mru_entry>& entries, std::size_t top) {
  const auto c = model::census_of_mru(entries, top, 8s);
  NTPKIT_FUZZ_CHECK(c.clients + c.control_clients + c.spoofed_sources <= entries.size());
  NTPKIT_FUZZ_CHECK(c.client_split.by_family[0] + c.client_split.by_family[1] == c.clients);
  std::uint64_t modes = 0, versions = 0;
  for (const auto n : c.client_split.by_mode) modes += n;
  for (const auto n : c.client_split.by_version) versions += n;
  NTPKIT_FUZZ_CHECK(modes == c.clients && versions == c.clients);
  std::uint64_t counted = 0;
  for (const auto& e : entries) counted += e.count;
  NTPKIT_FUZZ_CHECK(c.datagrams.ntp <= counted);
  NTPKIT_FUZZ_CHECK(c.control_packets + c.spoofed_packets + c.matching.requests +
                        c.broadcasts <= c.datagrams.ntp);
  NTPKIT_FUZZ_CHECK(c.top_talkers.size() <= top && c.top_talkers.size() <= c.clients);
  for (std::size_t i = 0; i < c.top_talkers.size(); ++i) {
    const auto& t = c.top_talkers[i];
    if (i > 0) NTPKIT_FUZZ_CHECK(c.top_talkers[i - 1].packets >= t.packets);
    NTPKIT_FUZZ_CHECK(t.first_seen <= t.last_seen);
    NTPKIT_FUZZ_CHECK(t.median_interval.has_value() == (t.packets > 1));
  }
  NTPKIT_FUZZ_CHECK(c.fast_clients <= c.clients);
  NTPKIT_FUZZ_CHECK(c.delta.count == 0 && c.intervals.empty());
  NTPKIT_FUZZ_CHECK(c.usable() == (c.datagrams.ntp > 0));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto m = proto::parse_mru_response(proto::parse_variables(text));
  check(m.entries, size % 7);
  // The whole text as one entry's address, with counts and modes from its first bytes.
  proto::mru_entry e;
  e.address = std::string(text.substr(0, 64));
  e.mode_version = size > 0 ? data[0] : 0;
  e.count = size > 1 ? data[1] : 1;
  e.first = proto::timestamp::from_parts(size > 2 ? data[2] : 0, 0);
  e.last = proto::timestamp::from_parts(size > 3 ? data[3] : 0, 0);
  std::vector<proto::mru_entry> list{e, e};
  list[1].address += ":123";
  check(list, 3);
  return 0;
}
