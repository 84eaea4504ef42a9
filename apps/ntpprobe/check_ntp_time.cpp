#include "check_ntp_time.hpp"

#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "../common/clock_guard.hpp"
#include "../common/round.hpp"
#include "ntpkit/net/ntp_client.hpp"
#include "ntpkit/report/format.hpp"
#include "ntpkit/report/plugin.hpp"
#include "ntpkit/report/text.hpp"
#include "ntpkit/version.hpp"
#include "../common/exit_code.hpp"
#include "../common/output.hpp"

namespace ntpkit::apps {
namespace {

using report::plugin_state;

constexpr const char* usage_line =
    "Usage:\n check_ntp_time -H <host> [-4|-6] [-w <warn>] [-c <crit>] [-v verbose] [-o <time "
    "offset>]\n";

struct compat_options {
  std::string host;
  std::string port = "123";
  net::family family = net::family::any;
  std::string warn = "60";
  std::string crit = "120";
  bool quiet = false;
  int time_offset = 0;
  int timeout_s = 10;
  int verbose = 0;
};

// getaddrinfo() as the plugin calls it: only the family for its is_host() check (service
// null), UDP datagrams and the port for the real lookup. 0 or an EAI_* code; `port` gets the
// first address's port when a service is given.
int lookup(const std::string& host, const char* service, net::family f, long* port = nullptr) {
  addrinfo hints{};
  hints.ai_family = f == net::family::ipv4   ? AF_INET
                    : f == net::family::ipv6 ? AF_INET6
                                             : AF_UNSPEC;
  if (service) {
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_protocol = IPPROTO_UDP;
  }
  addrinfo* res = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), service, &hints, &res);
  if (rc != 0) return rc;
  if (port && res->ai_addr->sa_family == AF_INET) {
    *port = ntohs(reinterpret_cast<const sockaddr_in*>(res->ai_addr)->sin_port);
  } else if (port && res->ai_addr->sa_family == AF_INET6) {
    *port = ntohs(reinterpret_cast<const sockaddr_in6*>(res->ai_addr)->sin6_port);
  }
  ::freeaddrinfo(res);
  return 0;
}

// The plugin's message when its lookup of host and port fails (exit 3).
int lookup_failed(const std::string& host, int rc) {
  std::printf("error getting address for %s: %s\n", host.c_str(), ::gai_strerror(rc));
  return exit_code::plugin_unknown;
}

int unknown(const std::string& message, bool with_usage = false) {
  std::printf("check_ntp_time: %s\n%s", message.c_str(), with_usage ? usage_line : "");
  return exit_code::plugin_unknown;
}

void print_help() {
  std::printf(
      "check_ntp_time (ntpkit %s): checks the offset of the local clock against an NTP server.\n"
      "A drop-in for the monitoring-plugins check_ntp_time, built on ntpprobe; see ntpprobe(1)\n"
      "for the differences and for ntpprobe --nagios, which checks more than the offset.\n\n%s\n"
      "Options:\n"
      " -h, --help                 print this help (exit 3, as the plugin does)\n"
      " -V, --version              print the version (exit 3, as the plugin does)\n"
      " -4, --use-ipv4             use IPv4 addresses only\n"
      " -6, --use-ipv6             use IPv6 addresses only\n"
      " -H, --hostname=ADDRESS     the server (name or address)\n"
      " -p, --port=INTEGER         port (default 123)\n"
      " -q, --quiet                UNKNOWN instead of CRITICAL when the offset cannot be found\n"
      "                            (also when the server does not answer)\n"
      " -w, --warning=THRESHOLD    WARNING when |offset| in seconds is outside (default 60)\n"
      " -c, --critical=THRESHOLD   CRITICAL when |offset| in seconds is outside (default 120)\n"
      " -o, --time-offset=INTEGER  expected offset of the server in seconds (added to the\n"
      "                            measured offset)\n"
      " -t, --timeout=INTEGER      seconds for the whole check (default 10)\n"
      " -v, --verbose              show every field of the exchange\n",
      version_string, usage_line);
}

