#include "options.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <boost/asio/ip/address_v6.hpp>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <unordered_map>

#include "ntpkit/report/format.hpp"
#include "round.hpp"

namespace ntpkit::apps {

bool needs_only_positionals(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] == '-') return false;
  }
  return true;
}

net::family family_of(const target_options& o) noexcept {
  return o.ipv4 ? net::family::ipv4 : o.ipv6 ? net::family::ipv6 : net::family::any;
}

namespace {

std::string where(const server_entry& e) {
  return e.origin.empty() ? "the command line" : report::printable(e.origin);
}

// The servers of one stream, as lines of `name`.
std::variant<std::vector<server_entry>, std::string> read_servers(std::istream& in,
                                                                  const std::string& name) {
  std::vector<server_entry> out;
  std::string line;
  std::size_t number = 0, bytes = 0;
  while (std::getline(in, line)) {
    ++number;
    bytes += line.size() + 1;
    if (bytes > max_server_file_bytes) {
      return "server file " + report::printable(name) + " is larger than " +
             std::to_string(max_server_file_bytes >> 20) + " MiB";
    }
    if (number == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);  // UTF-8 BOM
    if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    const auto last = line.find_last_not_of(" \t\r");
    if (out.size() == max_servers) {
      return "server file " + report::printable(name) + " lists more than " +
             std::to_string(max_servers) + " servers";
    }
    out.push_back({line.substr(first, last - first + 1), name + ":" + std::to_string(number)});
  }
  if (in.bad()) return "cannot read server file " + report::printable(name);
  if (out.empty()) return "server file " + report::printable(name) + " lists no server";
  return out;
}

}  // namespace

std::variant<std::vector<server_entry>, std::string> read_server_file(const std::string& path) {
  if (path == "-") return read_servers(std::cin, "-");
  const auto shown = report::printable(path);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return "cannot read server file " + shown + ": " + std::strerror(errno);
  }
  if (S_ISDIR(st.st_mode)) return "server file " + shown + " is a directory";
  std::ifstream file(path);
  if (!file) return "cannot read server file " + shown + ": " + std::strerror(errno);
  return read_servers(file, path);
}

std::variant<std::vector<server_entry>, std::string> server_specs(const target_options& o,
                                                                  bool allow_none) {
  std::vector<server_entry> entries;
  for (const auto& s : o.servers) entries.push_back({s, {}});
  for (const auto& f : o.files) {
    auto listed = read_server_file(f);
    if (auto* e = std::get_if<std::string>(&listed)) return *e;
    auto& more = std::get<std::vector<server_entry>>(listed);
    if (entries.size() + more.size() > max_servers) {
      return "more than " + std::to_string(max_servers) + " servers in one run";
    }
    entries.insert(entries.end(), std::make_move_iterator(more.begin()),
                   std::make_move_iterator(more.end()));
  }
  if (entries.empty() && !allow_none) {
    return std::string("no server given (name one, or use -f FILE)");
  }
  return entries;
}

std::variant<std::vector<net::target>, std::string> parse_targets(
    const std::vector<server_entry>& entries, const target_options& o, const char* program) {
  std::vector<net::target> out;
  out.reserve(entries.size());
  std::unordered_map<std::string, std::size_t> seen;  // lowercase host and port -> entry
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    auto t = net::parse_target(e.spec, static_cast<std::uint16_t>(o.port));
    if (!t) {
      const auto what = "bad server '" + report::printable(e.spec) + "': " + t.error().message() +
                        ipv6_port_hint(e.spec);
      if (e.origin.empty()) return what;
      std::fprintf(stderr, "%s: warning: %s: %s; reported as a failed target\n", program,
                   report::printable(e.origin).c_str(), what.c_str());
      out.push_back({e.spec, e.spec, static_cast<std::uint16_t>(o.port), t.error(), e.origin});
      continue;
    }
    if (const auto hint = ipv6_port_hint(e.spec); !hint.empty()) {
      std::fprintf(stderr, "%s: warning: %s: '%s' is an IPv6 address without a port%s\n",
                   program, where(e).c_str(), report::printable(e.spec).c_str(), hint.c_str());
    }
    if (entries.size() == 1) {  // nothing to repeat: no map for the common single server
      out.push_back(std::move(*t));
      out.back().origin = e.origin;
      break;
    }
    std::string key = t->host;
    for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    key += "|" + std::to_string(t->port);
    if (const auto [it, fresh] = seen.emplace(key, i); !fresh) {
      std::fprintf(stderr, "%s: warning: %s: '%s' is also on %s; queried once\n", program,
                   where(e).c_str(), report::printable(e.spec).c_str(),
                   where(entries[it->second]).c_str());
      continue;
    }
    t->origin = e.origin;
    out.push_back(std::move(*t));
  }
  return out;
}

std::string ipv6_port_hint(const std::string& spec) {
  // "::1:123" is the IPv6 address ::0.1.1.35, not ::1 port 123: when the text
  // before the last colon is an address of its own and the rest a port number, say how to
  // write the port.
  if (spec.empty() || spec.front() == '[' || std::count(spec.begin(), spec.end(), ':') < 2) {
    return {};
  }
  const auto colon = spec.rfind(':');
  const auto port = spec.substr(colon + 1);
  const auto host = spec.substr(0, colon);
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit)) {
    return {};
  }
  boost::system::error_code ec;
  boost::asio::ip::make_address_v6(host, ec);
  if (ec) return {};
  return " (for " + host + " port " + port + " write [" + host + "]:" + port + ")";
}

std::string check_timing(const timing_options& o) {
  if (!(o.timeout_s > 0) || o.timeout_s > 3600) {
    return "--timeout must be more than 0 and at most 3600 seconds";
  }
  if (!(o.interval_s >= 0) || o.interval_s > 86400) {
    return "--interval must be from 0 to 86400 seconds";
  }
  if (o.interval_s < 2.0 && !o.allow_fast) {
    return "--interval below 2 s needs --allow-fast (servers rate-limit faster clients)";
  }
  return {};
}

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(std::max<long long>(0, round_ll(seconds * 1000)));
}

std::variant<std::optional<chosen_key>, std::string> load_key_options(const std::string& program,
                                                                      const key_options& o) {
  if ((o.key_id >= 0) != !o.key_file.empty()) {
    return std::string(o.key_id >= 0 ? "-a/--key needs -k/--keyfile"
                                     : "-k/--keyfile needs -a/--key");
  }
  if (!o.mac_length.empty() && o.key_file.empty()) {
    return std::string("--mac-length needs -a/--key and -k/--keyfile");
  }
  if (!o.key_format.empty() && o.key_file.empty()) {
    return std::string("--key-format needs -a/--key and -k/--keyfile");
  }
  if (o.key_file.empty()) return std::optional<chosen_key>{};
  auto k = load_key(program, o.key_file, static_cast<std::uint32_t>(o.key_id), o.mac_length,
                    o.key_format);
  if (auto* e = std::get_if<std::string>(&k)) return *e;
  return std::optional<chosen_key>(std::get<chosen_key>(std::move(k)));
}

}  // namespace ntpkit::apps
