// Fuzz target: net::parse_target, the parser of server specs as users type them ("host",
// "host:port", "[v6addr]", "[v6addr]:port", a bare IPv6 address).
//
// Invariants: an accepted spec keeps its text, has a non-empty host of printable characters
// without the separators (space, brackets, slash) and a port in 1..65535; whether a spec is
// accepted does not depend on the default port, which is used exactly when the spec names
// none; and the canonical form ("host:port", or "[host]:port" when the host has a colon)
// parses back to the same host and port.

#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "ntpkit/net/resolve.hpp"

namespace {

using namespace ntpkit;

// Two default ports, so that a port named by the spec and a default one can be told apart.
constexpr std::uint16_t default_a = 123;
constexpr std::uint16_t default_b = 54321;

std::string canonical(const net::target& t) {
  const auto port = std::to_string(t.port);
  return t.host.find(':') == std::string::npos ? t.host + ":" + port : "[" + t.host + "]:" + port;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view spec(reinterpret_cast<const char*>(data), size);
  const auto a = net::parse_target(spec, default_a);
  const auto b = net::parse_target(spec, default_b);
  NTPKIT_FUZZ_CHECK(a.has_value() == b.has_value());
  if (!a) {
    NTPKIT_FUZZ_CHECK(a.error() == b.error());
    NTPKIT_FUZZ_CHECK(a.error() == net::errc::bad_target || a.error() == net::errc::bad_port);
    return 0;
  }
  NTPKIT_FUZZ_CHECK(a->spec == spec && b->spec == spec);
  NTPKIT_FUZZ_CHECK(a->host == b->host);
  NTPKIT_FUZZ_CHECK(!a->host.empty());
  NTPKIT_FUZZ_CHECK(a->port >= 1 && b->port >= 1);
  for (const char ch : a->host) {
    const auto c = static_cast<unsigned char>(ch);
    NTPKIT_FUZZ_CHECK(c > 0x20 && c != 0x7f && c != '[' && c != ']' && c != '/');
  }
  // Either the spec names its port, or both parses took their default.
  NTPKIT_FUZZ_CHECK(a->port == b->port || (a->port == default_a && b->port == default_b));

  const auto again = net::parse_target(canonical(*a), default_b);
  NTPKIT_FUZZ_CHECK(again.has_value());
  NTPKIT_FUZZ_CHECK(again->host == a->host && again->port == a->port);
  return 0;
}
