#include "ntpkit/model/run.hpp"

namespace ntpkit::model {

std::string_view family_name(family f) noexcept { return f == family::ipv6 ? "ipv6" : "ipv4"; }

std::string_view error_kind_name(error_kind k) noexcept {
  switch (k) {
    case error_kind::none: return "none";
    case error_kind::resolve: return "resolve";
    case error_kind::timeout: return "timeout";
    case error_kind::unreachable: return "unreachable";
    case error_kind::network: return "network";
    case error_kind::kiss: return "kiss";
    case error_kind::unsynchronised: return "unsynchronised";
    case error_kind::sanity: return "sanity";
    case error_kind::auth: return "auth";
    case error_kind::usage: return "usage";
    case error_kind::interrupted: return "interrupted";
  }
  return "unknown";
}

std::string endpoint_label(std::string_view numeric, std::uint16_t port, family f) {
  std::string s;
  s.reserve(numeric.size() + 8);
  if (f == family::ipv6) s += '[';
  s += numeric;
  if (f == family::ipv6) s += ']';
  s += ':';
  s += std::to_string(port);
  return s;
}

}  // namespace ntpkit::model
