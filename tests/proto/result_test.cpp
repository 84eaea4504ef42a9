// ntpkit/result.hpp: result<T> spelled like std::expected, so that C++23 is one line away.
// The cases pin what callers rely on: the value or the error, never both; value() throws the
// error as std::system_error; result<void> is success unless it holds an error.

#include "ntpkit/result.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <ostream>
#include <string>
#include <system_error>

#include "ntpkit/proto/errc.hpp"

using namespace ntpkit;

TEST_CASE("a result holds a value or an error, and says which") {
  result<int> good = 5;
  CHECK(good.has_value());
  CHECK(static_cast<bool>(good));
  CHECK(*good == 5);
  CHECK(good.value() == 5);
  CHECK_FALSE(good.error());  // an empty error_code beside a value

  result<int> bad = proto::errc::truncated;
  CHECK_FALSE(bad.has_value());
  CHECK_FALSE(static_cast<bool>(bad));
  CHECK(bad.error() == proto::errc::truncated);
  CHECK(bad.value_or(7) == 7);
  CHECK(good.value_or(7) == 5);
}

TEST_CASE("value() of an error throws it as std::system_error") {
  result<std::string> bad = unexpected(std::make_error_code(std::errc::timed_out));
  try {
    (void)bad.value();
    FAIL("value() did not throw");
  } catch (const std::system_error& e) {
    CHECK(e.code() == std::errc::timed_out);
  }
}

TEST_CASE("a result moves its value out, and -> reaches its members") {
  result<std::unique_ptr<int>> r = std::make_unique<int>(3);
  auto p = std::move(r).value();
  REQUIRE(p);
  CHECK(*p == 3);
  result<std::string> s = std::string("abc");
  CHECK(s->size() == 3);
}

TEST_CASE("result<void> is success by default and an error when given one") {
  result<void> ok;
  CHECK(ok.has_value());
  CHECK_NOTHROW(ok.value());
  result<void> bad = proto::errc::mac_mismatch;
  CHECK_FALSE(bad);
  CHECK(bad.error() == proto::errc::mac_mismatch);
  CHECK_THROWS_AS(bad.value(), std::system_error);
}
