#include "ntpkit/model/address.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace ntpkit::model {

bool is_multicast_broadcast_or_unspecified(const ip_address& a) noexcept {
  if (a.family == family::ipv4) {
    const std::uint32_t v = a.v4_value();
    return v == 0 || v == 0xffffffffu || (v >> 28) == 0xe;  // 224.0.0.0/4
  }
  if (a.octets[0] == 0xff) return true;  // ff00::/8
  for (const auto o : a.octets) {
    if (o != 0) return false;
  }
  return true;  // ::
}

bool is_loopback(const ip_address& a) noexcept {
  if (a.family == family::ipv4) return a.octets[12] == 127;
  for (std::size_t i = 0; i < 15; ++i) {
    if (a.octets[i] != 0) return false;
  }
  return a.octets[15] == 1;
}

std::string to_string(const ip_address& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.family == family::ipv4) {
    ::inet_ntop(AF_INET, a.octets.data() + 12, buf, sizeof buf);
  } else {
    ::inet_ntop(AF_INET6, a.octets.data(), buf, sizeof buf);
  }
  return buf;
}

bool parse_ip_address(const std::string& text, ip_address& out) noexcept {
  std::uint8_t raw[16];
  if (::inet_pton(AF_INET, text.c_str(), raw) == 1) {
    out = ip_address::v4(std::span<const std::uint8_t, 4>(raw, 4));
    return true;
  }
  if (::inet_pton(AF_INET6, text.c_str(), raw) == 1) {
    out = ip_address::v6(std::span<const std::uint8_t, 16>(raw, 16));
    return true;
  }
  return false;
}

}  // namespace ntpkit::model
