#include "ntpkit/report/format.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "ntpkit/proto/refid.hpp"

namespace ntpkit::report {

std::string ntp_hex(proto::timestamp ts) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%08x.%08x", ts.seconds(), ts.fraction());
  return buf;
}

std::string iso8601(proto::sys_nanoseconds t, int decimals) {
  using namespace std::chrono;
  // Split into days and nanoseconds of the day by integer division: floor<days>(t) converts
  // the day back to nanoseconds, which overflows within a day of the lower limit of
  // sys_nanoseconds, where date::to_sys_time saturates.
  constexpr std::int64_t ns_per_day = 86'400'000'000'000;
  std::int64_t day = t.time_since_epoch().count() / ns_per_day;
  std::int64_t in_day = t.time_since_epoch().count() % ns_per_day;
  if (in_day < 0) {
    in_day += ns_per_day;
    --day;
  }
  const year_month_day ymd{sys_days{days{day}}};
  const auto h = in_day / 3'600'000'000'000;
  const auto m = in_day / 60'000'000'000 % 60;
  const auto s = in_day / 1'000'000'000 % 60;
  const auto ns = in_day % 1'000'000'000;
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", int(ymd.year()),
                        unsigned(ymd.month()), unsigned(ymd.day()), int(h), int(m), int(s));
  if (decimals > 0) {
    char frac[16];
    std::snprintf(frac, sizeof frac, "%09lld", static_cast<long long>(ns));
    frac[decimals > 9 ? 9 : decimals] = '\0';
    n += std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), ".%s", frac);
  }
  std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), "Z");
  return buf;
}

std::string signed_seconds(double s, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%+.*f", decimals, s);
  return buf;
}

std::string seconds(double s, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, s);
  return buf;
}

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
