// Tests of proto/cmdmon_reports.hpp: every reply chronyd 4.3 sent to chronyc 4.3 in
// cmdmon_captured.hpp decodes to the values chronyc printed (chronyc -c: CSV at chronyc's own
// precisions), re-encodes to the same bytes, and every truncation of it is a typed error.
//
// The expected lines are chronyc's stdout from the capture. To compare, each test prints our
// decoded values the way chronyc's client.c 4.3 prints them in CSV mode (print_report with
// csv_mode: %.9f for offsets, %.3f for ppm, the field's own precision elsewhere; UTI_IPToString
// for addresses, "ID#%010u" for an unresolved source; UTI_RefidToString for reference ids), so
// a wrong field, scale or sign shows up as a different line.

#include "ntpkit/proto/cmdmon_reports.hpp"

#include <doctest/doctest.h>
#include <openssl/evp.h>

#include <array>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <string>
#include <vector>

#include "ntpkit/proto/bytes.hpp"
#include "ntpkit/proto/errc.hpp"
#include "proto/cmdmon_captured.hpp"
#include "support/test_support.hpp"

using namespace ntpkit::proto;
using namespace ntpkit::proto::cmdmon;
using ntpkit::test::from_hex;
namespace cap = ntpkit::test::cmdmon_captured;

namespace {

using bytes = std::vector<std::uint8_t>;

std::vector<bytes> server_datagrams(const cap::exchange& e) {
  std::vector<bytes> out;
  for (const auto& d : e.datagrams) {
    if (d.from_server) out.push_back(from_hex(d.hex));
  }
  return out;
}

std::vector<reply> decode_all(const cap::exchange& e) {
  std::vector<reply> out;
  for (const auto& d : server_datagrams(e)) {
    auto r = decode_reply(d);
    REQUIRE_MESSAGE(r, r.error().message());
    out.push_back(std::move(*r));
  }
  return out;
}

// --- chronyc's CSV rendering, from client.c 4.3 ---

std::string fmt(const char* format, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, format);
  std::vsnprintf(buf, sizeof buf, format, ap);
  va_end(ap);
  return buf;
}

// UTI_IPToString
std::string chronyc_ip(const ip_addr& a) {
  switch (a.kind()) {
    case address_family::unspec:
      return "[UNSPEC]";
    case address_family::id:
      return fmt("ID#%010u", a.id());
    default:
      return to_string(a);
  }
}

// UTI_RefidToString: the printable characters of the four bytes.
std::string chronyc_refid(std::uint32_t id) {
  std::string s;
  for (int i = 0; i < 4; ++i) {
    const auto c = static_cast<unsigned char>(id >> (24 - 8 * i));
    if (c >= 0x20 && c < 0x7f) s += static_cast<char>(c);
  }
  return s;
}

// UTI_IPToRefid: IPv4 itself, the first 4 bytes of the MD5 of an IPv6 address, else 0. (Not in
// the reply: chronyc derives it; it checks that the address decoded right.)
std::uint32_t chronyc_ip_refid(const ip_addr& a) {
  if (a.kind() == address_family::inet4) return a.in4();
  if (a.kind() != address_family::inet6) return 0;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  REQUIRE(EVP_Digest(a.addr.data(), a.addr.size(), md, &n, EVP_md5(), nullptr) == 1);
  return std::uint32_t{md[0]} << 24 | std::uint32_t{md[1]} << 16 | std::uint32_t{md[2]} << 8 |
         md[3];
}

// print_report's 'L'
std::string chronyc_leap(int leap) {
  switch (leap) {
    case 0:
      return "Normal";
    case 1:
      return "Insert second";
    case 2:
      return "Delete second";
    case 3:
      return "Not synchronised";
    default:
      return "Invalid";
  }
}

std::string chronyc_timespec(const cmdmon::timespec& t) {
  return fmt("%lld.%09u", static_cast<long long>(t.seconds()), t.nanoseconds());
}

double d(float32 f) { return f.to_double(); }

