#include "ntpkit/report/format.hpp"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <system_error>

#include "../proto/escape.hpp"
#include "ntpkit/proto/refid.hpp"

namespace ntpkit::report {

std::string printable(std::string_view s) { return proto::detail::escape_bytes(s); }

std::string terminal_safe(std::string_view s) {
  std::string out;
  std::size_t from = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i < s.size() && s[i] != '\\') continue;
    out += proto::detail::escape_bytes(s.substr(from, i - from));
    if (i < s.size()) out += '\\';
    from = i + 1;
  }
  return out;
}

std::string ntp_hex(proto::timestamp ts) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%08x.%08x", ts.seconds(), ts.fraction());
  return buf;
}

namespace {

// Writes `value` as exactly `width` decimal digits (zero-padded) at `out`; returns the end.
char* put_digits(char* out, unsigned long long value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out + width;
}

// "%.*f" of `s` (with "%+.*f"'s sign when `sign`) through std::to_chars, which is specified
// to give printf's result in the C locale, at a tenth of its cost (callgrind: snprintf's
// __printf_fp was a third of ntpprobe's instructions on 1000 servers).
std::string fixed(double s, int decimals, bool sign) {
  char buf[64];
  char* p = buf;
  if (sign && !std::signbit(s)) *p++ = '+';
  const auto [end, ec] = std::to_chars(p, buf + sizeof buf, s, std::chars_format::fixed,
                                       decimals);
  if (ec == std::errc{}) return std::string(buf, end);
  char big[512];  // very large values: printf itself
  std::snprintf(big, sizeof big, sign ? "%+.*f" : "%.*f", decimals, s);
  return big;
}

}  // namespace

std::string iso8601(proto::sys_nanoseconds t, int decimals) {
  using namespace std::chrono;
  // Split into days and nanoseconds of the day by hand: floor<days>(t) and t - day convert
  // the day back to nanoseconds, which overflows int64 in the first day of sys_nanoseconds
  // (1677-09-21, where date::to_sys_time saturates).
  constexpr std::int64_t ns_per_day = 86'400'000'000'000;
  const std::int64_t since_epoch = t.time_since_epoch().count();
  std::int64_t day_count = since_epoch / ns_per_day;
  std::int64_t in_day = since_epoch % ns_per_day;
  if (in_day < 0) {  // floor, for instants before 1970
    in_day += ns_per_day;
    --day_count;
  }
  const year_month_day ymd{sys_days{days{day_count}}};
  const std::int64_t secs = in_day / 1'000'000'000;
  const std::int64_t ns = in_day % 1'000'000'000;
  // YYYY-MM-DDTHH:MM:SS[.fraction]Z, digit by digit (sys_nanoseconds spans years 1677-2262).
  char buf[40];
  char* p = put_digits(buf, static_cast<unsigned>(int(ymd.year())), 4);
  *p++ = '-';
  p = put_digits(p, unsigned(ymd.month()), 2);
  *p++ = '-';
  p = put_digits(p, unsigned(ymd.day()), 2);
  *p++ = 'T';
  p = put_digits(p, static_cast<unsigned>(secs / 3600), 2);
  *p++ = ':';
  p = put_digits(p, static_cast<unsigned>(secs / 60 % 60), 2);
  *p++ = ':';
  p = put_digits(p, static_cast<unsigned>(secs % 60), 2);
  if (decimals > 0) {
    char frac[9];
    put_digits(frac, static_cast<unsigned long long>(ns), 9);
    *p++ = '.';
    const int shown = decimals > 9 ? 9 : decimals;
    for (int i = 0; i < shown; ++i) *p++ = frac[i];
  }
  *p++ = 'Z';
  return std::string(buf, p);
}

std::string signed_seconds(double s, int decimals) { return fixed(s, decimals, true); }

std::string seconds(double s, int decimals) { return fixed(s, decimals, false); }

std::string_view leap_name(proto::leap_indicator l) noexcept {
  switch (l) {
    case proto::leap_indicator::none: return "none";
    case proto::leap_indicator::add_second: return "add_second";
    case proto::leap_indicator::del_second: return "del_second";
    case proto::leap_indicator::unsynchronised: return "unsynchronised";
  }
  return "unknown";
}

std::string_view mode_name(proto::association_mode m) noexcept {
  switch (m) {
    case proto::association_mode::reserved: return "reserved";
    case proto::association_mode::symmetric_active: return "symmetric_active";
    case proto::association_mode::symmetric_passive: return "symmetric_passive";
    case proto::association_mode::client: return "client";
    case proto::association_mode::server: return "server";
    case proto::association_mode::broadcast: return "broadcast";
    case proto::association_mode::control: return "control";
    case proto::association_mode::private_use: return "private";
  }
  return "unknown";
}

std::string_view refid_kind_name(proto::refid_kind kind) noexcept {
  switch (kind) {
    case proto::refid_kind::none: return "none";
    case proto::refid_kind::kiss_code: return "kiss_code";
    case proto::refid_kind::reference_source: return "reference_source";
    case proto::refid_kind::ipv4: return "ipv4";
    case proto::refid_kind::ipv6_hash: return "ipv6_hash";
  }
  return "unknown";
}

std::string refid_hex(const std::array<std::uint8_t, 4>& r) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
  return buf;
}

}  // namespace ntpkit::report
