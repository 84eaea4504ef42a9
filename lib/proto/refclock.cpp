#include "ntpkit/proto/refclock.hpp"

#include <array>
#include <charconv>
#include <utility>

#include "ntpkit/proto/errc.hpp"

namespace ntpkit::proto {
namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits on `sep`, trimming each piece; empty pieces are dropped.
std::vector<std::string_view> split(std::string_view s, std::string_view sep) {
  std::vector<std::string_view> out;
  while (true) {
    const auto at = s.find(sep);
    const auto piece = trim(s.substr(0, at));
    if (!piece.empty()) out.push_back(piece);
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + sep.size());
  }
}

constexpr std::array<std::pair<parse_flag, std::string_view>, 14> flag_words{{
    {parse_flag::dst_switch_warning, "DST SWITCH WARNING"},
    {parse_flag::not_synchronized, "NOT SYNCHRONIZED"},
    {parse_flag::time_code_not_confirmed, "TIME CODE NOT CONFIRMED"},
    {parse_flag::dst, "DST"},
    {parse_flag::utc_display, "UTC DISPLAY"},
    {parse_flag::leap_add_warning, "LEAP ADD WARNING"},
    {parse_flag::leap_delete_warning, "LEAP DELETE WARNING"},
    {parse_flag::leap_warning, "LEAP WARNING"},
    {parse_flag::leap_second, "LEAP SECOND"},
    {parse_flag::call_bit, "CALL BIT"},
    {parse_flag::alternate_antenna, "ALTERNATE ANTENNA"},
    {parse_flag::time_code, "TIME CODE"},
    {parse_flag::pps, "PPS"},
    {parse_flag::position, "POSITION"},
}};

constexpr std::array<std::pair<parse_capability, std::string_view>, 5> capability_words{{
    {parse_capability::leap_indication, "LEAP INDICATION"},
    {parse_capability::pps_signal, "PPS SIGNAL"},
    {parse_capability::callbit, "CALLBIT"},
    {parse_capability::position, "POSITION"},
    {parse_capability::antenna, "ANTENNA"},
}};

constexpr std::array<std::pair<meinberg_gps_flag, std::string_view>, 4> gps_words{{
    {meinberg_gps_flag::antenna_faulty, "ANTENNA FAULTY"},
    {meinberg_gps_flag::no_sync_signal, "NO SYNC SIGNAL"},
    {meinberg_gps_flag::no_sync_powerup, "NO SYNC POWERUP"},
    {meinberg_gps_flag::no_position, "NO POSITION"},
}};

template <class Table>
std::uint32_t bit_of(const Table& table, std::string_view word) noexcept {
  for (const auto& [bit, w] : table) {
    if (w == word) return static_cast<std::uint32_t>(bit);
  }
  return 0;
}

template <class T>
bool read_decimal(std::string_view s, T& out) noexcept {
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc{} && ptr == s.data() + s.size();
}

// "[Nd+]HH:MM:SS" as the driver's l_mktime() writes it.
bool read_duration(std::string_view s, std::uint64_t& seconds) noexcept {
  std::uint64_t days = 0;
  if (const auto plus = s.find("d+"); plus != std::string_view::npos) {
    if (!read_decimal(s.substr(0, plus), days)) return false;
    s.remove_prefix(plus + 2);
  }
  const auto c1 = s.find(':');
  const auto c2 = s.find(':', c1 == std::string_view::npos ? c1 : c1 + 1);
  std::uint64_t h = 0, m = 0, sec = 0;
  if (c1 == std::string_view::npos || c2 == std::string_view::npos ||
      !read_decimal(s.substr(0, c1), h) || !read_decimal(s.substr(c1 + 1, c2 - c1 - 1), m) ||
      !read_decimal(s.substr(c2 + 1), sec) || days > 1'000'000'000 || h > 1'000'000'000 || m > 59 ||
      sec > 59) {
    return false;
  }
  seconds = ((days * 24 + h) * 60 + m) * 60 + sec;
  return true;
}

// "83.46%" → 8346.
bool read_percent(std::string_view s, std::uint32_t& hundredths) noexcept {
  if (s.empty() || s.back() != '%') return false;
  s.remove_suffix(1);
  const auto dot = s.find('.');
  std::uint32_t whole = 0, frac = 0;
  if (dot == std::string_view::npos || s.size() - dot - 1 != 2 ||
      !read_decimal(s.substr(0, dot), whole) || !read_decimal(s.substr(dot + 1), frac) ||
      whole > 100) {
    return false;
  }
  hundredths = whole * 100 + frac;
  return true;
}

// "NAME: TIME (P%)", NAME possibly starred.
bool read_state(std::string_view entry, parse_state_time& out) {
  const auto colon = entry.find(": ");
  const auto open = entry.rfind(" (");
  if (colon == std::string_view::npos || open == std::string_view::npos || open < colon ||
      entry.back() != ')') {
    return false;
  }
  auto name = entry.substr(0, colon);
  out.current = name.starts_with('*');
  if (out.current) name.remove_prefix(1);
  out.state = std::string(name);
  return !name.empty() &&
         read_duration(trim(entry.substr(colon + 2, open - colon - 2)), out.seconds) &&
         read_percent(entry.substr(open + 2, entry.size() - open - 3), out.percent_hundredths);
}

}  // namespace

