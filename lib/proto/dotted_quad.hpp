#pragma once

// An IPv4 address or refid as dotted-quad text ("192.0.2.1"), written digit by digit:
// snprintf("%u.%u.%u.%u") and inet_ntop (asio's to_string), which calls sprintf per octet,
// were each 5% of the instructions of a 1000-server run. Internal to libntpkit.

#include <array>
#include <cstdint>
#include <string>

namespace ntpkit::proto::detail {

std::string dotted_quad(const std::array<std::uint8_t, 4>& octets);

}  // namespace ntpkit::proto::detail