// process_cmd_tracking
std::string render_tracking(const tracking& t) {
  const std::string name =
      t.ip_addr.kind() == address_family::unspec ? chronyc_refid(t.ref_id) : chronyc_ip(t.ip_addr);
  return fmt("%08X,%s,%u,%s,%.9f,%.9f,%.9f,%.3f,%.3f,%.3f,%.9f,%.9f,%.1f,%s\n", t.ref_id,
             name.c_str(), t.stratum, chronyc_timespec(t.ref_time).c_str(), d(t.current_correction),
             d(t.last_offset), d(t.rms_offset), d(t.freq_ppm), d(t.resid_freq_ppm), d(t.skew_ppm),
             d(t.root_delay), d(t.root_dispersion), d(t.last_update_interval),
             chronyc_leap(t.leap_status).c_str());
}

// process_cmd_sources with -a (and -N: the name from the NTP_SOURCE_NAME reply that follows
// each SOURCE_DATA of a source that is not a reference clock)
std::string render_sources(const std::vector<reply>& r, bool named) {
  std::string out;
  const auto n = std::get<n_sources_reply>(r.at(0).body).n_sources;
  std::size_t at = 1;
  for (std::uint32_t i = 0; i < n; ++i) {
    const auto& s = std::get<source_data>(r.at(at++).body);
    const bool ref =
        s.mode == source_mode::reference_clock && s.ip_addr.kind() == address_family::inet4;
    std::string name = ref ? chronyc_refid(s.ip_addr.in4()) : chronyc_ip(s.ip_addr);
    if (named && !ref) {
      const auto& sn = std::get<ntp_source_name>(r.at(at++).body);
      name = sn.is_valid() ? std::string(sn.text()) : "?";
    }
    out += fmt("%c,%c,%s,%d,%d,%o,%lu,%.9f,%.9f,%.9f\n", mode_symbol(s.mode), state_symbol(s.state),
               name.c_str(), s.stratum, s.poll, s.reachability,
               static_cast<unsigned long>(s.since_sample), d(s.latest_meas), d(s.orig_latest_meas),
               d(s.latest_meas_err));
  }
  CHECK(at == r.size());
  return out;
}

// process_cmd_sourcestats with -a
std::string render_sourcestats(const std::vector<reply>& r) {
  std::string out;
  for (std::size_t i = 1; i < r.size(); ++i) {
    const auto& s = std::get<sourcestats>(r[i].body);
    const std::string name = s.ip_addr.kind() == address_family::unspec ? chronyc_refid(s.ref_id)
                                                                        : chronyc_ip(s.ip_addr);
    out += fmt("%s,%u,%u,%u,%.3f,%.3f,%.9f,%.9f\n", name.c_str(), s.n_samples, s.n_runs,
               s.span_seconds, d(s.resid_freq_ppm), d(s.skew_ppm), d(s.est_offset), d(s.sd));
  }
  return out;
}

// process_cmd_serverstats (4.3: SERVER_STATS3)
std::string render_serverstats(const server_stats& s) {
  return fmt(
      "%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu\n",
      static_cast<unsigned long long>(s.ntp_hits), static_cast<unsigned long long>(s.ntp_drops),
      static_cast<unsigned long long>(s.cmd_hits), static_cast<unsigned long long>(s.cmd_drops),
      static_cast<unsigned long long>(s.log_drops),
      static_cast<unsigned long long>(s.nke_hits.value()),
      static_cast<unsigned long long>(s.nke_drops.value()),
      static_cast<unsigned long long>(s.ntp_auth_hits.value()),
      static_cast<unsigned long long>(s.ntp_interleaved_hits.value()),
      static_cast<unsigned long long>(s.ntp_timestamps.value()),
      static_cast<unsigned long long>(s.ntp_span_seconds.value()));
}

std::string chronyc_ntp_mode(int mode) {
  switch (mode) {
    case 1:
      return "Symmetric active";
    case 2:
      return "Symmetric passive";
    case 4:
      return "Server";
    default:
      return "Invalid";
  }
}

std::string chronyc_tss(int c) {
  switch (c) {
    case 'D':
      return "Daemon";
    case 'K':
      return "Kernel";
    case 'H':
      return "Hardware";
    default:
      return "Invalid";
  }
}

std::string bits(unsigned v, int n) {
  std::string s;
  for (int i = n - 1; i >= 0; --i) s += (v >> i & 1) ? '1' : '0';
  return s;
}

