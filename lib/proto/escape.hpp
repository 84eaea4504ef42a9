#pragma once

// Internal: text from outside bytes made safe to print.

#include <string>
#include <string_view>

namespace ntpkit::proto::detail {

/// `s` with every byte that is not printable ASCII (and the backslash) written as \xNN, so
/// that bytes from a file or a packet cannot drive the terminal they are printed on.
inline std::string escape_bytes(std::string_view s) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += ch;
    } else {
      out += "\\x";
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

}  // namespace ntpkit::proto::detail
