#include "ntpkit/proto/control_vars.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "ntpkit/proto/errc.hpp"

namespace ntpkit::proto {
namespace {

constexpr bool is_line_end(char c) noexcept { return c == '\r' || c == '\n'; }
// Line ends count as blanks around names and values; they never separate items (below).
constexpr bool is_blank(char c) noexcept { return c == ' ' || c == '\t' || is_line_end(c); }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Hex digits only, 1..max of them.
bool parse_hex_digits(std::string_view s, std::size_t max, std::uint64_t& out) noexcept {
  if (s.empty() || s.size() > max) return false;
  std::uint64_t v = 0;
  for (const char c : s) {
    const int d = hex_digit(c);
    if (d < 0) return false;
    v = v << 4 | static_cast<unsigned>(d);
  }
  out = v;
  return true;
}

bool has_hex_prefix(std::string_view s) noexcept {
  return s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

// One item of the list: name, then the value after the first '=' outside quotes.
void add_item(variable_list& out, std::string_view item) {
  item = trim(item);
  if (item.empty()) return;
  bool quoted = false;
  for (std::size_t i = 0; i < item.size(); ++i) {
    if (item[i] == '"') quoted = !quoted;
    if (item[i] == '=' && !quoted) {
      out.emplace_back(std::string(trim(item.substr(0, i))),
                       variable_value(std::string(trim(item.substr(i + 1))), true));
      return;
    }
  }
  out.emplace_back(std::string(item), variable_value({}, false));
}

bool is_plain_name(std::string_view n) noexcept {
  return std::none_of(n.begin(), n.end(), [](char c) {
    return c == ',' || c == '=' || c == '"' || is_blank(c) || is_line_end(c);
  });
}

}  // namespace

result<std::int64_t> variable_value::integer() const {
  std::int64_t v = 0;
  const char* end = raw_.data() + raw_.size();
  const auto [ptr, ec] = std::from_chars(raw_.data(), end, v);
  if (raw_.empty() || ec != std::errc{} || ptr != end) return errc::bad_variable_value;
  return v;
}

result<std::uint64_t> variable_value::unsigned_integer() const {
  if (has_hex_prefix(raw_)) return hex();
  std::uint64_t v = 0;
  const char* end = raw_.data() + raw_.size();
  const auto [ptr, ec] = std::from_chars(raw_.data(), end, v);
  if (raw_.empty() || ec != std::errc{} || ptr != end) return errc::bad_variable_value;
  return v;
}

result<std::uint64_t> variable_value::hex() const {
  std::uint64_t v = 0;
  if (!has_hex_prefix(raw_) || !parse_hex_digits(std::string_view(raw_).substr(2), 16, v)) {
    return errc::bad_variable_value;
  }
  return v;
}

result<double> variable_value::number() const {
  std::string_view s = raw_;
  // from_chars takes no leading '+'; ntpd never writes one, but accept it as printf may.
  if (s.size() > 1 && s[0] == '+' && s[1] != '-') s.remove_prefix(1);
  if (s.empty()) return errc::bad_variable_value;
  // Digits, sign, point and exponent only: from_chars would also read "inf", "nan", hex.
  if (!std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
      })) {
    return errc::bad_variable_value;
  }
  double v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size()) return errc::bad_variable_value;
  return v;
}

result<timestamp> variable_value::ntp_timestamp() const {
  const std::string_view s = raw_;
  const auto dot = s.find('.');
  std::uint64_t seconds = 0;
  std::uint64_t fraction = 0;
  if (!has_hex_prefix(s) || dot == std::string_view::npos ||
      !parse_hex_digits(s.substr(2, dot - 2), 8, seconds) ||
      !parse_hex_digits(s.substr(dot + 1), 8, fraction)) {
    return errc::bad_variable_value;
  }
  return timestamp::from_parts(static_cast<std::uint32_t>(seconds),
                               static_cast<std::uint32_t>(fraction));
}

result<std::string> variable_value::text() const {
  const std::string_view s = raw_;
  if (s.empty() || s.front() != '"') {
    if (s.find('"') != std::string_view::npos) return errc::bad_variable_value;
    return std::string(s);
  }
  if (s.size() < 2 || s.back() != '"') return errc::bad_variable_value;
  const auto inner = s.substr(1, s.size() - 2);
  if (inner.find('"') != std::string_view::npos) return errc::bad_variable_value;
  return std::string(inner);
}

variable_list parse_variables(std::string_view text) {
  variable_list out;
  bool quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      quoted = !quoted;
    } else if (!quoted && c == ',') {
      // Only a comma separates, as in ntpq: NTPsec 1.2.2 sends raw garbage bytes (CR and LF
      // among them) inside filtdelay/filtoffset/filtdisp, which must not split a value.
      add_item(out, text.substr(start, i - start));
      start = i + 1;
    }
  }
  add_item(out, text.substr(start));
  return out;
}

variable_list parse_variables(std::span<const std::uint8_t> data) {
  return parse_variables(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
}

const variable_value* find_variable(const variable_list& list, std::string_view name) noexcept {
  for (const auto& [n, v] : list) {
    if (n == name) return &v;
  }
  return nullptr;
}

std::string format_variables(const variable_list& list) {
  std::string out;
  for (const auto& [name, value] : list) {
    if (!out.empty()) out += ", ";
    out += name;
    if (value.present()) {
      out += '=';
      out += value.raw();
    }
  }
  return out;
}

result<std::string> build_variable_request(std::span<const std::string> names) {
  std::string out;
  for (const auto& n : names) {
    if (n.empty()) continue;
    if (!is_plain_name(n)) return errc::bad_variable_value;
    if (!out.empty()) out += ',';
    out += n;
  }
  if (out.size() > 468) return errc::control_data_too_long;
  return out;
}

std::vector<std::string> split_variable_request(std::string_view data) {
  std::vector<std::string> out;
  for (auto& [name, value] : parse_variables(data)) {
    if (!name.empty()) out.push_back(std::move(name));
  }
  return out;
}

std::vector<std::vector<std::string>> pack_variable_requests(std::span<const std::string> names,
                                                             std::size_t max_bytes) {
  std::vector<std::vector<std::string>> runs;
  std::size_t used = 0;
  for (const auto& n : names) {
    if (n.empty()) continue;
    if (runs.empty() || used + 1 + n.size() > max_bytes) {
      runs.push_back({n});
      used = n.size();
    } else {
      runs.back().push_back(n);
      used += 1 + n.size();
    }
  }
  return runs;
}

std::string format_ntp_timestamp(timestamp t) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%08x.%08x", static_cast<unsigned>(t.seconds()),
                static_cast<unsigned>(t.fraction()));
  return buf;
}

}  // namespace ntpkit::proto