// Parses argv as the plugin's getopt_long does; returns an exit code to stop with, or -1.
int parse(int argc, char** argv, compat_options& o) {
  static const option longopts[] = {
      {"version", no_argument, nullptr, 'V'},      {"help", no_argument, nullptr, 'h'},
      {"verbose", no_argument, nullptr, 'v'},      {"use-ipv4", no_argument, nullptr, '4'},
      {"use-ipv6", no_argument, nullptr, '6'},     {"quiet", no_argument, nullptr, 'q'},
      {"time-offset", optional_argument, nullptr, 'o'},
      {"time_offset", optional_argument, nullptr, 'o'},
      {"warning", required_argument, nullptr, 'w'}, {"critical", required_argument, nullptr, 'c'},
      {"timeout", required_argument, nullptr, 't'}, {"hostname", required_argument, nullptr, 'H'},
      {"port", required_argument, nullptr, 'p'},   {nullptr, 0, nullptr, 0}};
  if (argc < 2) return unknown("no options given", true);
  optind = 1;
  for (;;) {
    const int c = getopt_long(argc, argv, "Vhv46qw:c:t:H:p:o:", longopts, nullptr);
    if (c == -1) break;
    switch (c) {
      case 'h': print_help(); return exit_code::plugin_unknown;
      case 'V':
        std::printf("check_ntp_time (ntpkit %s)\n", version_string);
        return exit_code::plugin_unknown;
      case 'v': ++o.verbose; break;
      case 'q': o.quiet = true; break;
      case 'w': o.warn = optarg; break;
      case 'c': o.crit = optarg; break;
      case 'H':
        // The plugin's is_host(): resolvable in the family chosen so far (-4/-6 before -H).
        if (lookup(optarg, nullptr, o.family) != 0) {
          return unknown(std::string("Invalid hostname/address - ") + optarg, true);
        }
        o.host = optarg;
        break;
      case 'p': o.port = optarg; break;
      case 't': o.timeout_s = std::atoi(optarg); break;
      case 'o': o.time_offset = optarg ? std::atoi(optarg) : 0; break;
      case '4': o.family = net::family::ipv4; break;
      case '6': o.family = net::family::ipv6; break;
      default: std::printf("%s", usage_line); return exit_code::plugin_unknown;
    }
  }
  if (optind < argc) {
    // getopt leaves words it could not attach to an option: `--time-offset 10` (its argument
    // is optional, so only `--time-offset=10` gives it one). The plugin ignores them silently
    // and judges the offset without the 10; refuse instead.
    const std::string word = report::terminal_safe(argv[optind]);
    return unknown("unexpected argument '" + word +
                   "' (an optional value goes after '=', as in --time-offset=" + word + ")",
                   true);
  }
  if (o.host.empty()) return unknown("Hostname was not supplied", true);
  return -1;
}

struct candidate {
  const model::ntp_address* address;
  const model::sample* best;
};

// The plugin's choice among addresses (best_offset_server() of monitoring-plugins 2.3.3), in
// the resolver's order: the first usable one, replaced by a later one only when that has an
// equal or lower stratum, an equal or lower root dispersion *and* a strictly lower root delay.
// Not a lexicographic order: with equal root delays the first address stays. LI 3 and kisses
// are excluded; a pending leap second is not (nor is it by the plugin, which discards only LI 3
// and stratum 0).
const candidate* choose(const std::vector<candidate>& all) {
  const candidate* best = nullptr;
  for (const auto& c : all) {
    const auto& r = c.best->reply;
    if (!best) {
      best = &c;
      continue;
    }
    const auto& b = best->best->reply;
    if (r.stratum <= b.stratum && r.root_dispersion <= b.root_dispersion &&
        r.root_delay < b.root_delay) {
      best = &c;
    }
  }
  return best;
}

}  // namespace

