#pragma once

// Field-by-field access to cmdmon layouts. Each layout is written once, as a visit() that
// names its fields in wire order with their wire types; a reader, a writer and a sizer walk
// the same list, so decoding, encoding and the length tables cannot disagree.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>

#include "ntpkit/proto/bytes.hpp"
#include "ntpkit/proto/cmdmon.hpp"

namespace ntpkit::proto::cmdmon::detail {

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

/// Reads fields from `bytes` in order; once a field does not fit, ok() is false and every
/// later read leaves its target alone.
class reader {
 public:
  explicit reader(std::span<const std::uint8_t> bytes) noexcept : b_(bytes) {}
  bool ok() const noexcept { return ok_; }
  std::size_t offset() const noexcept { return at_; }

  template <class T>
  void u8(T& v) noexcept {
    take(1, v, [&] { return b_[at_]; });
  }
  template <class T>
  void i8(T& v) noexcept {
    take(1, v, [&] { return static_cast<std::int8_t>(b_[at_]); });
  }
  template <class T>
  void u16(T& v) noexcept {
    take(2, v, [&] { return load_be16(b_, at_); });
  }
  template <class T>
  void i16(T& v) noexcept {
    take(2, v, [&] { return static_cast<std::int16_t>(load_be16(b_, at_)); });
  }
  template <class T>
  void u32(T& v) noexcept {
    take(4, v, [&] { return load_be32(b_, at_); });
  }
  template <class T>
  void i32(T& v) noexcept {
    take(4, v, [&] { return static_cast<std::int32_t>(load_be32(b_, at_)); });
  }
  /// An Integer64 into a 64-bit counter (or an optional one).
  template <class T>
  void i64(T& v) noexcept {
    take(8, v, [&] { return load_be64(b_, at_); });
  }
  void i64(integer64& v) noexcept {
    u32(v.high);
    u32(v.low);
  }
  void f(float32& v) noexcept {
    std::uint32_t bits = 0;
    u32(bits);
    if (ok_) v = float32::from_bits(bits);
  }
  void ts(timespec& v) noexcept {
    u32(v.sec_high);
    u32(v.sec_low);
    u32(v.nsec);
  }
  void ip(ip_addr& v) noexcept {
    raw(v.addr);
    u16(v.family);
    u16(v.pad);
  }
  template <std::size_t N>
  void raw(std::array<std::uint8_t, N>& v) noexcept {
    if (!fits(N)) return;
    for (std::size_t i = 0; i < N; ++i) v[i] = b_[at_ + i];
    at_ += N;
  }

 private:
  bool fits(std::size_t n) noexcept {
    if (ok_ && b_.size() - at_ >= n) return true;
    ok_ = false;
    return false;
  }
  template <class T, class Load>
  void take(std::size_t n, T& v, Load load) noexcept {
    if (!fits(n)) return;
    if constexpr (is_optional<T>::value) {
      v = static_cast<typename T::value_type>(load());
    } else {
      v = static_cast<T>(load());
    }
    at_ += n;
  }

  std::span<const std::uint8_t> b_;
  std::size_t at_ = 0;
  bool ok_ = true;
};

/// Writes fields in order into a buffer the sizer measured (absent optionals as zero).
class writer {
 public:
  explicit writer(std::span<std::uint8_t> out) noexcept : b_(out) {}
  std::size_t offset() const noexcept { return at_; }

  template <class T>
  void u8(const T& v) noexcept {
    b_[at_++] = static_cast<std::uint8_t>(plain(v));
  }
  template <class T>
  void i8(const T& v) noexcept {
    u8(v);
  }
  template <class T>
  void u16(const T& v) noexcept {
    store_be16(b_, at_, static_cast<std::uint16_t>(plain(v)));
    at_ += 2;
  }
  template <class T>
  void i16(const T& v) noexcept {
    u16(v);
  }
  template <class T>
  void u32(const T& v) noexcept {
    store_be32(b_, at_, static_cast<std::uint32_t>(plain(v)));
    at_ += 4;
  }
  template <class T>
  void i32(const T& v) noexcept {
    u32(v);
  }
  template <class T>
  void i64(const T& v) noexcept {
    store_be64(b_, at_, static_cast<std::uint64_t>(plain(v)));
    at_ += 8;
  }
  void i64(const integer64& v) noexcept {
    u32(v.high);
    u32(v.low);
  }
  void f(const float32& v) noexcept { u32(v.bits()); }
  void ts(const timespec& v) noexcept {
    u32(v.sec_high);
    u32(v.sec_low);
    u32(v.nsec);
  }
  void ip(const ip_addr& v) noexcept {
    raw(v.addr);
    u16(v.family);
    u16(v.pad);
  }
  template <std::size_t N>
  void raw(const std::array<std::uint8_t, N>& v) noexcept {
    for (std::size_t i = 0; i < N; ++i) b_[at_ + i] = v[i];
    at_ += N;
  }

 private:
  template <class T>
  static auto plain(const T& v) noexcept {
    if constexpr (is_optional<T>::value) {
      return v.value_or(typename T::value_type{});
    } else if constexpr (std::is_enum_v<T>) {
      return static_cast<std::underlying_type_t<T>>(v);
    } else {
      return v;
    }
  }

  std::span<std::uint8_t> b_;
  std::size_t at_ = 0;
};

/// Counts the bytes a layout takes.
class sizer {
 public:
  std::size_t offset() const noexcept { return at_; }
  template <class T>
  void u8(const T&) noexcept {
    at_ += 1;
  }
  template <class T>
  void i8(const T&) noexcept {
    at_ += 1;
  }
  template <class T>
  void u16(const T&) noexcept {
    at_ += 2;
  }
  template <class T>
  void i16(const T&) noexcept {
    at_ += 2;
  }
  template <class T>
  void u32(const T&) noexcept {
    at_ += 4;
  }
  template <class T>
  void i32(const T&) noexcept {
    at_ += 4;
  }
  template <class T>
  void i64(const T&) noexcept {
    at_ += 8;
  }
  void f(const float32&) noexcept { at_ += 4; }
  void ts(const timespec&) noexcept { at_ += 12; }
  void ip(const ip_addr&) noexcept { at_ += 20; }
  template <std::size_t N>
  void raw(const std::array<std::uint8_t, N>&) noexcept {
    at_ += N;
  }

 private:
  std::size_t at_ = 0;
};

}  // namespace ntpkit::proto::cmdmon::detail
