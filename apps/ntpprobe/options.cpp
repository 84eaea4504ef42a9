#include "options.hpp"

#include "../common/keyfile.hpp"
#include "../common/round.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>

namespace ntpkit::apps {
namespace {

// An option group (a section of --help) without the copy of -h/--help CLI11 gives each group.
CLI::App& option_group(CLI::App& parent, const std::string& name) {
  auto* group = parent.add_option_group(name);
  group->set_help_flag();
  return *group;
}

void add_range(CLI::App& app, const std::string& flags, std::string& into, const std::string& what) {
  app.add_option(flags, into, what + " (Nagios range, needs --nagios)")->type_name("RANGE");
}

void add_plugin_options(CLI::App& parent, plugin_cli& p) {
  CLI::App& app = option_group(parent, "Plugin mode (--nagios)");
  app.add_flag("--nagios", p.enabled,
               "plugin mode: one status line with perfdata, exit 0/1/2/3 = OK/WARNING/CRITICAL/"
               "UNKNOWN");
  add_range(app, "-w,--warning", p.warn_offset, "WARNING when |offset| in seconds is outside");
  add_range(app, "-c,--critical", p.crit_offset, "CRITICAL when |offset| in seconds is outside");
  add_range(app, "--warn-stratum", p.warn_stratum, "WARNING when the stratum is outside");
  add_range(app, "--crit-stratum", p.crit_stratum, "CRITICAL when the stratum is outside");
  add_range(app, "--warn-delay", p.warn_delay, "WARNING when the delay in seconds is outside");
  add_range(app, "--crit-delay", p.crit_delay, "CRITICAL when the delay in seconds is outside");
  add_range(app, "--warn-jitter", p.warn_jitter, "WARNING when the jitter in seconds is outside");
  add_range(app, "--crit-jitter", p.crit_jitter, "CRITICAL when the jitter in seconds is outside");
  add_range(app, "--warn-root-distance", p.warn_root_distance,
            "WARNING when the root distance in seconds is outside");
  add_range(app, "--crit-root-distance", p.crit_root_distance,
            "CRITICAL when the root distance in seconds is outside");
  add_range(app, "--warn-processing", p.warn_processing,
            "WARNING when the server's processing time T3-T2 in seconds is outside");
  add_range(app, "--crit-processing", p.crit_processing,
            "CRITICAL when the server's processing time T3-T2 in seconds is outside");
  app.add_option("--expect-refid", p.expect_refid,
                 "CRITICAL unless the refid is this (GPS, 192.0.2.1, 0x7f7f0101, an IPv6 "
                 "address); repeatable, needs --nagios")
      ->allow_extra_args(false)
      ->type_name("REFID");
  app.add_flag("--leap-ok", p.leap_ok, "a pending leap second is not a WARNING (--nagios)");
  app.add_flag("--no-reply-critical", p.no_reply_critical,
               "no reply is CRITICAL instead of UNKNOWN (--nagios)");
  app.add_option("--min-ok", p.min_ok,
                 "OK when at least N addresses are OK, WARNING when N are at least WARNING, "
                 "else CRITICAL (--nagios)")
      ->check(CLI::Range(1, 1'000'000).description(""))
      ->type_name("N");
  app.add_option("--time-offset", p.time_offset_s,
                 "seconds added to the measured offset before it is judged, e.g. a server "
                 "known to be ahead by that much (check_ntp_time -o; --nagios)")
      ->type_name("SECONDS");
}

// Parses a range option into `into`; returns an error message or empty.
std::string set_range(const std::string& flag, const std::string& text,
                      std::optional<report::nagios_range>& into) {
  if (text.empty()) return {};
  auto r = report::parse_nagios_range(text);
  if (!r) return flag + ": '" + text + "' is not a range ([@][START:][END], START may be ~)";
  into = std::move(*r);
  return {};
}

std::string make_policy(const plugin_cli& c, report::plugin_policy& p) {
  const std::pair<const char*, std::pair<const std::string*, std::optional<report::nagios_range>*>>
      ranges[] = {
          {"--warning", {&c.warn_offset, &p.offset.warning}},
          {"--critical", {&c.crit_offset, &p.offset.critical}},
          {"--warn-stratum", {&c.warn_stratum, &p.stratum.warning}},
          {"--crit-stratum", {&c.crit_stratum, &p.stratum.critical}},
          {"--warn-delay", {&c.warn_delay, &p.delay.warning}},
          {"--crit-delay", {&c.crit_delay, &p.delay.critical}},
          {"--warn-jitter", {&c.warn_jitter, &p.jitter.warning}},
          {"--crit-jitter", {&c.crit_jitter, &p.jitter.critical}},
          {"--warn-root-distance", {&c.warn_root_distance, &p.root_distance.warning}},
          {"--crit-root-distance", {&c.crit_root_distance, &p.root_distance.critical}},
          {"--warn-processing", {&c.warn_processing, &p.processing.warning}},
          {"--crit-processing", {&c.crit_processing, &p.processing.critical}},
      };
  bool any = !c.expect_refid.empty() || c.leap_ok || c.no_reply_critical || c.min_ok > 0 ||
             c.time_offset_s != 0;
  for (const auto& [flag, target] : ranges) {
    if (auto e = set_range(flag, *target.first, *target.second); !e.empty()) return e;
    any = any || !target.first->empty();
  }
  if (any && !c.enabled) return "thresholds and plugin options need --nagios";
  p.expect_refid = c.expect_refid;
  p.leap_ok = c.leap_ok;
  p.no_reply_critical = c.no_reply_critical;
  p.min_ok = static_cast<std::size_t>(c.min_ok);
  if (!std::isfinite(c.time_offset_s) || std::fabs(c.time_offset_s) > 1e9) {
    return "--time-offset must be a number of seconds";
  }
  p.time_offset_s = c.time_offset_s;
  return {};
}

}  // namespace

bool needs_only_servers(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] == '-') return false;
  }
  return true;
}