// process_cmd_ntpdata's print_report
std::string render_ntp_data(const ntp_data& n) {
  const double poll_s = std::ldexp(1.0, n.poll);
  const double precision_s = std::ldexp(1.0, n.precision);
  return fmt(
      "%s,%08X,%u,%s,%08X,%s,%u,%s,%u,%d,%.0f,%d,%.9f,%.6f,%.6f,%08X,%s,%s,%.9f,%.9f,"
      "%.9f,%.9f,%.2f,%s,%s,%s,%s,%s,%s,%s,%u,%u,%u,%u\n",
      chronyc_ip(n.remote_addr).c_str(), chronyc_ip_refid(n.remote_addr), n.remote_port,
      chronyc_ip(n.local_addr).c_str(), chronyc_ip_refid(n.local_addr),
      chronyc_leap(n.leap).c_str(), n.version, chronyc_ntp_mode(n.mode).c_str(), n.stratum, n.poll,
      poll_s, n.precision, precision_s, d(n.root_delay), d(n.root_dispersion), n.ref_id,
      n.stratum <= 1 ? chronyc_refid(n.ref_id).c_str() : "", chronyc_timespec(n.ref_time).c_str(),
      d(n.offset), d(n.peer_delay), d(n.peer_dispersion), d(n.response_time), d(n.jitter_asymmetry),
      bits(n.flags >> 7, 3).c_str(), bits(n.flags >> 4, 3).c_str(), bits(n.flags, 4).c_str(),
      n.flags & ntp_flag_interleaved ? "Yes" : "No",
      n.flags & ntp_flag_authenticated ? "Yes" : "No", chronyc_tss(n.tx_tss_char).c_str(),
      chronyc_tss(n.rx_tss_char).c_str(), n.total_tx_count, n.total_rx_count, n.total_valid_count,
      n.total_good_count);
}

// process_cmd_clients (-k: the NTS-KE columns instead of the command ones)
std::string render_clients(const std::vector<reply>& r, bool nke) {
  std::string out;
  for (const auto& page : r) {
    for (const auto& c : std::get<client_accesses>(page.body).valid()) {
      if (c.ip.kind() == address_family::unspec) continue;
      out += fmt("%s,%u,%u,%d,%d,%u,%u,%u,%d,%u\n", chronyc_ip(c.ip).c_str(), c.ntp_hits,
                 c.ntp_drops, c.ntp_interval, c.ntp_timeout_interval, c.last_ntp_hit_ago,
                 nke ? c.nke_hits.value() : c.cmd_hits, nke ? c.nke_drops.value() : c.cmd_drops,
                 nke ? c.nke_interval.value() : c.cmd_interval,
                 nke ? c.last_nke_hit_ago.value() : c.last_cmd_hit_ago);
    }
  }
  return out;
}

// process_cmd_authdata with -a: an AUTH_DATA reply follows the SOURCE_DATA of each server or
// peer (reference clocks are skipped without one).
std::string render_authdata(const std::vector<reply>& r) {
  std::string out;
  for (std::size_t i = 1; i < r.size(); ++i) {
    const auto& s = std::get<source_data>(r[i].body);
    if (s.mode != source_mode::client && s.mode != source_mode::peer) continue;
    const auto& a = std::get<auth_data>(r.at(++i).body);
    const char* mode = a.mode == auth_mode::none        ? "-"
                       : a.mode == auth_mode::symmetric ? "SK"
                       : a.mode == auth_mode::nts       ? "NTS"
                                                        : "?";
    out += fmt("%s,%s,%u,%d,%d,%u,%d,%d,%d,%d\n", chronyc_ip(s.ip_addr).c_str(), mode, a.key_id,
               a.key_type, a.key_length, a.last_ke_ago, a.ke_attempts, a.nak, a.cookies,
               a.cookie_length);
  }
  return out;
}

std::string options(std::uint16_t o) {
  return fmt("%c,%c,%c,%c,-", o & select_option_noselect ? 'N' : '-',
             o & select_option_prefer ? 'P' : '-', o & select_option_trust ? 'T' : '-',
             o & select_option_require ? 'R' : '-');
}

