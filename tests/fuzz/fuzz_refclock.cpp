// Fuzz target: the reference clock decoders (proto/refclock.hpp) over any text: as a
// variable list (the generic decoder) and, whole, as each driver-specific value.
//
// Invariants:
// - the generic decoder names as malformed only variables that are present;
// - an accepted refclock_status, written back in the driver's form (known words in table
//   order, unknown words kept, capabilities in one parenthesised group), decodes to the same
//   flags, capabilities and unknown words (as a multiset);
// - accepted refclock_states written back as "[*]NAME: [Nd+]HH:MM:SS (P.PP%); ...; running
//   time: ..." decode to the same states; percentages are at most 100.00;
// - meinberg_gps_status keeps its status word; the antenna decoder never fails and an unknown
//   state keeps the whole (trimmed) text.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "ntpkit/proto/errc.hpp"
#include "ntpkit/proto/refclock.hpp"

namespace {

using namespace ntpkit::proto;

std::string duration_text(std::uint64_t s) {
  char buf[64];
  const std::uint64_t days = s / 86400;
  s %= 86400;
  if (days != 0) {
    std::snprintf(buf, sizeof buf, "%llud+%02llu:%02llu:%02llu",
                  static_cast<unsigned long long>(days), static_cast<unsigned long long>(s / 3600),
                  static_cast<unsigned long long>(s / 60 % 60),
                  static_cast<unsigned long long>(s % 60));
  } else {
    std::snprintf(
        buf, sizeof buf, "%02llu:%02llu:%02llu", static_cast<unsigned long long>(s / 3600),
        static_cast<unsigned long long>(s / 60 % 60), static_cast<unsigned long long>(s % 60));
  }
  return buf;
}

bool is_known_word(std::string_view w) {
  for (std::uint32_t bit = 1; bit != 0; bit <<= 1) {
    if (to_string(static_cast<parse_flag>(bit)) == w ||
        to_string(static_cast<parse_capability>(bit)) == w) {
      return true;
    }
  }
  return false;
}

void check_status(std::string_view text) {
  const auto s = decode_parse_status(text);
  if (!s) {
    NTPKIT_FUZZ_CHECK(s.error() == errc::bad_refclock_value);
    return;
  }
  std::string out;
  for (std::uint32_t bit = 1; bit != 0; bit <<= 1) {
    if (s->flags & bit)
      out += std::string(out.empty() ? "" : "; ") +
             std::string(to_string(static_cast<parse_flag>(bit)));
  }
  // Unknown words may come from either part; put them all among the flags, where a word
  // cannot hold ';' and parentheses (they were split on those).
  for (const auto& w : s->unknown) {
    if (w.find_first_of("()") != std::string::npos || is_known_word(w)) {
      return;  // a word of the other part ("(DST)"), or not writable back as a flag
    }
    out += std::string(out.empty() ? "" : "; ") + w;
  }
  std::string caps;
  for (std::uint32_t bit = 1; bit != 0; bit <<= 1) {
    if (s->capabilities & bit)
      caps += std::string(caps.empty() ? "" : "; ") +
              std::string(to_string(static_cast<parse_capability>(bit)));
  }
  if (!caps.empty()) out += std::string(out.empty() ? "(" : "; (") + caps + ")";
  const auto again = decode_parse_status(out);
  NTPKIT_FUZZ_CHECK(again.has_value());
  // "POSITION" is a flag word and a capability word: it decodes as whichever part holds it.
  NTPKIT_FUZZ_CHECK(again->flags == s->flags);
  NTPKIT_FUZZ_CHECK(again->capabilities == s->capabilities);
  auto a = again->unknown, b = s->unknown;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  NTPKIT_FUZZ_CHECK(a == b);
}

void check_states(std::string_view text) {
  const auto st = decode_parse_states(text);
  if (!st) {
    NTPKIT_FUZZ_CHECK(st.error() == errc::bad_refclock_value);
    return;
  }
  std::string out;
  for (const auto& s : st->states) {
    NTPKIT_FUZZ_CHECK(s.percent_hundredths <= 10099);
    NTPKIT_FUZZ_CHECK(!s.state.empty());
    char pct[32];
    std::snprintf(pct, sizeof pct, " (%u.%02u%%)", s.percent_hundredths / 100,
                  s.percent_hundredths % 100);
    out += (s.current ? "*" : "") + s.state + ": " + duration_text(s.seconds) + pct + "; ";
  }
  out += "running time: " + duration_text(st->running_seconds);
  const auto again = decode_parse_states(out);
  if (!again) return;  // a state name holding ": " or " (" cannot be written back unambiguously
  NTPKIT_FUZZ_CHECK(again->running_seconds == st->running_seconds);
  NTPKIT_FUZZ_CHECK(again->states.size() == st->states.size());
  for (std::size_t i = 0; i < st->states.size(); ++i) {
    NTPKIT_FUZZ_CHECK(again->states[i].seconds == st->states[i].seconds);
    NTPKIT_FUZZ_CHECK(again->states[i].percent_hundredths == st->states[i].percent_hundredths);
    NTPKIT_FUZZ_CHECK(again->states[i].current == st->states[i].current);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto list = parse_variables(text);
  const auto g = decode_refclock_generic(list);
  for (const auto& name : g.malformed) NTPKIT_FUZZ_CHECK(find_variable(list, name) != nullptr);
  check_status(text);
  check_states(text);
  for (const auto& [name, value] : list) {
    const auto t = value.text();
    if (!t) continue;
    if (name == "refclock_status") check_status(*t);
    if (name == "refclock_states") check_states(*t);
  }
  if (const auto gps = decode_meinberg_gps_status(text)) {
    NTPKIT_FUZZ_CHECK(text.find("[0x") != std::string_view::npos);
  }
  const auto ant = decode_meinberg_antenna_status(text);
  if (ant.state == antenna_state::unknown) NTPKIT_FUZZ_CHECK(ant.detail.size() <= size);
  return 0;
}
