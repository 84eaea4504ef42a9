#pragma once

// The option groups the programs share, each filling a struct that maps straight onto the
// library's options: targets (servers, server files, family, port), timing (timeout, retries,
// samples, interval) and keys. A program declares the groups it needs and its own.

#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "keyfile.hpp"
#include "ntpkit/net/resolve.hpp"

namespace ntpkit::apps {

/// True when no argument after argv[0] starts with '-': no option, no --help, no "-" for stdin.
bool needs_only_positionals(int argc, const char* const* argv);

/// Servers and how to reach them.
struct target_options {
  std::vector<std::string> servers;  ///< positional HOST[:PORT]
  std::vector<std::string> files;    ///< -f FILE, repeatable; "-" is stdin
  bool ipv4 = false;
  bool ipv6 = false;
  int port = 123;
};

/// The family -4/-6 ask for.
net::family family_of(const target_options& o) noexcept;

/// A server as named: its text and where it was given ("servers.txt:12"; empty for the
/// command line).
struct server_entry {
  std::string spec;
  std::string origin;
};

/// The most servers one run takes (all files and the command line together), and the largest
/// server file: a list beyond either is refused rather than read for hours.
inline constexpr std::size_t max_servers = 1'000'000;
inline constexpr std::size_t max_server_file_bytes = 64u << 20;

/// Reads servers, one per line ('#' starts a comment, blank lines are skipped, a UTF-8 byte
/// order mark at the start is dropped), from `path` or stdin for "-". Errors (one line each):
/// unreadable, a directory, larger than max_server_file_bytes, no server in it.
std::variant<std::vector<server_entry>, std::string> read_server_file(const std::string& path);

/// The servers named and listed, in order; the one-line message on error. Unless `allow_none`,
/// no server at all is an error.
std::variant<std::vector<server_entry>, std::string> server_specs(const target_options& o,
                                                                  bool allow_none = false);

/// `entries` parsed with the default port. A bad server on the command line is a usage error
/// (the message names it); a bad line of a server file is kept as an invalid target, reported
/// as a failed target, with a warning on stderr as `program` ("FILE:LINE: ..."). A server given
/// again (same host, any case, and port) is queried once, with a warning naming both places.
std::variant<std::vector<net::target>, std::string> parse_targets(
    const std::vector<server_entry>& entries, const target_options& o, const char* program);

/// " (for ::1 port 123 write [::1]:123)" when `spec` looks like an IPv6 address with a port
/// written without brackets; empty otherwise.
std::string ipv6_port_hint(const std::string& spec);

/// How long to wait and how often to ask.
struct timing_options {
  double timeout_s = 2.0;
  int retries = 0;
  int samples = 1;
  double interval_s = 2.0;
  bool allow_fast = false;
};

/// What CLI11 cannot check (ranges of the fractional values, the 2 s guard); empty when fine.
std::string check_timing(const timing_options& o);

/// Seconds as milliseconds, at least 1 ms for a timeout.
std::chrono::milliseconds to_ms(double seconds);

/// Keys for signing requests.
struct key_options {
  long long key_id = -1;
  std::string key_file;
  std::string mac_length;
  std::string key_format;  ///< "auto", "ntp" or "chrony"
};

/// The key the options choose (nullopt without -a/-k), or the one-line message.
std::variant<std::optional<chosen_key>, std::string> load_key_options(const std::string& program,
                                                                      const key_options& o);

}  // namespace ntpkit::apps
