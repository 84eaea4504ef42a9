#pragma once

// result<T>: a value or a std::error_code, spelled like std::expected so that moving to C++23
// is one line (`template <class T> using result = std::expected<T, std::error_code>;`).
// libstdc++ 12 only has <expected> under -std=c++2b, hence this small class.

#include <cassert>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace ntpkit {

/// Wraps an error for construction of a failed result, as std::unexpected does.
class unexpected {
 public:
  explicit unexpected(std::error_code ec) noexcept : ec_(ec) {}
  template <class E, class = std::enable_if_t<std::is_error_code_enum_v<E>>>
  explicit unexpected(E e) noexcept : ec_(make_error_code(e)) {}
  const std::error_code& error() const noexcept { return ec_; }

 private:
  std::error_code ec_;
};

/// A T, or the std::error_code saying why there is none.
template <class T>
class [[nodiscard]] result {
 public:
  using value_type = T;

  result(const T& v) : v_(std::in_place_index<0>, v) {}
  result(T&& v) : v_(std::in_place_index<0>, std::move(v)) {}
  result(std::error_code ec) : v_(std::in_place_index<1>, ec) { assert(ec); }
  result(unexpected u) : v_(std::in_place_index<1>, u.error()) { assert(u.error()); }
  template <class E, class = std::enable_if_t<std::is_error_code_enum_v<E>>>
  result(E e) : v_(std::in_place_index<1>, make_error_code(e)) {}

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { return check(), std::get<0>(v_); }
  const T& value() const& { return check(), std::get<0>(v_); }
  T&& value() && { return check(), std::get<0>(std::move(v_)); }
  template <class U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
  }

  /// The error; only meaningful when !has_value().
  std::error_code error() const noexcept {
    return has_value() ? std::error_code{} : std::get<1>(v_);
  }

  T& operator*() & noexcept { return std::get<0>(v_); }
  const T& operator*() const& noexcept { return std::get<0>(v_); }
  T&& operator*() && noexcept { return std::get<0>(std::move(v_)); }
  T* operator->() noexcept { return &std::get<0>(v_); }
  const T* operator->() const noexcept { return &std::get<0>(v_); }

 private:
  void check() const {
    if (!has_value()) throw std::system_error(std::get<1>(v_));
  }
  std::variant<T, std::error_code> v_;
};

/// result<void>: success, or an error.
template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(std::error_code ec) : ec_(ec) { assert(ec); }
  result(unexpected u) : ec_(u.error()) {}
  template <class E, class = std::enable_if_t<std::is_error_code_enum_v<E>>>
  result(E e) : ec_(make_error_code(e)) {}

  bool has_value() const noexcept { return !ec_; }
  explicit operator bool() const noexcept { return has_value(); }
  void value() const {
    if (ec_) throw std::system_error(ec_);
  }
  std::error_code error() const noexcept { return ec_; }

 private:
  std::error_code ec_;
};

}  // namespace ntpkit
