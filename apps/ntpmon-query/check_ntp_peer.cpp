// check_ntp_peer: ntpmon-query under the monitoring-plugins' name, taking exactly that
// plugin's options (2.3.3: -H -p -4 -6 -q -w -c -W -C -j -k -m -n -t -v -V -h) and giving the
// same exit code, status text and perfdata labels against the same server.

#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "../common/clock_guard.hpp"
#include "../common/exit_code.hpp"
#include "../common/output.hpp"
#include "ntpkit/net/resolve.hpp"
#include "ntpkit/report/format.hpp"
#include "ntpkit/version.hpp"
#include "peer_health.hpp"

namespace ntpkit::apps {
namespace {

constexpr const char* usage_line =
    "Usage:\n check_ntp_peer -H <host> [-4|-6] [-w <warn>] [-c <crit>] [-W <warn>] [-C <crit>]\n"
    "       [-j <warn>] [-k <crit>] [-v verbose]\n";

struct compat_options {
  std::string host;
  int port = 123;
  int family = AF_UNSPEC;
  int timeout_s = 10;
  int verbose = 0;
  peer_thresholds t;
};

int unknown(const std::string& message, bool with_usage = false) {
  out().write("check_ntp_peer: " + report::terminal_safe(message) + "\n" +
              (with_usage ? usage_line : ""));
  return exit_code::plugin_unknown;
}

void print_help() {
  char buf[2048];
  std::snprintf(
      buf, sizeof buf,
      "check_ntp_peer (ntpkit %s): checks the health of an NTP server over mode 6.\n"
      "A drop-in for the monitoring-plugins check_ntp_peer, built on ntpmon-query; see\n"
      "ntpmon-query(1).\n\n%s\n"
      "Options:\n"
      " -h, --help              print this help\n"
      " -V, --version           print the version\n"
      " -4, --use-ipv4          use IPv4\n"
      " -6, --use-ipv6          use IPv6\n"
      " -H, --hostname=ADDRESS  the server\n"
      " -p, --port=INTEGER      port (default 123)\n"
      " -q, --quiet             UNKNOWN instead of CRITICAL or WARNING if the server is not\n"
      "                         synchronised\n"
      " -w, --warning=THRESHOLD  offset in seconds for WARNING (default 60)\n"
      " -c, --critical=THRESHOLD offset in seconds for CRITICAL (default 120)\n"
      " -W, --swarn=THRESHOLD   stratum of the sync peer for WARNING\n"
      " -C, --scrit=THRESHOLD   stratum of the sync peer for CRITICAL\n"
      " -j, --jwarn=THRESHOLD   jitter (ms) for WARNING\n"
      " -k, --jcrit=THRESHOLD   jitter (ms) for CRITICAL\n"
      " -m, --twarn=THRESHOLD   usable sources (truechimers) for WARNING\n"
      " -n, --tcrit=THRESHOLD   usable sources (truechimers) for CRITICAL\n"
      " -t, --timeout=INTEGER   seconds before the check times out (default 10)\n"
      " -v, --verbose           show details\n",
      version_string, usage_line);
  out().write(buf);
}

int parse(int argc, char** argv, compat_options& o) {
  static const option longopts[] = {
      {"version", no_argument, nullptr, 'V'},       {"help", no_argument, nullptr, 'h'},
      {"verbose", no_argument, nullptr, 'v'},       {"use-ipv4", no_argument, nullptr, '4'},
      {"use-ipv6", no_argument, nullptr, '6'},      {"quiet", no_argument, nullptr, 'q'},
      {"warning", required_argument, nullptr, 'w'}, {"critical", required_argument, nullptr, 'c'},
      {"swarn", required_argument, nullptr, 'W'},   {"scrit", required_argument, nullptr, 'C'},
      {"jwarn", required_argument, nullptr, 'j'},   {"jcrit", required_argument, nullptr, 'k'},
      {"twarn", required_argument, nullptr, 'm'},   {"tcrit", required_argument, nullptr, 'n'},
      {"timeout", required_argument, nullptr, 't'}, {"hostname", required_argument, nullptr, 'H'},
      {"port", required_argument, nullptr, 'p'},    {nullptr, 0, nullptr, 0}};
  if (argc < 2) return unknown("no options given", true);
  optind = 1;
  for (;;) {
    const int c = getopt_long(argc, argv, "Vhv46qw:c:W:C:j:k:m:n:t:H:p:", longopts, nullptr);
    if (c == -1) break;
    switch (c) {
      case 'h': print_help(); return exit_code::plugin_ok;
      case 'V':
        out().write(std::string("check_ntp_peer (ntpkit ") + version_string + ")\n");
        return exit_code::plugin_ok;
      case 'v': ++o.verbose; break;
      case 'q': o.t.quiet = true; break;
      case 'w': o.t.offset_warn = optarg; break;
      case 'c': o.t.offset_crit = optarg; break;
      case 'W': o.t.do_stratum = true; o.t.stratum_warn = optarg; break;
      case 'C': o.t.do_stratum = true; o.t.stratum_crit = optarg; break;
      case 'j': o.t.do_jitter = true; o.t.jitter_warn = optarg; break;
      case 'k': o.t.do_jitter = true; o.t.jitter_crit = optarg; break;
      case 'm': o.t.do_truechimers = true; o.t.truechimers_warn = optarg; break;
      case 'n': o.t.do_truechimers = true; o.t.truechimers_crit = optarg; break;
      case 'H': o.host = optarg; break;
      case 'p': o.port = std::atoi(optarg); break;
      case 't': o.timeout_s = std::atoi(optarg); break;
      case '4': o.family = AF_INET; break;
      case '6': o.family = AF_INET6; break;
      default: out().write(usage_line); return exit_code::plugin_unknown;
    }
  }
  if (o.host.empty()) return unknown("Hostname was not supplied", true);
  return -1;
}

// The first address of host in the family asked, as the plugin's connect takes it.
std::optional<net::udp::endpoint> first_address(const compat_options& o) {
  addrinfo hints{};
  hints.ai_family = o.family;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(o.host.c_str(), nullptr, &hints, &res) != 0 || !res) return std::nullopt;
  std::optional<net::udp::endpoint> ep;
  if (res->ai_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(res->ai_addr);
    ep = net::udp::endpoint(boost::asio::ip::address_v4(ntohl(a->sin_addr.s_addr)),
                            static_cast<std::uint16_t>(o.port));
  } else if (res->ai_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(res->ai_addr);
    boost::asio::ip::address_v6::bytes_type b;
    std::copy(std::begin(a->sin6_addr.s6_addr), std::end(a->sin6_addr.s6_addr), b.begin());
    ep = net::udp::endpoint(boost::asio::ip::address_v6(b, a->sin6_scope_id),
                            static_cast<std::uint16_t>(o.port));
  }
  ::freeaddrinfo(res);
  return ep;
}

}  // namespace

