#include "options.hpp"

#include "../common/option_groups.hpp"
#include "../common/plugin_options.hpp"

#include "../common/round.hpp"
#include "ntpkit/report/format.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>

namespace ntpkit::apps {
namespace {

void add_plugin_options(CLI::App& parent, plugin_cli& p, bool& enabled) {
  CLI::App& app = option_group(parent, "Plugin mode (--nagios)");
  app.add_flag("--nagios", enabled,
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
      ->check(whole_number(1, 1'000'000))
      ->type_name("N");
  app.add_option("--time-offset", p.time_offset_s,
                 "seconds added to the measured offset before it is judged (check_ntp_time "
                 "-o; --nagios): give minus the offset a server is known to have, e.g. "
                 "-0.25 for one known to be 0.25 s ahead")
      ->check(seconds_value())
      ->type_name("SECONDS");
}

std::string make_policy(const plugin_cli& c, bool enabled, report::plugin_policy& p) {
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
  if (any && !enabled) return "thresholds and plugin options need --nagios";
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

// Registering options is most of what CLI11 costs ntpprobe: each add_option builds its Option
// twice and compares its names with every option of its group, copying name lists. With all
// 45 options in one group that was 1.1 million instructions, three quarters of a whole
// one-query run (callgrind; docs/benchmarks.md). So the options come in groups (shown as
// sections of --help), and a command line of servers only registers just the positional.
void add_probe_options(CLI::App& app, probe_cli& o, bool only_servers) {
  add_target_options(app, o.targets, only_servers);
  if (only_servers) return;
  add_timing_options(app, o.timing, "seconds to wait for each reply");
  app.add_flag("-x,--interleaved", o.interleaved,
               "RFC 9769 interleaved mode (with -n 2 or more): from the second request on, the "
               "server sends the exact time it sent its previous answer (chrony does)");
  app.add_option("--ntp-version", o.ntp_version, "NTP version of the requests")
      ->check(whole_number(1, 4))
      ->type_name("1-4")
      ->capture_default_str();
  app.add_option("--concurrency", o.concurrency,
                 "addresses queried at once (default: what the open-file limit allows, <= 512)")
      ->check(whole_number(1, 65536))
      ->type_name("N");
  add_key_options(option_group(app, "Keys"), o.keys);
  CLI::App& output = option_group(app, "Output");
  output.add_option("--upstream", o.upstreams,
                    "an IPv6 address servers may be synchronised to: a refid that is its hash "
                    "is shown as this address (every IPv6 address the run resolves counts "
                    "too); repeatable")
      ->allow_extra_args(false)
      ->type_name("IPV6");
  add_output_options(output, o.output);
  CLI::App& broadcast = option_group(app, "Broadcast");
  broadcast.add_flag("--listen-broadcast", o.listen_broadcast,
                     "send nothing; listen on --port for broadcast/multicast (mode 5) packets "
                     "for --listen-duration seconds or -n packets; servers given only filter "
                     "senders");
  broadcast.add_option("--listen-address", o.listen_address,
                       "address to listen on with --listen-broadcast; a multicast group is "
                       "joined (default: any IPv4 address, or any IPv6 address with -6)")
      ->type_name("ADDRESS");
  broadcast.add_option("--listen-duration", o.listen_duration_s,
                       "seconds to listen with --listen-broadcast")
      ->check(seconds_value())
      ->type_name("SECONDS")
      ->capture_default_str();
  broadcast.add_option("--broadcast-delay", o.broadcast_delay_s,
                       "one-way delay in seconds added to broadcast offsets (ntpd's "
                       "broadcastdelay)")
      ->check(seconds_value())
      ->type_name("SECONDS")
      ->capture_default_str();
  add_plugin_options(app, o.plugin, o.output.plugin);
}

namespace {

std::variant<net::broadcast_options, std::string> make_broadcast(const probe_cli& o,
    const std::vector<std::string>& senders) {
  net::broadcast_options b;
  boost::system::error_code ec;
  auto local = o.listen_address.empty()
                   ? (o.targets.ipv6 ? boost::asio::ip::address(boost::asio::ip::address_v6::any())
                             : boost::asio::ip::address(boost::asio::ip::address_v4::any()))
                   : boost::asio::ip::make_address(o.listen_address, ec);
  if (ec) {
    return "--listen-address: '" + report::printable(o.listen_address) + "' is not an IP address";
  }
  if (local.is_multicast()) {
    b.group = local;
    local = local.is_v6() ? boost::asio::ip::address(boost::asio::ip::address_v6::any())
                          : boost::asio::ip::address(boost::asio::ip::address_v4::any());
  }
  b.local = net::udp::endpoint(local, static_cast<std::uint16_t>(o.targets.port));
  if (!(o.listen_duration_s > 0) || o.listen_duration_s > 86400) {
    return std::string("--listen-duration must be more than 0 and at most 86400 seconds");
  }
  b.duration = to_ms(o.listen_duration_s);
  b.max_packets = o.timing.samples > 1 ? static_cast<unsigned>(o.timing.samples) : 0;
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

// Options that mean nothing in the mode chosen are refused rather than ignored.
std::string check_modes(const probe_cli& o, const CLI::App& given) {
  auto used = [&](const char* name) {
    const auto* opt = given.get_option_no_throw(name);
    return opt != nullptr && opt->count() > 0;
  };
  if (o.listen_broadcast) {
    if (used("--timeout")) {
      return "-t/--timeout is the wait for each reply; with --listen-broadcast use "
             "--listen-duration";
    }
    if (o.output.plugin) return "--listen-broadcast cannot be combined with --nagios";
  } else {
    for (const char* name : {"--listen-address", "--listen-duration", "--broadcast-delay"}) {
      if (used(name)) return std::string(name) + " needs --listen-broadcast";
    }
  }
  return {};
}

std::variant<probe_plan, std::string> make_plan(const probe_cli& o, const CLI::App& given) {
  if (auto e = check_timing(o.timing); !e.empty()) return e;
  auto mode = select_output(o.output);
  if (auto* e = std::get_if<std::string>(&mode)) return *e;
  if (auto e = check_modes(o, given); !e.empty()) return e;
  probe_plan plan;
  plan.output = std::get<output_mode>(mode);
  if (auto e = make_policy(o.plugin, o.output.plugin, plan.policy); !e.empty()) return e;
  auto key = load_key_options("ntpprobe", o.keys);
  if (auto* e = std::get_if<std::string>(&key)) return *e;
  auto& q = plan.options.query;
  if (auto& chosen = std::get<std::optional<chosen_key>>(key)) {
    q.key = chosen->key;
    q.mac = chosen->policy;
    q.key_file_format = chosen->format;
    q.key_format_guessed = chosen->format_guessed;
  }
  q.samples = static_cast<unsigned>(o.timing.samples);
  q.retries = static_cast<unsigned>(o.timing.retries);
  q.timeout = std::max(std::chrono::milliseconds(1), to_ms(o.timing.timeout_s));
  q.interval = to_ms(o.timing.interval_s);
  q.version = static_cast<std::uint8_t>(o.ntp_version);
  q.interleaved = o.interleaved;
  if ((plan.policy.jitter.warning || plan.policy.jitter.critical) && o.timing.samples < 2) {
    return std::string("--warn-jitter/--crit-jitter need -n 2 or more: the jitter of one sample "
                       "is always 0");
  }
  if (o.interleaved && o.timing.samples < 2) {
    return std::string("--interleaved needs -n 2 or more (the first answer is basic)");
  }
  plan.options.address_family = family_of(o.targets);
  plan.options.concurrency = static_cast<std::size_t>(o.concurrency);
  for (const auto& u : o.upstreams) {
    boost::system::error_code ec;
    boost::asio::ip::make_address_v6(u, ec);
    if (ec) return "--upstream: '" + report::printable(u) + "' is not an IPv6 address";
  }
  plan.options.refid_candidates = o.upstreams;
  auto specs = server_specs(o.targets, o.listen_broadcast);
  if (auto* e = std::get_if<std::string>(&specs)) return *e;
  auto& entries = std::get<std::vector<server_entry>>(specs);
  if (o.listen_broadcast) {
    std::vector<std::string> names;
    for (const auto& e : entries) names.push_back(e.spec);
    auto b = make_broadcast(o, names);
    if (auto* e = std::get_if<std::string>(&b)) return *e;
    plan.broadcast = std::get<net::broadcast_options>(b);
    return plan;
  }
  auto targets = parse_targets(entries, o.targets, "ntpprobe");
  if (auto* e = std::get_if<std::string>(&targets)) return *e;
  plan.targets = std::move(std::get<std::vector<net::target>>(targets));
  return plan;
}

}  // namespace ntpkit::apps
