// chrony cmdmon wire types (Float, Timespec, IPAddr) and the names of codes.

#include <bit>
#include <cstdio>
#include <limits>

#include "ntpkit/proto/cmdmon.hpp"

namespace ntpkit::proto::cmdmon {
namespace {

// 2^k for -1022 <= k <= 1023, built from the exponent bits: exact, and without libm.
constexpr double pow2(int k) noexcept {
  return std::bit_cast<double>(static_cast<std::uint64_t>(k + 1023) << 52);
}

// Largest coefficient magnitude of each sign (25-bit two's complement).
constexpr std::int64_t max_positive_coefficient = (1 << 24) - 1;
constexpr std::int64_t max_negative_coefficient = 1 << 24;

}  // namespace

double float32::to_double() const noexcept {
  return static_cast<double>(coefficient()) * pow2(exponent() - 25);
}

float32 float32::from_double(double x) noexcept {
  if (!(x == x)) return float32();  // NaN
  const bool negative = x < 0;
  const double a = negative ? -x : x;
  if (a == 0) return float32();
  // k: the binary exponent of a (2^k <= a < 2^(k+1)); subnormal doubles are far below the
  // smallest value (2^-89) and become zero below.
  const auto raw = std::bit_cast<std::uint64_t>(a);
  const int k = static_cast<int>((raw >> 52) & 0x7ff) - 1023;
  const std::int64_t limit = negative ? max_negative_coefficient : max_positive_coefficient;
  if (k >= 62) return from_parts(static_cast<std::int32_t>(negative ? -limit : limit), 63);
  if (k < -91) return float32();
  // With exponent e = k + 2 the coefficient a × 2^(25 - e) lies in [2^23, 2^24): 24 bits,
  // which both signs hold. Below the smallest exponent (-64) it is scaled to e = -64.
  int e = k + 2 < -64 ? -64 : k + 2;
  const double scaled = a * pow2(25 - e);  // exact: a power-of-two scaling below 2^24
  auto coefficient = static_cast<std::int64_t>(scaled);
  if (scaled - static_cast<double>(coefficient) >= 0.5) ++coefficient;  // ties away from zero
  if (coefficient > max_positive_coefficient) {  // rounded up to 2^24: one bit less
    coefficient >>= 1;
    ++e;
  }
  if (e > 63) return from_parts(static_cast<std::int32_t>(negative ? -limit : limit), 63);
  if (coefficient == 0) return float32();
  return from_parts(static_cast<std::int32_t>(negative ? -coefficient : coefficient), e);
}

sys_nanoseconds timespec::to_sys_time() const noexcept {
  using rep = sys_nanoseconds::rep;
  constexpr rep max_seconds = std::numeric_limits<rep>::max() / 1'000'000'000 - 1;
  const std::int64_t s = seconds();
  if (s > max_seconds) return sys_nanoseconds::max();
  if (s < -max_seconds) return sys_nanoseconds::min();
  return sys_nanoseconds(std::chrono::nanoseconds(s * 1'000'000'000 + nanoseconds()));
}

ip_addr ip_addr::from_in4(std::uint32_t address) noexcept {
  ip_addr a;
  for (int i = 0; i < 4; ++i) a.addr[i] = static_cast<std::uint8_t>(address >> (24 - 8 * i));
  a.family = static_cast<std::uint16_t>(address_family::inet4);
  return a;
}

ip_addr ip_addr::from_in6(const std::array<std::uint8_t, 16>& address) noexcept {
  ip_addr a;
  a.addr = address;
  a.family = static_cast<std::uint16_t>(address_family::inet6);
  return a;
}

ip_addr ip_addr::from_id(std::uint32_t id) noexcept {
  ip_addr a = from_in4(id);
  a.family = static_cast<std::uint16_t>(address_family::id);
  return a;
}

namespace {

// RFC 5952 §4: lowercase hex groups without leading zeros, the longest run of two or more
// zero groups (the first of equals) as "::", and §5's dotted tail for IPv4-mapped addresses.
std::string in6_to_string(const std::array<std::uint8_t, 16>& b) {
  std::array<unsigned, 8> g{};
  for (int i = 0; i < 8; ++i) g[i] = unsigned{b[2 * i]} << 8 | b[2 * i + 1];
  char buf[64];
  if (g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 && g[5] == 0xffff) {
    std::snprintf(buf, sizeof buf, "::ffff:%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
    return buf;
  }
  int best = -1, best_len = 1;
  for (int i = 0; i < 8;) {
    int j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j == i ? i + 1 : j;
  }
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    std::snprintf(buf, sizeof buf, "%x", g[i]);
    out += buf;
  }
  return out;
}

}  // namespace

std::string to_string(const ip_addr& a) {
  char buf[48];
  switch (a.kind()) {
    case address_family::inet4:
      std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", a.addr[0], a.addr[1], a.addr[2], a.addr[3]);
      return buf;
    case address_family::inet6:
      return in6_to_string(a.addr);
    case address_family::id:
      std::snprintf(buf, sizeof buf, "unresolved source #%u", a.id());
      return buf;
    case address_family::unspec:
      break;
  }
  return "unspecified";
}

std::string_view command_name(command c) noexcept {
  // clang-format off: a table in candm.h's order
  static constexpr std::string_view names[] = {"null",
                                               "online",
                                               "offline",
                                               "burst",
                                               "modify_minpoll",
                                               "modify_maxpoll",
                                               "dump",
                                               "modify_maxdelay",
                                               "modify_maxdelayratio",
                                               "modify_maxupdateskew",
                                               "logon",
                                               "settime",
                                               "local",
                                               "manual",
                                               "n_sources",
                                               "source_data",
                                               "rekey",
                                               "allow",
                                               "allowall",
                                               "deny",
                                               "denyall",
                                               "cmdallow",
                                               "cmdallowall",
                                               "cmddeny",
                                               "cmddenyall",
                                               "accheck",
                                               "cmdaccheck",
                                               "add_server",
                                               "add_peer",
                                               "del_source",
                                               "writertc",
                                               "dfreq",
                                               "doffset",
                                               "tracking",
                                               "sourcestats",
                                               "rtcreport",
                                               "trimrtc",
                                               "cyclelogs",
                                               "subnets_accessed",
                                               "client_accesses",
                                               "client_accesses_by_index",
                                               "manual_list",
                                               "manual_delete",
                                               "makestep",
                                               "activity",
                                               "modify_minstratum",
                                               "modify_polltarget",
                                               "modify_maxdelaydevratio",
                                               "reselect",
                                               "reselectdistance",
                                               "modify_makestep",
                                               "smoothing",
                                               "smoothtime",
                                               "refresh",
                                               "server_stats",
                                               "client_accesses_by_index2",
                                               "local2",
                                               "ntp_data",
                                               "add_server2",
                                               "add_peer2",
                                               "add_server3",
                                               "add_peer3",
                                               "shutdown",
                                               "onoffline",
                                               "add_source",
                                               "ntp_source_name",
                                               "reset_sources",
                                               "auth_data",
                                               "client_accesses_by_index3",
                                               "select_data",
                                               "reload_sources",
                                               "doffset2",
                                               "modify_selectopts",
                                               "modify_offset",
                                               "local3"};
  // clang-format on
  const auto i = static_cast<std::size_t>(c);
  return i < std::size(names) ? names[i] : "unknown";
}

std::string_view reply_code_name(reply_code r) noexcept {
  // clang-format off: a table in candm.h's order
  static constexpr std::string_view names[] = {"unknown",
                                               "null",
                                               "n_sources",
                                               "source_data",
                                               "manual_timestamp",
                                               "tracking",
                                               "sourcestats",
                                               "rtc",
                                               "subnets_accessed",
                                               "client_accesses",
                                               "client_accesses_by_index",
                                               "manual_list",
                                               "activity",
                                               "smoothing",
                                               "server_stats",
                                               "client_accesses_by_index2",
                                               "ntp_data",
                                               "manual_timestamp2",
                                               "manual_list2",
                                               "ntp_source_name",
                                               "auth_data",
                                               "client_accesses_by_index3",
                                               "server_stats2",
                                               "select_data",
                                               "server_stats3",
                                               "server_stats4",
                                               "ntp_data2"};
  // clang-format on
  const auto i = static_cast<std::size_t>(r);
  return i < std::size(names) ? names[i] : "unknown";
}

std::string_view status_name(status s) noexcept {
  // clang-format off: a table in candm.h's order
  static constexpr std::string_view names[] = {"success",
                                               "failed",
                                               "unauthorised",
                                               "invalid",
                                               "no such source",
                                               "invalid timestamp",
                                               "not enabled",
                                               "bad subnet",
                                               "access allowed",
                                               "access denied",
                                               "no host access",
                                               "source already known",
                                               "too many sources",
                                               "no rtc",
                                               "bad rtc file",
                                               "inactive",
                                               "bad sample",
                                               "invalid address family",
                                               "bad packet version",
                                               "bad packet length",
                                               "unknown status",
                                               "invalid name"};
  // clang-format on
  const auto i = static_cast<std::size_t>(s);
  return i < std::size(names) ? names[i] : "unknown status";
}

}  // namespace ntpkit::proto::cmdmon