// process_cmd_selectdata with -a
std::string render_selectdata(const std::vector<reply>& r) {
  std::string out;
  for (std::size_t i = 1; i < r.size(); ++i) {
    const auto& s = std::get<select_data>(r[i].body);
    const std::string name = s.ip_addr.kind() == address_family::unspec ? chronyc_refid(s.ref_id)
                                                                        : chronyc_ip(s.ip_addr);
    out += fmt("%c,%s,%c,%s,%s,%u,%.1f,%.9f,%.9f,%s\n", s.state_char, name.c_str(),
               s.authentication ? 'Y' : 'N', options(s.conf_options).c_str(),
               options(s.eff_options).c_str(), s.last_sample_ago, d(s.score), d(s.lo_limit),
               d(s.hi_limit), chronyc_leap(s.leap).c_str());
  }
  return out;
}

}  // namespace

TEST_CASE("tracking decodes to what chronyc printed for the same reply") {
  for (const auto* e : {&cap::udp_tracking, &cap::udp_tracking_again}) {
    const auto r = decode_all(*e);
    REQUIRE(r.size() == 1);
    CHECK(render_tracking(std::get<tracking>(r[0].body)) == e->output);
  }
  const auto t = std::get<tracking>(decode_all(cap::udp_tracking)[0].body);
  CHECK(t.ip_addr == ip_addr::from_in4(0x7f000002));
  CHECK(t.ref_time.sec_high == 0);  // chronyd 4.3 on x86-64: 64-bit time_t, not 0x7fffffff
}

TEST_CASE("sources -a decodes to chronyc's lines, the unresolved source as family 3") {
  const auto r = decode_all(cap::udp_sources);
  CHECK(render_sources(r, false) == cap::udp_sources.output);
  const auto& unresolved = std::get<source_data>(r.at(7).body);  // index 6, after N_SOURCES
  CHECK(unresolved.ip_addr.is_unresolved());
  CHECK(unresolved.ip_addr.id() == 1);
  CHECK(to_string(unresolved.ip_addr) == "unresolved source #1");
  const auto& refclock = std::get<source_data>(r[1].body);
  CHECK(refclock.mode == source_mode::reference_clock);
  CHECK(refclock.ip_addr.in4() == 0x534f434b);  // "SOCK", a refclock's refid as IPv4
}

TEST_CASE("sources -N names each source with NTP_SOURCE_NAME as chronyc did") {
  const auto r = decode_all(cap::udp_sources_named);
  CHECK(render_sources(r, true) == cap::udp_sources_named.output);
}

TEST_CASE("sourcestats -a decodes to chronyc's lines") {
  CHECK(render_sourcestats(decode_all(cap::udp_sourcestats)) == cap::udp_sourcestats.output);
}

TEST_CASE("activity decodes to chronyc's counts") {
  const auto a = std::get<activity>(decode_all(cap::udp_activity)[0].body);
  CHECK(fmt("%d,%d,%d,%d,%d\n", a.online, a.offline, a.burst_online, a.burst_offline,
            a.unresolved) == cap::udp_activity.output);
}

TEST_CASE("serverstats from chronyd 4.3 is SERVER_STATS3 with chronyc's counters") {
  const auto r = decode_all(cap::unix_serverstats);
  CHECK(r[0].header.reply == reply_code::server_stats3);
  const auto& s = std::get<server_stats>(r[0].body);
  CHECK(s.reply_version == 3);
  CHECK_FALSE(s.ntp_daemon_rx_timestamps.has_value());
  CHECK(render_serverstats(s) == cap::unix_serverstats.output);
}

TEST_CASE("ntpdata decodes to chronyc's lines for IPv4, IPv6 and an unanswered server") {
  const auto r = decode_all(cap::unix_ntpdata);
  std::string out;
  for (const auto& x : r) {
    if (const auto* n = std::get_if<ntp_data>(&x.body)) {
      CHECK(n->reply_version == 1);
      out += render_ntp_data(*n);
    }
  }
  CHECK(out == cap::unix_ntpdata.output);
}