// Registering options is most of what CLI11 costs ntpprobe: each add_option builds its Option
// twice and compares its names with every option of its group, copying name lists. With all
// 45 options in one group that was 1.1 million instructions, three quarters of a whole
// one-query run (callgrind; docs/benchmarks.md). So the options come in groups (shown as
// sections of --help), and a command line of servers only registers just the positional.
void add_probe_options(CLI::App& app, probe_cli& o, bool only_servers) {
  app.add_option("server", o.servers, "HOST, HOST:PORT, [IPV6] or [IPV6]:PORT; repeatable")
      ->type_name("HOST[:PORT]");
  if (only_servers) return;
  app.add_option("-f,--file", o.server_file,
                 "read servers from FILE, one per line ('-' for stdin, '#' comments)")
      ->type_name("FILE");
  auto* v4 = app.add_flag("-4,--ipv4", o.ipv4, "use IPv4 addresses only");
  auto* v6 = app.add_flag("-6,--ipv6", o.ipv6, "use IPv6 addresses only");
  v4->excludes(v6);
  app.add_option("-p,--port", o.port, "port for servers given without one")
      ->check(CLI::Range(1, 65535).description(""))
      ->type_name("PORT")
      ->capture_default_str();
  app.add_option("-t,--timeout", o.timeout_s, "seconds to wait for each reply")
      ->type_name("SECONDS")
      ->capture_default_str();
  app.add_option("-r,--retries", o.retries, "requests to repeat after a timeout, per sample")
      ->check(CLI::Range(0, 10).description(""))
      ->type_name("N")
      ->capture_default_str();
  app.add_option("-n,--samples", o.samples,
                 "replies to collect per address; the one with the least delay is reported")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000).description(""))
      ->type_name("N");
  app.add_option("-i,--interval", o.interval_s,
                 "least seconds between two requests to one address (at least 2 without "
                 "--allow-fast)")
      ->type_name("SECONDS")
      ->capture_default_str();
  app.add_flag("--allow-fast", o.allow_fast,
               "allow --interval below 2 s (RFC 5905's guard), e.g. for loopback tests");
  app.add_flag("-x,--interleaved", o.interleaved,
               "RFC 9769 interleaved mode (with -n 2 or more): from the second request on, the "
               "server sends the exact time it sent its previous answer (chrony does)");
  app.add_option("--ntp-version", o.ntp_version, "NTP version of the requests")
      ->check(CLI::Range(1, 4).description(""))
      ->type_name("1-4")
      ->capture_default_str();
  app.add_option("--concurrency", o.concurrency,
                 "addresses queried at once (default: what the open-file limit allows, <= 512)")
      ->check(CLI::Range(1, 65536).description(""))
      ->type_name("N");
  CLI::App& keys = option_group(app, "Keys");
  keys.add_option("-a,--key", o.key_id,
                 "sign requests with key ID from --keyfile and accept only replies it verifies")
      ->check(CLI::Range(1LL, 4294967295LL).description(""))
      ->type_name("ID");
  keys.add_option("-k,--keyfile", o.key_file,
                 "key file in ntp.keys or chrony.keys format (detected), see ntpkit-keys(5)")
      ->type_name("FILE");
  keys.add_option("--mac-length", o.mac_length,
                 "digests longer than 20 bytes: 'full' (chrony; NTPv3 requests) or '20' (ntpd; "
                 "truncated); default: the key file format's convention")
      ->check(CLI::IsMember({"full", "20"}).description(""))
      ->type_name("full|20");
  CLI::App& output = option_group(app, "Output");
  output.add_option("--upstream", o.upstreams,
                    "an IPv6 address servers may be synchronised to: a refid that is its hash "
                    "is shown as this address (every IPv6 address the run resolves counts "
                    "too); repeatable")
      ->allow_extra_args(false)
      ->type_name("IPV6");
  auto* json = output.add_flag("-j,--json", o.json, "write one JSON document on stdout");
  auto* lines = output.add_flag("--json-lines", o.json_lines,
                             "write one JSON object per target and line, as each completes");
  output.add_flag("--prometheus", o.prometheus,
               "write metrics in the Prometheus text format (node_exporter's textfile "
               "collector)");
  output.add_flag("-v,--verbose", o.verbose, "show every header field, timestamp, check and sample");
  CLI::App& broadcast = option_group(app, "Broadcast");
  broadcast.add_flag("--listen-broadcast", o.listen_broadcast,
               "send nothing; listen on --port for broadcast/multicast (mode 5) packets for "
               "--timeout seconds (default 70) or -n packets; servers given only filter senders");
  broadcast.add_option("--listen-address", o.listen_address,
                 "address to listen on with --listen-broadcast; a multicast group is joined "
                 "(default: any IPv4 address, or any IPv6 address with -6)")
      ->type_name("ADDRESS");
  broadcast.add_option("--broadcast-delay", o.broadcast_delay_s,
                 "one-way delay in seconds added to broadcast offsets (ntpd's broadcastdelay)")
      ->type_name("SECONDS")
      ->capture_default_str();
  add_plugin_options(app, o.plugin);
  json->excludes(lines);
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

