#include "ntpkit/net/resolve.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <tuple>

namespace ntpkit::net {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "ntpkit.net"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::bad_target: return "not a host, host:port or [address]:port";
      case errc::bad_port: return "port must be a number from 1 to 65535";
      case errc::no_address: return "no address of the requested family";
    }
    return "unknown net error";
  }
};

result<std::uint16_t> parse_port(std::string_view s) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || value == 0 ||
      value > 65535) {
    return errc::bad_port;
  }
  return static_cast<std::uint16_t>(value);
}

// A host goes to getaddrinfo as a C string, where a NUL would silently cut it short, and into
// the report, where a control character would reach the user's terminal: allow neither, nor
// space and the separators of the spec.
bool valid_host(std::string_view host) {
  return !host.empty() && std::none_of(host.begin(), host.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c <= 0x20 || c == 0x7f || c == '[' || c == ']' || c == '/';
  });
}

bool wanted(const udp::endpoint& e, family f) {
  return f == family::any || (f == family::ipv4) == e.address().is_v4();
}

}  // namespace

const std::error_category& net_category() noexcept {
  static const category instance;
  return instance;
}

result<target> parse_target(std::string_view spec, std::uint16_t default_port) {
  target t{std::string(spec), {}, default_port};
  std::string_view host = spec;
  if (!spec.empty() && spec.front() == '[') {
    const auto close = spec.find(']');
    if (close == std::string_view::npos) return errc::bad_target;
    host = spec.substr(1, close - 1);
    const auto rest = spec.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return errc::bad_target;
      auto port = parse_port(rest.substr(1));
      if (!port) return port.error();
      t.port = *port;
    }
  } else if (std::count(spec.begin(), spec.end(), ':') == 1) {
    const auto colon = spec.find(':');
    host = spec.substr(0, colon);
    auto port = parse_port(spec.substr(colon + 1));
    if (!port) return port.error();
    t.port = *port;
  }
  if (!valid_host(host)) return errc::bad_target;
  t.host = std::string(host);
  return t;
}

asio::awaitable<result<std::vector<udp::endpoint>>> resolve(const target& t, family f) {
  if (t.invalid) co_return t.invalid;
  std::vector<udp::endpoint> out;
  boost::system::error_code parse_ec;
  const auto numeric = asio::ip::make_address(t.host, parse_ec);
  if (!parse_ec) {
    out.emplace_back(numeric, t.port);
  } else {
    udp::resolver resolver(co_await asio::this_coro::executor);
    const auto port = std::to_string(t.port);
    constexpr auto token = asio::as_tuple(asio::use_awaitable);
    // Two statements, not co_await in both arms of ?: (GCC 12 destroys that temporary twice).
    std::tuple<boost::system::error_code, udp::resolver::results_type> done;
    if (f == family::any) {
      done = co_await resolver.async_resolve(t.host, port, udp::resolver::numeric_service, token);
    } else {
      done = co_await resolver.async_resolve(f == family::ipv4 ? udp::v4() : udp::v6(), t.host,
                                             port, udp::resolver::numeric_service, token);
    }
    const auto& [ec, results] = done;
    if (ec && f != family::any) {
      // A name with addresses of the other family only: the resolver says "not found" for the
      // family asked (EAI_NODATA/EAI_ADDRFAMILY); ask without it to tell the two apart.
      auto [any_ec, any] = co_await resolver.async_resolve(t.host, port,
                                                           udp::resolver::numeric_service, token);
      if (!any_ec && !any.empty()) co_return std::error_code(errc::no_address);
    }
    if (ec) co_return std::error_code(ec);
    for (const auto& r : results) {
      if (std::find(out.begin(), out.end(), r.endpoint()) == out.end()) {
        out.push_back(r.endpoint());
      }
    }
  }
  std::erase_if(out, [f](const udp::endpoint& e) { return !wanted(e, f); });
  if (out.empty()) co_return std::error_code(errc::no_address);
  co_return out;
}

model::error_info resolve_error(std::error_code ec, family f) {
  auto e = model::failure(model::error_kind::resolve, model::error_cause::resolver_failed);
  e.code = ec;
  e.asked = f;
  const std::error_code not_found = boost::system::error_code(asio::error::host_not_found);
  const std::error_code try_again =
      boost::system::error_code(asio::error::host_not_found_try_again);
  if (ec == errc::bad_target || ec == errc::bad_port) {
    e.kind = model::error_kind::usage;
    e.cause = model::error_cause::bad_target;
  } else if (ec == errc::no_address) {
    e.cause = model::error_cause::no_address_of_family;
  } else if (ec == not_found || ec == try_again) {
    e.cause = model::error_cause::host_not_found;
  }
  return e;
}

}  // namespace ntpkit::net
