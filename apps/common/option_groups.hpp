#pragma once

// The option groups the programs share, declared on a CLI11 app: header-only, so that only a
// program's own options file includes CLI11 (each file that does pays CLI11's static
// validators at start and exit: ~6,000 instructions, docs/benchmarks.md).

#include <CLI/CLI.hpp>
#include <charconv>
#include <string>

#include "options.hpp"
#include "output.hpp"

namespace ntpkit::apps {

/// A validator for a whole number from `lo` to `hi`: "'abc' is not a whole number", "0 is not
/// from 1 to 1000".
inline CLI::Validator whole_number(long long lo, long long hi) {
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

/// A validator for a number of seconds (fractions allowed): "'abc' is not a number".
inline CLI::Validator seconds_value() {
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

/// Declares a Nagios range option (plugin mode) whose text goes to `into`.
inline void add_range(CLI::App& app, const std::string& flags, std::string& into,
                      const std::string& what) {
  app.add_option(flags, into, what + " (Nagios range, needs --nagios)")->type_name("RANGE");
}

/// An option group (a section of --help) without the copy of -h/--help CLI11 gives each group.
inline CLI::App& option_group(CLI::App& parent, const std::string& name) {
  auto* group = parent.add_option_group(name);
  group->set_help_flag();
  return *group;
}

/// Declares the positional servers and, unless `only_positional`, -f, -4, -6 and -p.
inline void add_target_options(CLI::App& app, target_options& o, bool only_positional) {
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

/// Declares -t (with `timeout_help`), -r, -n, -i and --allow-fast.
inline void add_timing_options(CLI::App& app, timing_options& o, const std::string& timeout_help) {
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

/// Declares -a, -k, --key-format and --mac-length on `group`.
inline void add_key_options(CLI::App& keys, key_options& o) {
  keys.add_option("-a,--key", o.key_id,
                  "sign requests with key ID from --keyfile and accept only replies it verifies")
      ->check(whole_number(1, 4294967295))
      ->type_name("ID");
  keys.add_option("-k,--keyfile", o.key_file,
                  "key file in ntp.keys or chrony.keys format (detected), see ntpkit-keys(5)")
      ->type_name("FILE");
  keys.add_option("--key-format", o.key_format,
                  "how to read --keyfile: 'ntp' (ntp.keys), 'chrony' (chrony.keys) or 'auto': "
                  "the lines decide, else a file name with 'chrony' in it, else ntp.keys")
      ->check(CLI::IsMember({"auto", "ntp", "chrony"}).description(""))
      ->type_name("auto|ntp|chrony");
  keys.add_option("--mac-length", o.mac_length,
                  "digests longer than 20 bytes: 'full' (chrony; NTPv3 requests) or '20' (ntpd; "
                  "truncated); default: the key file format's convention")
      ->check(CLI::IsMember({"full", "20"}).description(""))
      ->type_name("full|20");
}

/// Declares -j/--json, --json-lines, --prometheus and -v/--verbose on `group`.
inline void add_output_options(CLI::App& group, output_options& o) {
  auto* json = group.add_flag("-j,--json", o.json, "write one JSON document on stdout");
  auto* lines = group.add_flag("--json-lines", o.json_lines,
                               "write one JSON object per target and line, as each completes");
  group.add_flag("--prometheus", o.prometheus,
                 "write metrics in the Prometheus text format (node_exporter's textfile "
                 "collector)");
  group.add_flag("-v,--verbose", o.verbose,
                 "show every header field, timestamp, check and sample");
  json->excludes(lines);
}

}  // namespace ntpkit::apps