namespace {

std::variant<net::broadcast_options, std::string> make_broadcast(const probe_cli& o,
                                                                 const std::vector<std::string>& senders) {
  net::broadcast_options b;
  boost::system::error_code ec;
  auto local = o.listen_address.empty()
                   ? (o.ipv6 ? boost::asio::ip::address(boost::asio::ip::address_v6::any())
                             : boost::asio::ip::address(boost::asio::ip::address_v4::any()))
                   : boost::asio::ip::make_address(o.listen_address, ec);
  if (ec) return "--listen-address: '" + o.listen_address + "' is not an IP address";
  if (local.is_multicast()) {
    b.group = local;
    local = local.is_v6() ? boost::asio::ip::address(boost::asio::ip::address_v6::any())
                          : boost::asio::ip::address(boost::asio::ip::address_v4::any());
  }
  b.local = net::udp::endpoint(local, static_cast<std::uint16_t>(o.port));
  b.duration = std::chrono::milliseconds(round_ll((o.timeout_given ? o.timeout_s : 70.0) * 1000));
  b.max_packets = o.samples > 1 ? static_cast<unsigned>(o.samples) : 0;
  if (!(o.broadcast_delay_s >= 0 && o.broadcast_delay_s < 1)) {
    return std::string("--broadcast-delay must be from 0 to 1 second");
  }
  b.assumed_delay = proto::duration::from_ns(round_ll(o.broadcast_delay_s * 1e9));
  for (const auto& s : senders) {
    auto a = boost::asio::ip::make_address(s, ec);
    if (ec) return "with --listen-broadcast, servers filter senders and must be IP addresses: '" +
                   s + "'";
    b.only_from.push_back(a);
  }
  return b;
}

}  // namespace

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
  if (o.plugin.enabled && (o.json || o.json_lines)) {
    return std::string("--nagios cannot be combined with --json or --json-lines");
  }
  if (o.prometheus && (o.json || o.json_lines || o.plugin.enabled)) {
    return std::string("--prometheus cannot be combined with --json, --json-lines or --nagios");
  }
  probe_plan plan;
  if (auto e = make_policy(o.plugin, plan.policy); !e.empty()) return e;
  if ((o.key_id >= 0) != !o.key_file.empty()) {
    return std::string(o.key_id >= 0 ? "-a/--key needs -k/--keyfile"
                                     : "-k/--keyfile needs -a/--key");
  }
  if (!o.mac_length.empty() && o.key_file.empty()) {
    return std::string("--mac-length needs -a/--key and -k/--keyfile");
  }
  if (!o.key_file.empty()) {
    auto k = load_key("ntpprobe", o.key_file, static_cast<std::uint32_t>(o.key_id), o.mac_length);
    if (auto* e = std::get_if<std::string>(&k)) return *e;
    auto& chosen = std::get<chosen_key>(k);
    plan.options.query.key = chosen.key;
    plan.options.query.mac = chosen.policy;
  }
  auto& q = plan.options.query;
  q.samples = static_cast<unsigned>(o.samples);
  q.retries = static_cast<unsigned>(o.retries);
  q.timeout = std::chrono::milliseconds(std::max<long long>(1, round_ll(o.timeout_s * 1000)));
  q.interval = std::chrono::milliseconds(round_ll(o.interval_s * 1000));
  q.version = static_cast<std::uint8_t>(o.ntp_version);
  q.interleaved = o.interleaved;
  if (o.interleaved && o.samples < 2) {
    return std::string("--interleaved needs -n 2 or more (the first answer is basic)");
  }
  plan.options.address_family = o.ipv4 ? net::family::ipv4
                                : o.ipv6 ? net::family::ipv6
                                         : net::family::any;
  plan.options.concurrency = static_cast<std::size_t>(o.concurrency);
  for (const auto& u : o.upstreams) {
    boost::system::error_code ec;
    boost::asio::ip::make_address_v6(u, ec);
    if (ec) return "--upstream: '" + u + "' is not an IPv6 address";
  }
  plan.options.refid_candidates = o.upstreams;
  std::vector<std::string> specs = o.servers;
  if (!o.server_file.empty()) {
    auto listed = read_server_file(o.server_file);
    if (auto* e = std::get_if<std::string>(&listed)) return *e;
    auto& names = std::get<std::vector<std::string>>(listed);
    specs.insert(specs.end(), names.begin(), names.end());
  }
  if (o.listen_broadcast) {
    if (o.plugin.enabled) return std::string("--listen-broadcast cannot be combined with --nagios");
    auto b = make_broadcast(o, specs);
    if (auto* e = std::get_if<std::string>(&b)) return *e;
    plan.broadcast = std::get<net::broadcast_options>(b);
    return plan;
  }
  if (specs.empty()) return std::string("no server given (name one, or use -f FILE)");
  for (const auto& s : specs) {
    auto t = net::parse_target(s, static_cast<std::uint16_t>(o.port));
    if (!t) return "bad server '" + s + "': " + t.error().message();
    plan.targets.push_back(std::move(*t));
  }
  return plan;
}

}  // namespace ntpkit::apps
