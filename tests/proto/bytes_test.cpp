// proto/bytes.hpp: big-endian loads and stores, the byte order of every NTP field (RFC 5905
// §7.3: "in network byte order").

#include "ntpkit/proto/bytes.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <random>

using namespace ntpkit;

TEST_CASE("loads read the most significant byte first, at any offset") {
  const std::array<std::uint8_t, 10> b{0xff, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x00};
  CHECK(proto::load_be16(b, 1) == 0x0123);
  CHECK(proto::load_be32(b, 1) == 0x01234567u);
  CHECK(proto::load_be64(b, 1) == 0x0123456789abcdefu);
  CHECK(proto::load_be16(b, 8) == 0xef00);
}

TEST_CASE("stores write the most significant byte first and touch nothing else") {
  std::array<std::uint8_t, 12> b{};
  b.fill(0x5a);
  proto::store_be64(b, 2, 0x0102030405060708u);
  CHECK(b == std::array<std::uint8_t, 12>{0x5a, 0x5a, 1, 2, 3, 4, 5, 6, 7, 8, 0x5a, 0x5a});
  proto::store_be16(b, 0, 0xbeef);
  proto::store_be32(b, 8, 0xdeadc0deu);
  CHECK(b[0] == 0xbe);
  CHECK(b[1] == 0xef);
  CHECK(proto::load_be32(b, 8) == 0xdeadc0deu);
}

TEST_CASE("store then load is the identity for random values and offsets") {
  const auto seed = std::random_device{}();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  std::array<std::uint8_t, 16> b{};
  for (int i = 0; i < 10'000; ++i) {
    const std::uint64_t v = rng();
    const std::size_t at = rng() % 9;
    proto::store_be64(b, at, v);
    CHECK(proto::load_be64(b, at) == v);
    proto::store_be32(b, at, static_cast<std::uint32_t>(v));
    CHECK(proto::load_be32(b, at) == static_cast<std::uint32_t>(v));
    proto::store_be16(b, at, static_cast<std::uint16_t>(v));
    CHECK(proto::load_be16(b, at) == static_cast<std::uint16_t>(v));
  }
}