refclock_generic decode_refclock_generic(const variable_list& list) {
  refclock_generic g;
  for (const auto& [n, v] : list) {
    bool ok = true;
    const auto take = [&ok](auto r, auto& field) {
      if (r) {
        field = *r;
      } else {
        ok = false;
      }
    };
    if (n == "name")
      take(v.text(), g.name);
    else if (n == "type")
      take(v.unsigned_integer(), g.type);
    else if (n == "timecode")
      take(v.text(), g.timecode);
    else if (n == "poll")
      take(v.unsigned_integer(), g.poll);
    else if (n == "noreply")
      take(v.unsigned_integer(), g.noreply);
    else if (n == "badformat")
      take(v.unsigned_integer(), g.badformat);
    else if (n == "baddata")
      take(v.unsigned_integer(), g.baddata);
    else if (n == "fudgetime1")
      take(v.number(), g.fudgetime1_ms);
    else if (n == "fudgetime2")
      take(v.number(), g.fudgetime2_ms);
    else if (n == "stratum")
      take(v.integer(), g.stratum);
    else if (n == "refid")
      take(v.text(), g.refid);
    else if (n == "flags")
      take(v.unsigned_integer(), g.flags);
    else if (n == "device")
      take(v.text(), g.device);
    if (!ok) g.malformed.push_back(n);
  }
  return g;
}

std::string_view to_string(parse_flag f) noexcept {
  for (const auto& [bit, w] : flag_words) {
    if (bit == f) return w;
  }
  return "UNKNOWN";
}

std::string_view to_string(parse_capability c) noexcept {
  for (const auto& [bit, w] : capability_words) {
    if (bit == c) return w;
  }
  return "UNKNOWN";
}

result<parse_status> decode_parse_status(std::string_view text) {
  parse_status out;
  const auto open = text.find('(');
  const auto close = text.find(')');
  std::string_view flags_text = text;
  if (open != std::string_view::npos || close != std::string_view::npos) {
    if (open == std::string_view::npos || close == std::string_view::npos || close < open ||
        text.find('(', open + 1) != std::string_view::npos ||
        text.find(')', close + 1) != std::string_view::npos ||
        !trim(text.substr(close + 1)).empty()) {
      return errc::bad_refclock_value;
    }
    flags_text = text.substr(0, open);
    for (const auto word : split(text.substr(open + 1, close - open - 1), ";")) {
      const auto bit = bit_of(capability_words, word);
      if (bit != 0)
        out.capabilities |= bit;
      else
        out.unknown.emplace_back(word);
    }
  }
  for (const auto word : split(flags_text, ";")) {
    const auto bit = bit_of(flag_words, word);
    if (bit != 0)
      out.flags |= bit;
    else
      out.unknown.emplace_back(word);
  }
  return out;
}

const parse_state_time* parse_states::current() const noexcept {
  for (const auto& s : states) {
    if (s.current) return &s;
  }
  return nullptr;
}

result<parse_states> decode_parse_states(std::string_view text) {
  parse_states out;
  bool running = false;
  for (const auto entry : split(text, ";")) {
    if (running) return errc::bad_refclock_value;  // nothing follows the running time
    if (entry.starts_with("running time:")) {
      if (!read_duration(trim(entry.substr(13)), out.running_seconds)) {
        return errc::bad_refclock_value;
      }
      running = true;
      continue;
    }
    parse_state_time s;
    if (!read_state(entry, s)) return errc::bad_refclock_value;
    out.states.push_back(std::move(s));
  }
  if (!running) return errc::bad_refclock_value;
  return out;
}

result<meinberg_gps_status> decode_meinberg_gps_status(std::string_view text) {
  text = trim(text);
  const auto close = text.find(']');
  std::uint16_t word = 0;
  if (!text.starts_with("[0x") || close == std::string_view::npos || close < 4 || close > 7) {
    return errc::bad_refclock_value;
  }
  const auto digits = text.substr(3, close - 3);
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), word, 16);
  if (ec != std::errc{} || ptr != digits.data() + digits.size()) return errc::bad_refclock_value;
  meinberg_gps_status out;
  out.word = word;
  for (const auto piece : split(text.substr(close + 1), ",")) {
    if (piece.starts_with("<OK>")) {
      out.ok = true;
      if (const auto rest = trim(piece.substr(4)); !rest.empty()) out.unknown.emplace_back(rest);
    } else if (const auto bit = bit_of(gps_words, piece); bit != 0) {
      out.flags |= bit;
    } else {
      out.unknown.emplace_back(piece);
    }
  }
  return out;
}

meinberg_antenna_status decode_meinberg_antenna_status(std::string_view text) {
  text = trim(text);
  static constexpr std::array<std::pair<antenna_state, std::string_view>, 4> prefixes{{
      {antenna_state::ok, "<OK>"},
      {antenna_state::disconnected, "DISCONNECTED since "},
      {antenna_state::reconnected, "RECONNECTED on "},
      {antenna_state::bad_status, "bad status "},
  }};
  for (const auto& [state, prefix] : prefixes) {
    if (text.starts_with(prefix)) return {state, std::string(trim(text.substr(prefix.size())))};
  }
  return {antenna_state::unknown, std::string(text)};
}

}  // namespace ntpkit::proto
