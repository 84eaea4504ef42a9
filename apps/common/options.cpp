#include "options.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>

#include "round.hpp"

namespace ntpkit::apps {

CLI::Validator whole_number(long long lo, long long hi) {
  return CLI::Validator(
      [lo, hi](std::string& text) -> std::string {
        long long v = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (text.empty() || end != text.data() + text.size() ||
            ec == std::errc::invalid_argument) {
          return "'" + text + "' is not a whole number";
        }
        if (ec == std::errc::result_out_of_range || v < lo || v > hi) {
          return text + " is not from " + std::to_string(lo) + " to " + std::to_string(hi);
        }
        return {};
      },
      "");
}

CLI::Validator seconds_value() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double v = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
          return "'" + text + "' is not a number of seconds";
        }
        return {};
      },
      "");
}

CLI::App& option_group(CLI::App& parent, const std::string& name) {
  auto* group = parent.add_option_group(name);
  group->set_help_flag();
  return *group;
}

bool needs_only_positionals(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] == '-') return false;
  }
  return true;
}

void add_target_options(CLI::App& app, target_options& o, bool only_positional) {
  app.add_option("server", o.servers, "HOST, HOST:PORT, [IPV6] or [IPV6]:PORT; repeatable")
      ->type_name("HOST[:PORT]");
  if (only_positional) return;
  app.add_option("-f,--file", o.files,
                 "read servers from FILE, one per line ('-' for stdin, '#' comments); "
                 "repeatable")
      ->allow_extra_args(false)
      ->type_name("FILE");
  auto* v4 = app.add_flag("-4,--ipv4", o.ipv4, "use IPv4 addresses only");
  auto* v6 = app.add_flag("-6,--ipv6", o.ipv6, "use IPv6 addresses only");
  v4->excludes(v6);
  app.add_option("-p,--port", o.port, "port for servers given without one")
      ->check(whole_number(1, 65535))
      ->type_name("PORT")
      ->capture_default_str();
}

net::family family_of(const target_options& o) noexcept {
  return o.ipv4 ? net::family::ipv4 : o.ipv6 ? net::family::ipv6 : net::family::any;
}

std::variant<std::vector<std::string>, std::string> read_server_file(const std::string& path) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path);
    if (!file) return "cannot read server file " + path + ": " + std::strerror(errno);
    in = &file;
  }
  std::vector<std::string> out;
  std::string line;
  while (std::getline(*in, line)) {
    if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    const auto last = line.find_last_not_of(" \t\r");
    out.push_back(line.substr(first, last - first + 1));
  }
  if (in->bad()) return "cannot read server file " + path;
  return out;
}

std::variant<std::vector<std::string>, std::string> server_specs(const target_options& o,
                                                                 bool allow_none) {
  std::vector<std::string> specs = o.servers;
  for (const auto& f : o.files) {
    auto listed = read_server_file(f);
    if (auto* e = std::get_if<std::string>(&listed)) return *e;
    auto& names = std::get<std::vector<std::string>>(listed);
    specs.insert(specs.end(), names.begin(), names.end());
  }
  if (specs.empty() && !allow_none) {
    return std::string("no server given (name one, or use -f FILE)");
  }
  return specs;
}

std::variant<std::vector<net::target>, std::string> parse_targets(
    const std::vector<std::string>& specs, const target_options& o) {
  std::vector<net::target> out;
  out.reserve(specs.size());
  for (const auto& s : specs) {
    auto t = net::parse_target(s, static_cast<std::uint16_t>(o.port));
    if (!t) return "bad server '" + s + "': " + t.error().message();
    out.push_back(std::move(*t));
  }
  return out;
}

void add_timing_options(CLI::App& app, timing_options& o, const std::string& timeout_help) {
  app.add_option("-t,--timeout", o.timeout_s, timeout_help)
      ->check(seconds_value())
      ->type_name("SECONDS")
      ->capture_default_str();
  app.add_option("-r,--retries", o.retries, "requests to repeat after a timeout, per sample")
      ->check(whole_number(0, 10))
      ->type_name("N")
      ->capture_default_str();
  app.add_option("-n,--samples", o.samples,
                 "replies to collect per address; the one with the least delay is reported")
      ->capture_default_str()
      ->check(whole_number(1, 1000))
      ->type_name("N");
  app.add_option("-i,--interval", o.interval_s,
                 "least seconds between two requests to one address (at least 2 without "
                 "--allow-fast)")
      ->check(seconds_value())
      ->type_name("SECONDS")
      ->capture_default_str();
  app.add_flag("--allow-fast", o.allow_fast,
               "allow --interval below 2 s (RFC 5905's guard), e.g. for loopback tests");
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

void add_key_options(CLI::App& keys, key_options& o) {
  keys.add_option("-a,--key", o.key_id,
                  "sign requests with key ID from --keyfile and accept only replies it verifies")
      ->check(whole_number(1, 4294967295))
      ->type_name("ID");
  keys.add_option("-k,--keyfile", o.key_file,
                  "key file in ntp.keys or chrony.keys format (detected), see ntpkit-keys(5)")
      ->type_name("FILE");
  keys.add_option("--mac-length", o.mac_length,
                  "digests longer than 20 bytes: 'full' (chrony; NTPv3 requests) or '20' (ntpd; "
                  "truncated); default: the key file format's convention")
      ->check(CLI::IsMember({"full", "20"}).description(""))
      ->type_name("full|20");
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
  if (o.key_file.empty()) return std::optional<chosen_key>{};
  auto k = load_key(program, o.key_file, static_cast<std::uint32_t>(o.key_id), o.mac_length);
  if (auto* e = std::get_if<std::string>(&k)) return *e;
  return std::optional<chosen_key>(std::get<chosen_key>(std::move(k)));
}

}  // namespace ntpkit::apps
