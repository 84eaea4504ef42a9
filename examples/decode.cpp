// ntpkit-decode: decodes an NTP packet given in hex with libntpkit's proto layer (no sockets,
// no clocks) and prints its header fields, then encodes it again and checks the bytes match.
//
//   ntpkit-decode [HEX]     without HEX, a server reply made up for this example

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "ntpkit/proto/packet.hpp"
#include "ntpkit/proto/refid.hpp"

namespace {

// LI 0, version 4, mode 4 (server), stratum 2, poll 6, precision -20, root delay and root
// dispersion 1/16 s, refid 192.0.2.1, then the reference, origin, receive and transmit times.
constexpr const char* example_reply =
    "240206ec0000100000001000c0000201"
    "eeb22d0000000000"
    "0123456789abcdef"
    "eeb22d4a00000000"
    "eeb22d4a40000000";

std::vector<std::uint8_t> from_hex(const std::string& hex) {
  std::vector<std::uint8_t> bytes;
  std::string digits;
  for (const char c : hex) {
    if (std::isxdigit(static_cast<unsigned char>(c))) digits += c;
  }
  for (std::size_t i = 0; i + 1 < digits.size(); i += 2) {
    bytes.push_back(static_cast<std::uint8_t>(std::stoul(digits.substr(i, 2), nullptr, 16)));
  }
  return bytes;
}

}  // namespace

int main(int argc, char** argv) {
  const auto bytes = from_hex(argc > 1 ? argv[1] : example_reply);
  const auto packet = ntpkit::proto::parse_packet(bytes);
  if (!packet) {
    std::fprintf(stderr, "not an NTP packet: %s\n", packet.error().message().c_str());
    return 1;
  }
  const auto refid = ntpkit::proto::decode_refid(packet->refid, packet->stratum);
  std::printf("leap %d, version %u, mode %d, stratum %u, poll %d, precision %d\n",
              static_cast<int>(packet->leap), static_cast<unsigned>(packet->version),
              static_cast<int>(packet->mode), static_cast<unsigned>(packet->stratum), packet->poll,
              packet->precision);
  std::printf("root delay %.9f s, root dispersion %.9f s, refid %s\n",
              packet->root_delay.to_duration().to_seconds(),
              packet->root_dispersion.to_duration().to_seconds(), refid.text.c_str());
  std::printf("transmit - receive: %.9f s\n", (packet->transmit - packet->receive).to_seconds());
  const bool same = ntpkit::proto::serialize_packet(*packet) == bytes;
  std::printf("re-encoded: %s\n", same ? "identical" : "different");
  return same ? 0 : 1;
}
