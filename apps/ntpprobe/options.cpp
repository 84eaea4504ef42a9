#include "options.hpp"

#include <cmath>

namespace ntpkit::apps {

void add_probe_options(CLI::App& app, probe_cli& o) {
  app.add_option("server", o.servers, "HOST, HOST:PORT, [IPV6] or [IPV6]:PORT; repeatable")
      ->required()
      ->type_name("HOST[:PORT]");
  auto* v4 = app.add_flag("-4,--ipv4", o.ipv4, "use IPv4 addresses only");
  auto* v6 = app.add_flag("-6,--ipv6", o.ipv6, "use IPv6 addresses only");
  v4->excludes(v6);
  app.add_option("-p,--port", o.port, "port for servers given without one")
      ->check(CLI::Range(1, 65535))
      ->type_name("PORT");
  app.add_option("-t,--timeout", o.timeout_s, "seconds to wait for each reply")
      ->type_name("SECONDS");
  app.add_option("-r,--retries", o.retries, "requests to repeat after a timeout, per sample")
      ->check(CLI::Range(0, 10))
      ->type_name("N");
  app.add_option("-n,--samples", o.samples,
                 "replies to collect per address; the one with the least delay is reported")
      ->check(CLI::Range(1, 1000))
      ->type_name("N");
  app.add_option("-i,--interval", o.interval_s,
                 "least seconds between two requests to one address (at least 2 without "
                 "--allow-fast)")
      ->type_name("SECONDS");
  app.add_flag("--allow-fast", o.allow_fast,
               "allow --interval below 2 s (RFC 5905's guard), e.g. for loopback tests");
  app.add_option("--ntp-version", o.ntp_version, "NTP version of the requests")
      ->check(CLI::Range(1, 4))
      ->type_name("1-4");
  app.add_option("--concurrency", o.concurrency,
                 "addresses queried at once (default: what the open-file limit allows, <= 512)")
      ->check(CLI::Range(1, 65536))
      ->type_name("N");
  app.add_flag("-j,--json", o.json, "write one JSON document on stdout");
  app.add_flag("-v,--verbose", o.verbose, "show every header field, timestamp, check and sample");
}

std::variant<probe_plan, std::string> make_plan(const probe_cli& o) {
  if (!(o.timeout_s > 0) || o.timeout_s > 3600) {
    return std::string("--timeout must be more than 0 and at most 3600 seconds");
  }
  if (!(o.interval_s >= 0) || o.interval_s > 86400) {
    return std::string("--interval must be from 0 to 86400 seconds");
  }
  if (o.interval_s < 2.0 && !o.allow_fast) {
    return std::string("--interval below 2 s needs --allow-fast (servers rate-limit faster "
                       "clients)");
  }
  probe_plan plan;
  auto& q = plan.options.query;
  q.samples = static_cast<unsigned>(o.samples);
  q.retries = static_cast<unsigned>(o.retries);
  q.timeout = std::chrono::milliseconds(std::llround(o.timeout_s * 1000));
  if (q.timeout.count() == 0) q.timeout = std::chrono::milliseconds(1);
  q.interval = std::chrono::milliseconds(std::llround(o.interval_s * 1000));
  q.version = static_cast<std::uint8_t>(o.ntp_version);
  plan.options.address_family = o.ipv4 ? net::family::ipv4
                                : o.ipv6 ? net::family::ipv6
                                         : net::family::any;
  plan.options.concurrency = static_cast<std::size_t>(o.concurrency);
  for (const auto& s : o.servers) {
    auto t = net::parse_target(s, static_cast<std::uint16_t>(o.port));
    if (!t) return "bad server '" + s + "': " + t.error().message();
    plan.targets.push_back(std::move(*t));
  }
  return plan;
}

}  // namespace ntpkit::apps
