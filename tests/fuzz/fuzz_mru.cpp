// Fuzz target: READ_MRU answers (proto/mru.hpp): parse_mru_response over any text, the
// continuation request built from what it read, and the mru_walk session fed the text as the
// answer to its first READ_MRU.
//
// Invariants:
// - every entry has an address and is one distinct row index; entries + malformed rows are
//   the distinct indexes seen; unknown names have no numeric index;
// - build_mru_request with the entries as priors stays under 468 bytes, and its text tokenizes
//   back to the nonce, the size and exactly the priors it says it used, in order;
// - the walk, given a nonce and then this answer (in fragments of up to 468 bytes), either
//   finishes or asks again; driven on with no further answers it finishes within its bounds
//   (max_failures requests, max_duration), and its entries are distinct addresses.

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <variant>

#include "fuzz_check.hpp"
#include "ntpkit/proto/control.hpp"
#include "ntpkit/proto/mru.hpp"

namespace {

using namespace ntpkit::proto;
using namespace std::chrono_literals;
using bytes = std::vector<std::uint8_t>;

bytes fragment(std::uint16_t sequence, control_opcode op, std::size_t offset, std::string_view data,
               bool more) {
  control_header h;
  h.response = true;
  h.more = more;
  h.opcode = op;
  h.sequence = sequence;
  h.offset = static_cast<std::uint16_t>(offset);
  h.count = static_cast<std::uint16_t>(data.size());
  bytes out(control_header_size + (data.size() + 3) / 4 * 4, 0);
  write_control_header(h, out);
  std::copy(data.begin(), data.end(), out.begin() + control_header_size);
  return out;
}

void check_request(const mru_response& m) {
  std::vector<mru_prior> priors;
  for (auto it = m.entries.rbegin(); it != m.entries.rend(); ++it) {
    priors.push_back({it->address, it->last});
  }
  std::size_t used = 0;
  const auto text = build_mru_request("0123abcd", {true, 7}, {}, false, priors, &used);
  NTPKIT_FUZZ_CHECK(text.size() < 468 || used == 0);
  NTPKIT_FUZZ_CHECK(used <= priors.size());
  // Addresses with separators cannot come back as one value; the check is for the others.
  for (std::size_t i = 0; i < used; ++i) {
    if (priors[i].address.find_first_of(",\"\r\n= \t") != std::string::npos) return;
  }
  const auto vars = parse_variables(text);
  NTPKIT_FUZZ_CHECK(vars.size() == 2 + 2 * used);
  NTPKIT_FUZZ_CHECK(vars[0].first == "nonce" && vars[0].second.raw() == "0123abcd");
  NTPKIT_FUZZ_CHECK(vars[1].first == "frags" && vars[1].second.raw() == "7");
  for (std::size_t i = 0; i < used; ++i) {
    NTPKIT_FUZZ_CHECK(vars[2 + 2 * i].first == "addr." + std::to_string(i));
    NTPKIT_FUZZ_CHECK(vars[2 + 2 * i].second.raw() == priors[i].address);
    NTPKIT_FUZZ_CHECK(vars[3 + 2 * i].second.ntp_timestamp()->bits() == priors[i].last.bits());
  }
}

void check_walk(std::string_view text) {
  mru_walk_options o;
  o.max_failures = 2;
  o.retries = 0;
  o.timeout = 1s;
  o.fragment_timeout = 1s;
  o.max_duration = 60s;
  steady_time now{};
  mru_walk w(o, now);
  const auto send = [&] {
    auto a = w.next(now);
    NTPKIT_FUZZ_CHECK(std::holds_alternative<send_bytes>(a));
    const auto& s = std::get<send_bytes>(a);
    w.on_sent({.tag = s.tag, .at = now});
    return static_cast<std::uint16_t>(s.bytes[2] << 8 | s.bytes[3]);
  };
  const std::string nonce = "nonce=0123456789abcdef01234567\r\n";
  w.on_datagram(fragment(send(), control_opcode::request_nonce, 0, nonce, false), {.at = now});
  const auto seq = send();
  for (std::size_t at = 0; at < text.size() || at == 0; at += 468) {
    const auto piece = text.substr(at, 468);
    const bool more = at + 468 < text.size();
    w.on_datagram(fragment(seq, control_opcode::read_mru, at, piece, more), {.at = now});
    if (at + 468 > 60000) break;  // the 16-bit offset
  }
  // With no more answers, the walk must end within its bounds.
  for (int step = 0; step < 50 && !w.done(); ++step) {
    auto a = w.next(now);
    if (auto* s = std::get_if<send_bytes>(&a)) w.on_sent({.tag = s->tag, .at = now});
    if (auto* u = std::get_if<wait_until>(&a)) now = u->deadline;
  }
  NTPKIT_FUZZ_CHECK(w.done());
  std::set<std::string> seen;
  for (const auto& e : w.result().entries) NTPKIT_FUZZ_CHECK(seen.insert(e.address).second);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto list = parse_variables(text);
  const auto m = parse_mru_response(list);
  std::set<std::string> indexes;
  for (const auto& [name, value] : list) {
    const auto dot = name.rfind('.');
    if (dot == std::string::npos || dot == 0) continue;
    const auto digits = name.substr(dot + 1);
    if (!digits.empty() && digits.size() <= 6 &&
        digits.find_first_not_of("0123456789") == std::string::npos && name != "last.newest") {
      indexes.insert(std::to_string(std::stoul(digits)));
    }
  }
  NTPKIT_FUZZ_CHECK(m.entries.size() + m.malformed_rows == indexes.size());
  for (const auto& e : m.entries) NTPKIT_FUZZ_CHECK(!e.address.empty());
  for (const auto& u : m.unknown) NTPKIT_FUZZ_CHECK(find_variable(list, u) != nullptr);
  check_request(m);
  check_walk(text);
  return 0;
}
