#pragma once

// Targets as users write them (host, host:port, [v6]:port) and their resolution to every
// address (A and AAAA).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/model/run.hpp"
#include "ntpkit/result.hpp"

namespace ntpkit::net {

namespace asio = boost::asio;
using udp = asio::ip::udp;

/// Which address families to use.
using family = model::family_choice;

/// A server as the user named it.
struct target {
  std::string spec;  ///< the text as given
  std::string host;  ///< name or numeric address, brackets removed
  std::uint16_t port = 123;
  /// Set for a target that did not parse (a bad line of a server file, kept so that it is
  /// reported as a failed target): resolve() returns this error without looking anything up.
  std::error_code invalid;
  std::string origin;  ///< where it was given: "servers.txt:12", or empty (command line)
};

/// Errors of the net layer that are not system or resolver errors.
enum class errc {
  bad_target = 1,    ///< a target that is not host, host:port or [address]:port
  bad_port,          ///< a port that is not 1..65535
  no_address,        ///< the name has no address of the asked family
};

/// The category of net::errc; name() is "ntpkit.net".
NTPKIT_API const std::error_category& net_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), net_category()};
}

/// Parses "host", "host:port", "[v6addr]" or "[v6addr]:port"; a bare address with several
/// colons is an IPv6 address without port. The host must not be empty, nor contain spaces,
/// control characters (NUL included), '[', ']' or '/'. Errors: errc::bad_target,
/// errc::bad_port.
NTPKIT_API result<target> parse_target(std::string_view spec, std::uint16_t default_port);

/// Every address of `t` in the order the resolver gives them, duplicates dropped, restricted
/// to `f`. Numeric hosts are not sent to the resolver. Errors: resolver errors (host not
/// found, ...), errc::no_address.
NTPKIT_API asio::awaitable<result<std::vector<udp::endpoint>>> resolve(const target& t, family f);

/// The typed error a resolution error stands for: the name is unknown, has no address of the
/// family `f`, the resolver failed, or (errc::bad_target, errc::bad_port) the target itself is
/// invalid (a usage error, model::error_cause::bad_target).
NTPKIT_API model::error_info resolve_error(std::error_code ec, family f);

}  // namespace ntpkit::net

template <>
struct std::is_error_code_enum<ntpkit::net::errc> : std::true_type {};
