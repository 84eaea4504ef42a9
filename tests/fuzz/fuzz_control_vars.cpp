// Fuzz target: the mode 6 variable tokenizer and its typed readings (proto/control_vars.hpp),
// over any bytes (ntpd sends garbage inside values).
//
// Invariants:
// - names have no space or tab at either end, and are empty only for "=value" items; values
//   have no space or tab at either end; a bare name has an empty value;
// - the list written back by format_variables() tokenizes to the same list (the round trip);
// - each typed reading that succeeds reads back: an integer's decimal text, a hex value's
//   0x text, a timestamp's "0x%08x.%08x" text parse to the same value; a number is finite; a
//   timestamp of 8 + 8 lowercase digits is exactly its raw text; text() of a quoted value is
//   the value without its quotes;
// - the names of split_variable_request() are the tokenizer's non-empty names, and a request
//   built from them (when it is accepted) splits to the same names.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "ntpkit/proto/control_vars.hpp"
#include "ntpkit/proto/errc.hpp"

namespace {

using namespace ntpkit::proto;

bool blank_at_ends(std::string_view s) {
  return !s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.back() == ' ' || s.back() == '\t');
}

void check_value(const variable_value& v) {
  if (const auto i = v.integer()) {
    NTPKIT_FUZZ_CHECK(*variable_value(std::to_string(*i), true).integer() == *i);
  } else {
    NTPKIT_FUZZ_CHECK(i.error() == errc::bad_variable_value);
  }
  if (const auto h = v.hex()) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(*h));
    NTPKIT_FUZZ_CHECK(*variable_value(buf, true).hex() == *h);
    NTPKIT_FUZZ_CHECK(*v.unsigned_integer() == *h);
  }
  if (const auto n = v.number()) NTPKIT_FUZZ_CHECK(std::isfinite(*n));
  if (const auto t = v.ntp_timestamp()) {
    const auto text = format_ntp_timestamp(*t);
    NTPKIT_FUZZ_CHECK(variable_value(text, true).ntp_timestamp()->bits() == t->bits());
    const bool canonical =
        v.raw().size() == 19 && std::all_of(v.raw().begin() + 2, v.raw().end(), [](char c) {
          return c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        });
    if (canonical && v.raw()[1] == 'x') NTPKIT_FUZZ_CHECK(text == v.raw());
  }
  if (const auto t = v.text()) {
    if (!v.raw().empty() && v.raw().front() == '"') {
      NTPKIT_FUZZ_CHECK(*t == v.raw().substr(1, v.raw().size() - 2));
    } else {
      NTPKIT_FUZZ_CHECK(*t == v.raw());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto list = parse_variables(text);
  for (const auto& [name, value] : list) {
    NTPKIT_FUZZ_CHECK(!name.empty() || value.present());
    NTPKIT_FUZZ_CHECK(!blank_at_ends(name));
    NTPKIT_FUZZ_CHECK(!blank_at_ends(value.raw()));
    NTPKIT_FUZZ_CHECK(value.present() || value.raw().empty());
    check_value(value);
  }
  NTPKIT_FUZZ_CHECK(parse_variables(format_variables(list)) == list);
  NTPKIT_FUZZ_CHECK(parse_variables(std::span(data, size)) == list);

  const auto names = split_variable_request(text);
  std::vector<std::string> named;
  for (const auto& [name, value] : list) {
    if (!name.empty()) named.push_back(name);
  }
  NTPKIT_FUZZ_CHECK(names == named);
  if (const auto request = build_variable_request(names)) {
    NTPKIT_FUZZ_CHECK(request->size() <= 468);
    NTPKIT_FUZZ_CHECK(split_variable_request(*request) == names);
  } else {
    NTPKIT_FUZZ_CHECK(request.error() == errc::bad_variable_value ||
                      request.error() == errc::control_data_too_long);
  }
  for (const auto& run : pack_variable_requests(names)) {
    NTPKIT_FUZZ_CHECK(!run.empty());
  }
  return 0;
}