TEST_CASE("clients pages decode to chronyc's lines, command and NTS-KE columns") {
  CHECK(render_clients(decode_all(cap::unix_clients), false) == cap::unix_clients.output);
  CHECK(render_clients(decode_all(cap::unix_clients_nke), true) == cap::unix_clients_nke.output);
  const auto r = decode_all(cap::unix_clients);
  REQUIRE(r.size() == 2);
  const auto& first = std::get<client_accesses>(r[0].body);
  CHECK(first.reply_version == 3);
  CHECK(first.n_clients == 8);
  CHECK(first.valid().size() == 8);
  CHECK(std::get<client_accesses>(r[1].body).n_clients < 8);  // chronyc's last page
}

TEST_CASE("authdata decodes to chronyc's lines: none, symmetric key and NTS") {
  CHECK(render_authdata(decode_all(cap::unix_authdata)) == cap::unix_authdata.output);
}

TEST_CASE("selectdata decodes to chronyc's lines") {
  CHECK(render_selectdata(decode_all(cap::unix_selectdata)) == cap::unix_selectdata.output);
}

// process_cmd_smoothing: Active %B %s, offset %+.9f, freq %+.6f, wander %+.6f, last update
// %.1f, remaining %.1f (the signs go in CSV mode).
TEST_CASE("smoothing decodes to chronyc's line") {
  const auto s = std::get<smoothing>(decode_all(cap::udp_smoothing)[0].body);
  CHECK(fmt("%s,%s,%.9f,%.6f,%.6f,%.1f,%.1f\n", s.flags & 1 ? "Yes" : "No",
            s.flags & 2 ? "(leap second only)" : "", d(s.offset), d(s.freq_ppm), d(s.wander_ppm),
            d(s.last_update_ago), d(s.remaining_time)) == cap::udp_smoothing.output);
}

TEST_CASE("manual list with no samples decodes to an empty MANUAL_LIST2") {
  const auto r = decode_all(cap::udp_manual_list);
  CHECK(r[0].header.reply == reply_code::manual_list2);
  CHECK(std::get<manual_list>(r[0].body).n_samples == 0);
  CHECK(cap::udp_manual_list.output.empty());
}

// chronyc's request_reply() prints these codes for these statuses.
TEST_CASE("status replies carry the STT_ values chronyc printed as errors") {
  const struct {
    const cap::exchange& e;
    status expected;
    std::string_view chronyc_stdout;
  } cases[] = {
      {cap::udp_serverstats_unauthorised, status::unauthorised, "501 Not authorised\n"},
      {cap::udp_rtcdata_no_rtc, status::no_rtc, "513 RTC driver not running\n"},
      {cap::unix_ntpdata_no_such_source, status::no_such_source, "503 No such source\n"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.e.command);
    CHECK(c.e.output == c.chronyc_stdout);
    const auto r = decode_all(c.e);
    REQUIRE(r.size() == 1);
    CHECK(r[0].header.status == c.expected);
    CHECK(r[0].header.reply == reply_code::null);
    CHECK(std::holds_alternative<null_reply>(r[0].body));
  }
}

// cmdmon.c read_from_cmd_socket answers these requests of capture_cmdmon.py so.
TEST_CASE("chronyd 4.3's answers to malformed and refused requests decode to their status") {
  const struct {
    const cap::exchange& e;
    status expected;
  } cases[] = {
      {cap::own_tracking_as_version_5, status::bad_packet_version},
      {cap::own_tracking_of_28_bytes, status::bad_packet_length},
      {cap::own_command_200, status::invalid},
      {cap::own_null, status::success},
      {cap::own_source_data_index_99, status::no_such_source},
      {cap::own_server_stats_of_196_bytes_over_udp, status::unauthorised},
      {cap::own_ntp_source_name_for_10_9_9_9, status::no_such_source},
      {cap::own_client_accesses_by_index2, status::invalid},
      {cap::own_select_data_index_0_over_udp, status::unauthorised},
  };
  for (const auto& c : cases) {
    CAPTURE(c.e.command);
    const auto r = decode_all(c.e);
    REQUIRE(r.size() == 1);
    CHECK(r[0].header.status == c.expected);
    CHECK(r[0].header.version == 6);
    CHECK(r[0].header.reply == reply_code::null);
  }
  // Dropped without an answer: version 4, pkt_type 2, res1 set, shorter than a reply header.
  for (const auto* e : {&cap::own_tracking_as_version_4, &cap::own_pkt_type_2, &cap::own_res1_1,
                        &cap::own_tracking_of_20_bytes}) {
    CAPTURE(e->command);
    CHECK(server_datagrams(*e).empty());
  }
}

