#pragma once

// Big-endian (network order) loads and stores on byte spans. Callers check lengths first;
// these helpers only assert.

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>

namespace ntpkit::proto {

/// Reads a big-endian 16-bit value at `at`.
constexpr std::uint16_t load_be16(std::span<const std::uint8_t> b, std::size_t at) noexcept {
  assert(at + 2 <= b.size());
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}

/// Reads a big-endian 32-bit value at `at`.
constexpr std::uint32_t load_be32(std::span<const std::uint8_t> b, std::size_t at) noexcept {
  assert(at + 4 <= b.size());
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) |
         (std::uint32_t{b[at + 2]} << 8) | std::uint32_t{b[at + 3]};
}

/// Reads a big-endian 64-bit value at `at`.
constexpr std::uint64_t load_be64(std::span<const std::uint8_t> b, std::size_t at) noexcept {
  return (std::uint64_t{load_be32(b, at)} << 32) | load_be32(b, at + 4);
}

/// Writes `v` big-endian at `at`.
constexpr void store_be16(std::span<std::uint8_t> b, std::size_t at, std::uint16_t v) noexcept {
  assert(at + 2 <= b.size());
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v);
}

/// Writes `v` big-endian at `at`.
constexpr void store_be32(std::span<std::uint8_t> b, std::size_t at, std::uint32_t v) noexcept {
  assert(at + 4 <= b.size());
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}

/// Writes `v` big-endian at `at`.
constexpr void store_be64(std::span<std::uint8_t> b, std::size_t at, std::uint64_t v) noexcept {
  store_be32(b, at, static_cast<std::uint32_t>(v >> 32));
  store_be32(b, at + 4, static_cast<std::uint32_t>(v));
}

}  // namespace ntpkit::proto
