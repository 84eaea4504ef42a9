// proto/errc.hpp: the protocol layer's errors are std::error_codes of their own category, with
// short lowercase messages, comparable with the enum.

#include "ntpkit/proto/errc.hpp"

#include <doctest/doctest.h>

#include <cctype>
#include <ostream>
#include <string>
#include <system_error>

using namespace ntpkit;

TEST_CASE("errc values are error codes of the ntpkit.proto category") {
  const std::error_code ec = proto::errc::mac_mismatch;
  CHECK(ec.category().name() == std::string("ntpkit.proto"));
  CHECK(&ec.category() == &proto::proto_category());
  CHECK(ec == proto::errc::mac_mismatch);
  CHECK(ec != proto::errc::truncated);
  CHECK(ec != std::errc::invalid_argument);  // another category, never equal
}

TEST_CASE("every errc has its own short lowercase message") {
  std::string previous;
  for (int v = static_cast<int>(proto::errc::truncated);
       v <= static_cast<int>(proto::errc::crypto_nak); ++v) {
    const auto m = std::error_code(v, proto::proto_category()).message();
    CAPTURE(v);
    CHECK_FALSE(m.empty());
    CHECK(m != "unknown proto error");
    CHECK(m != previous);
    // Lowercase, not a capitalised sentence; an acronym (MAC) may lead.
    CHECK_FALSE((std::isupper(static_cast<unsigned char>(m[0])) &&
                 std::islower(static_cast<unsigned char>(m[1]))));
    CHECK(m.back() != '.');
    previous = m;
  }
  CHECK(std::error_code(9999, proto::proto_category()).message() == "unknown proto error");
}