TEST_CASE("chronyd 4.3 answers the longer SERVER_STATS and NTP_DATA requests we send") {
  const auto s = decode_all(cap::own_server_stats_of_196_bytes);
  CHECK(s[0].header.status == status::success);
  CHECK(s[0].header.reply == reply_code::server_stats3);
  CHECK(std::get<server_stats>(s[0].body).cmd_hits > 0);
  const auto n = decode_all(cap::own_ntp_data_of_172_bytes_for_127_0_0_1);
  CHECK(n[0].header.reply == reply_code::ntp_data);
  CHECK(std::get<ntp_data>(n[0].body).remote_addr == ip_addr::from_in4(0x7f000001));
  CHECK(std::get<ntp_data>(n[0].body).remote_port == 11123);
}

TEST_CASE("an unresolved source's name and NTP data come back as family 3, not an address") {
  const auto name = decode_all(cap::own_ntp_source_name_for_unresolved_source_1);
  CHECK(std::get<ntp_source_name>(name[0].body).text() == "unresolvable.invalid");
  CHECK(std::get<ntp_source_name>(name[0].body).is_valid());
  const auto data = decode_all(cap::own_ntp_data_for_unresolved_source_1);
  const auto& n = std::get<ntp_data>(data[0].body);
  CHECK(n.remote_addr.is_unresolved());
  CHECK(to_string(n.remote_addr) == "unresolved source #1");
}

TEST_CASE("client pages honour min_hits and n_clients, with next_index to continue") {
  const auto filtered = decode_all(cap::own_client_accesses_by_index3_from_0_min_hits_15);
  for (const auto& c : std::get<client_accesses>(filtered[0].body).valid()) {
    CHECK(c.ntp_hits + c.nke_hits.value() + c.cmd_hits >= 15);
  }
  const auto three = decode_all(cap::own_client_accesses_by_index3_from_5_n_clients_3);
  const auto& page = std::get<client_accesses>(three[0].body);
  CHECK(page.n_clients == 3);
  CHECK(page.next_index > 5);
}

TEST_CASE("auth_data and select_data of an NTS source decode") {
  const auto a = std::get<auth_data>(decode_all(cap::own_auth_data_for_127_0_0_4)[0].body);
  CHECK(a.mode == auth_mode::nts);
  CHECK(a.key_length == 256);
  const auto s = std::get<select_data>(decode_all(cap::own_select_data_index_4)[0].body);
  CHECK(s.ip_addr == ip_addr::from_in4(0x7f000004));
  CHECK(s.authentication == 1);
}

// STYLE §7 vectors: decoded replies re-serialize to identical bytes (ntpd-rs
// test_captured_client), and every truncation is errc::truncated.
TEST_CASE("every captured reply re-encodes to its bytes; every truncation is a typed error") {
  int replies = 0;
  for (const auto* e : cap::all) {
    for (const auto& d : server_datagrams(*e)) {
      CAPTURE(e->command);
      const auto r = decode_reply(d);
      REQUIRE(r);
      CHECK(reply_length(r->header.reply) == d.size());
      const auto again = encode_reply(*r);
      REQUIRE(again);
      CHECK(*again == d);
      for (std::size_t n = 0; n < d.size(); ++n) {
        const auto cut = decode_reply(std::span(d).first(n));
        REQUIRE_FALSE(cut);
        CHECK(cut.error() == errc::truncated);
      }
      ++replies;
    }
  }
  CHECK(replies > 60);
}