int check_ntp_peer_main(int argc, char** argv) {
  compat_options o;
  o.t.lenient_ranges = true;
  if (const int rc = parse(argc, argv, o); rc >= 0) return rc;
  const auto server = first_address(o);
  if (!server) return unknown("Invalid hostname/address - " + o.host, true);
  if (o.port < 1 || o.port > 65535) return unknown("Invalid port - " + std::to_string(o.port), true);
  if (auto ec = forbid_clock_changes()) {
    std::fprintf(stderr, "check_ntp_peer: warning: cannot forbid clock changes: %s\n",
                 ec.message().c_str());
  }
  const int timeout_s = o.timeout_s > 0 ? o.timeout_s : 10;
  const auto h = read_peer_health(*server, std::chrono::seconds(timeout_s), std::nullopt);
  if (h.unreachable) {
    out().write("NTP CRITICAL: No response from NTP server\n");
    return exit_code::plugin_critical;
  }
  if (h.timed_out) {
    out().write("CRITICAL - Socket timeout after " + std::to_string(timeout_s) + " seconds\n");
    return exit_code::plugin_critical;
  }
  const auto verdict = judge_peer_health(h, o.t);
  if (!verdict) {
    out().write("Range format incorrect");
    return exit_code::plugin_unknown;
  }
  if (o.verbose) {
    std::fprintf(stderr, "%d candidate peers available\n", h.candidates);
  }
  out().write(verdict->line + "\n");
  return exit_code::of_plugin(verdict->state);
}

}  // namespace ntpkit::apps