int check_ntp_time_main(int argc, char** argv) {
  compat_options o;
  if (const int rc = parse(argc, argv, o); rc >= 0) return rc;
  auto warn = report::parse_nagios_range(o.warn);
  auto crit = report::parse_nagios_range(o.crit);
  if (!warn || !crit) {
    // The plugin's set_thresholds() dies with the bare message: no program name, no newline.
    std::printf("Range format incorrect");
    return exit_code::plugin_unknown;
  }
  char* end = nullptr;
  long port = std::strtol(o.port.c_str(), &end, 10);
  if (*end != '\0' || port < 1 || port > 65535) {
    // Not a port number: the plugin hands it to getaddrinfo() as a service name ("ntp").
    port = 0;
    if (const int rc = lookup(o.host, o.port.c_str(), o.family, &port); rc != 0) {
      return lookup_failed(o.host, rc);
    }
    if (port < 1 || port > 65535) return unknown("Invalid port - " + o.port, true);
  }
  if (auto ec = forbid_clock_changes()) {
    std::fprintf(stderr, "check_ntp_time: warning: cannot forbid clock changes: %s\n",
                 ec.message().c_str());
  }
  // The plugin samples for half its timeout; one request per 2 s fits RFC 5905's guard.
  const double budget_s = std::max(1, o.timeout_s) / 2.0;
  net::probe_options opt;
  opt.address_family = o.family;
  opt.query.timeout = std::chrono::milliseconds(round_ll(std::min(1.0, budget_s) * 1000));
  opt.query.retries = static_cast<unsigned>(std::max(0.0, std::floor((budget_s - 1.0) / 2.0)));
  net::target t{o.host, o.host, static_cast<std::uint16_t>(port)};
  auto reports = net::probe_blocking({t}, opt);
  const auto& tr = reports.front();
  if (o.verbose) out().write(report::target_text(tr, true));
  if (tr.error) {
    // The host passed is_host() but has no address in the family asked for (-6 with an IPv4
    // address, a name with only an IPv4 address): the plugin's getaddrinfo() error.
    if (const int rc = lookup(o.host, o.port.c_str(), o.family); rc != 0) {
      return lookup_failed(o.host, rc);
    }
    return unknown("Invalid hostname/address - " + o.host, true);
  }

  std::vector<candidate> usable;
  bool answered = false;
  for (const auto& a : tr.addresses) {
    answered = answered || !a.samples.empty();
    if (a.selected) usable.push_back({&a, &a.best()});
  }
  if (!answered) {
    // The plugin says CRITICAL even with -q; its help says UNKNOWN. We follow the help.
    const auto s = o.quiet ? plugin_state::unknown : plugin_state::critical;
    std::printf("NTP %s: No response from NTP server\n", report::plugin_state_name(s).data());
    return exit_code::of_plugin(s);
  }
  const candidate* best = choose(usable);
  if (!best) {
    const auto s = o.quiet ? plugin_state::unknown : plugin_state::critical;
    std::printf("NTP %s: Offset unknown|\n", report::plugin_state_name(s).data());
    return exit_code::of_plugin(s);
  }
  const double offset = best->best->measured.offset.to_seconds() + o.time_offset;
  const auto s = crit->alerts(std::fabs(offset))   ? plugin_state::critical
                 : warn->alerts(std::fabs(offset)) ? plugin_state::warning
                                                   : plugin_state::ok;
  // The plugin's perfdata: fperfdata() writes only each range's end (range_end style).
  const report::metric_row row{"offset", offset, std::fabs(offset), "", {*warn, *crit}, "s", "", ""};
  char status[96];
  std::snprintf(status, sizeof status, "NTP %s: Offset %.10g secs|",
                report::plugin_state_name(s).data(), offset);
  out().write(status + report::perfdata(row, "", report::perfdata_style::range_end) + "\n");
  return finish_output("check_ntp_time", exit_code::of_plugin(s), true);
}

}  // namespace ntpkit::apps