// pktlength.c reply_lengths, computed by hand from candm.h (4.3 for most; SERVER_STATS4 and
// NTP_DATA2 from 4.8, SERVER_STATS and CLIENT_ACCESSES_BY_INDEX2 from 3.5, SERVER_STATS2 from
// 4.0): 28 bytes of header plus the RPY_ structure up to EOR.
TEST_CASE("reply_length matches candm.h's layouts for every decodable reply code") {
  const std::pair<reply_code, std::size_t> table[] = {
      {reply_code::null, 28},
      {reply_code::n_sources, 28 + 4},
      {reply_code::source_data, 28 + 20 + 6 * 2 + 4 + 3 * 4},
      {reply_code::tracking, 28 + 4 + 20 + 2 * 2 + 12 + 9 * 4},
      {reply_code::sourcestats, 28 + 4 + 20 + 3 * 4 + 5 * 4},
      {reply_code::rtc, 28 + 12 + 2 * 2 + 4 + 2 * 4},
      {reply_code::manual_timestamp2, 28 + 3 * 4},
      {reply_code::client_accesses_by_index2, 28 + 12 + 8 * (20 + 4 * 4 + 4 + 2 * 4)},
      {reply_code::client_accesses_by_index3, 28 + 12 + 8 * (20 + 6 * 4 + 4 + 3 * 4)},
      {reply_code::server_stats, 28 + 5 * 4},
      {reply_code::server_stats2, 28 + 8 * 4},
      {reply_code::server_stats3, 28 + 11 * 4},
      {reply_code::server_stats4, 28 + 21 * 8},
      {reply_code::manual_list2, 28 + 4 + 16 * (12 + 3 * 4)},
      {reply_code::activity, 28 + 5 * 4},
      {reply_code::smoothing, 28 + 4 + 5 * 4},
      {reply_code::ntp_data, 28 + 2 * 20 + 2 + 6 + 2 * 4 + 4 + 12 + 5 * 4 + 4 + 4 * 4 + 3 * 4},
      {reply_code::ntp_data2, 28 + 2 * 20 + 2 + 6 + 2 * 4 + 4 + 12 + 5 * 4 + 4 + 12 * 4},
      {reply_code::ntp_source_name, 28 + 256},
      {reply_code::auth_data, 28 + 24},
      {reply_code::select_data, 28 + 4 + 20 + 4 + 2 * 2 + 4 + 3 * 4},
  };
  for (const auto& [code, length] : table) {
    CAPTURE(reply_code_name(code));
    CHECK(reply_length(code) == length);
  }
  for (int code : {0, 4, 8, 9, 10, 11, 27, 1000}) {
    CHECK(reply_length(static_cast<reply_code>(code)) == 0);
  }
}

// Reply codes chrony never defined, or only for old protocols (candm.h; pktlength.c marks
// them "not supported"), and versions other than 5 and 6 are typed errors, not guesses.
TEST_CASE("unknown, obsolete and foreign-version replies are typed errors") {
  bytes r = from_hex(cap::udp_tracking.datagrams[1].hex);
  auto with_code = [&](std::uint16_t code) {
    bytes b = r;
    b[6] = static_cast<std::uint8_t>(code >> 8);
    b[7] = static_cast<std::uint8_t>(code);
    return decode_reply(b);
  };
  CHECK(with_code(27).error() == errc::cmdmon_unknown_reply);
  CHECK(with_code(0).error() == errc::cmdmon_unknown_reply);
  CHECK(with_code(0xffff).error() == errc::cmdmon_unknown_reply);
  for (std::uint16_t old : {4, 8, 9, 10, 11}) {
    CHECK(with_code(old).error() == errc::cmdmon_unsupported_reply);
  }
  bytes v7 = r;
  v7[0] = 7;
  CHECK(decode_reply(v7).error() == errc::cmdmon_bad_version);
  bytes v7_null = from_hex(cap::own_tracking_as_version_5.datagrams[1].hex);
  v7_null[0] = 7;  // a status-only reply of any version still decodes (BADPKTVERSION from 7)
  CHECK(decode_reply(v7_null));
}

TEST_CASE("the reply code of a versioned body follows its reply_version") {
  server_stats s;
  for (std::uint8_t v = 1; v <= 4; ++v) {
    s.reply_version = v;
    CHECK(reply_code_of(s).value() ==
          std::array{reply_code::server_stats, reply_code::server_stats2, reply_code::server_stats3,
                     reply_code::server_stats4}[v - 1u]);
  }
  s.reply_version = 5;
  CHECK(reply_code_of(s).error() == errc::cmdmon_bad_version);
  ntp_data n;
  n.reply_version = 2;
  CHECK(reply_code_of(n).value() == reply_code::ntp_data2);
  client_accesses c;
  c.reply_version = 2;
  CHECK(reply_code_of(c).value() == reply_code::client_accesses_by_index2);
  reply mismatch{.header = {}, .body = tracking{}};
  mismatch.header.reply = reply_code::sourcestats;
  CHECK(encode_reply(mismatch).error() == errc::cmdmon_unexpected_reply);
}

