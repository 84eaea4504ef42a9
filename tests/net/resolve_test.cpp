#include "ntpkit/net/resolve.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace ntpkit::net;

// Only parse_target is tested here: it is pure. resolve() needs a resolver and belongs to
// the integration tests.

TEST_CASE("parse_target: a bare host takes the default port") {
  const auto t = parse_target("ntp.example", 123);
  REQUIRE(t.has_value());
  CHECK(t->spec == "ntp.example");
  CHECK(t->host == "ntp.example");
  CHECK(t->port == 123);
  CHECK(parse_target("192.0.2.1", 4123)->port == 4123);
}

TEST_CASE("parse_target: host:port") {
  const auto t = parse_target("127.0.0.1:11123", 123);
  REQUIRE(t.has_value());
  CHECK(t->spec == "127.0.0.1:11123");
  CHECK(t->host == "127.0.0.1");
  CHECK(t->port == 11123);
  CHECK(parse_target("h:1", 123)->port == 1);
  CHECK(parse_target("h:65535", 123)->port == 65535);
}

TEST_CASE("parse_target: [v6]:port and [v6] lose their brackets") {
  const auto t = parse_target("[::1]:11123", 123);
  REQUIRE(t.has_value());
  CHECK(t->spec == "[::1]:11123");
  CHECK(t->host == "::1");
  CHECK(t->port == 11123);
  const auto bare = parse_target("[2001:db8::1]", 123);
  REQUIRE(bare.has_value());
  CHECK(bare->host == "2001:db8::1");
  CHECK(bare->port == 123);
}

TEST_CASE("parse_target: an address with several colons is IPv6 without a port") {
  // The ambiguity of "a:b:c" is settled this way: a single colon separates a port, two or
  // more make an IPv6 address (write [addr]:port to give one a port).
  for (const char* spec : {"::1", "2001:db8::123", "fe80::1:2:3:4", "1:2:3:4:5:6:7:8"}) {
    CAPTURE(spec);
    const auto t = parse_target(spec, 123);
    REQUIRE(t.has_value());
    CHECK(t->host == spec);
    CHECK(t->port == 123);
  }
}

TEST_CASE("parse_target: ports 0, above 65535, empty or not a number are bad_port") {
  for (const char* spec : {"h:0", "h:65536", "h:99999999999", "h:abc", "h:12a", "h:", "h:-1",
                           "h:+5", "h: 5", "[::1]:0", "[::1]:65536", "[::1]:x", "[::1]:"}) {
    CAPTURE(spec);
    const auto t = parse_target(spec, 123);
    REQUIRE_FALSE(t.has_value());
    CHECK(t.error() == errc::bad_port);
  }
}

TEST_CASE("parse_target: an empty host, an unclosed bracket or junk is bad_target") {
  for (const char* spec : {"", ":123", "[]", "[]:123", "[::1", "[::1:123", "[::1]x", "[::1]123",
                           "bad host", "a/b", "::1]"}) {
    CAPTURE(spec);
    const auto t = parse_target(spec, 123);
    REQUIRE_FALSE(t.has_value());
    CHECK(t.error() == errc::bad_target);
  }
}

TEST_CASE("net errors have their own category and a message") {
  const std::error_code ec = errc::bad_port;
  CHECK(std::string(ec.category().name()) == "ntpkit.net");
  CHECK(ec.message() == "port must be a number from 1 to 65535");
  CHECK_FALSE(std::error_code(errc::bad_target).message().empty());
}