// The layouts that no capture covers (4.4+ and 3.x variants), through a round trip of bodies
// with distinct values in every field: each field lands where the sizer counted it.
TEST_CASE("SERVER_STATS4, NTP_DATA2 and CLIENT_ACCESSES_BY_INDEX2 round-trip field by field") {
  server_stats s4;
  s4.reply_version = 4;
  std::uint64_t v = 0x0102030405060708;
  for (auto* f : {&s4.ntp_hits, &s4.cmd_hits, &s4.ntp_drops, &s4.cmd_drops, &s4.log_drops}) {
    *f = v++;
  }
  for (auto* f :
       {&s4.nke_hits, &s4.nke_drops, &s4.ntp_auth_hits, &s4.ntp_interleaved_hits,
        &s4.ntp_timestamps, &s4.ntp_span_seconds, &s4.ntp_daemon_rx_timestamps,
        &s4.ntp_daemon_tx_timestamps, &s4.ntp_kernel_rx_timestamps, &s4.ntp_kernel_tx_timestamps,
        &s4.ntp_hw_rx_timestamps, &s4.ntp_hw_tx_timestamps}) {
    *f = v++;
  }
  reply r4{.header = {}, .body = s4};
  r4.header.reply = reply_code::server_stats4;
  const auto b4 = encode_reply(r4);
  REQUIRE(b4);
  CHECK(b4->size() == 196);
  CHECK(load_be64(*b4, 28) == s4.ntp_hits);                        // first
  CHECK(load_be64(*b4, 28 + 8) == *s4.nke_hits);                   // second: NTS-KE after NTP
  CHECK(load_be64(*b4, 28 + 16 * 8) == *s4.ntp_hw_tx_timestamps);  // 17th and last counter
  CHECK(decode_reply(*b4).value() == r4);

  ntp_data n2;
  n2.reply_version = 2;
  n2.total_good_count = 11;
  n2.total_kernel_tx_ts = 12;
  n2.total_kernel_rx_ts = 13;
  n2.total_hw_tx_ts = 14;
  n2.total_hw_rx_ts = 15;
  n2.reserved = {16, 17, 18, 19};
  reply rn{.header = {}, .body = n2};
  rn.header.reply = reply_code::ntp_data2;
  const auto bn = encode_reply(rn);
  REQUIRE(bn);
  CHECK(bn->size() == 172);
  CHECK(load_be32(*bn, 28 + 108) == 11);
  CHECK(load_be32(*bn, 28 + 112) == 12);
  CHECK(load_be32(*bn, 28 + 124) == 15);
  CHECK(load_be32(*bn, 28 + 140) == 19);
  CHECK(decode_reply(*bn).value() == rn);

  client_accesses c2;
  c2.reply_version = 2;
  c2.n_clients = 1;
  c2.clients[0] = {.ip = ip_addr::from_in4(0x0a000001),
                   .ntp_hits = 1,
                   .cmd_hits = 2,
                   .ntp_drops = 3,
                   .cmd_drops = 4,
                   .ntp_interval = -5,
                   .cmd_interval = 6,
                   .ntp_timeout_interval = 7,
                   .pad = 0,
                   .last_ntp_hit_ago = 8,
                   .last_cmd_hit_ago = 9};
  reply rc{.header = {}, .body = c2};
  rc.header.reply = reply_code::client_accesses_by_index2;
  const auto bc = encode_reply(rc);
  REQUIRE(bc);
  CHECK(bc->size() == 424);
  CHECK(load_be32(*bc, 28 + 12 + 20) == 1);  // ntp_hits
  CHECK(load_be32(*bc, 28 + 12 + 24) == 2);  // cmd_hits: no nke_hits in version 2
  CHECK((*bc)[28 + 12 + 36] == 0xfb);        // ntp_interval -5
  CHECK(load_be32(*bc, 28 + 12 + 44) == 9);  // last_cmd_hit_ago
  CHECK(decode_reply(*bc).value() == rc);
}
