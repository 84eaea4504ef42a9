#include "ntpkit/model/chrony.hpp"

#include <cstdio>

#include "ntpkit/proto/timestamp.hpp"

namespace ntpkit::model {
namespace {

namespace cm = proto::cmdmon;

std::string number_text(double v, const char* format = "%.9g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

void add(proto::variable_list& list, std::string name, std::string value) {
  list.emplace_back(std::move(name), proto::variable_value(std::move(value), true));
}

// ntpq's tally for chrony's selection state.
proto::peer_selection selection_of(cm::source_state s) noexcept {
  switch (s) {
    case cm::source_state::selected: return proto::peer_selection::sys_peer;
    case cm::source_state::unselected: return proto::peer_selection::candidate;
    case cm::source_state::selectable: return proto::peer_selection::outlier;
    case cm::source_state::falseticker: return proto::peer_selection::falsetick;
    case cm::source_state::jittery:
    case cm::source_state::nonselectable: return proto::peer_selection::reject;
  }
  return proto::peer_selection::reject;
}

}  // namespace

std::string_view failure_kind(const chrony_failure& f) noexcept {
  using k = proto::cmdmon_outcome_kind;
  switch (f.kind) {
    case k::timeout: return "timeout";
    case k::transport_error: return "network";
    case k::bad_reply: return "bad_reply";
    case k::status_error:
      return f.status == cm::status::unauthorised ? "unauthorised" : "status";
    case k::pending:
    case k::reply: break;
  }
  return "status";
}

std::string failure_text(const chrony_failure& f) {
  using k = proto::cmdmon_outcome_kind;
  std::string s = f.report + ": ";
  switch (f.kind) {
    case k::timeout: return s + "no reply from chronyd";
    case k::transport_error:
      return s + (f.error ? f.error.message() : std::string("network error"));
    case k::bad_reply:
      return s + "bad reply from chronyd" + (f.error ? " (" + f.error.message() + ")" : "");
    case k::status_error:
      s += "chronyd answered ";
      s += f.status ? std::string(cm::status_name(*f.status)) : std::string("an error");
      if (f.needs_socket) {
        s += ": this report needs chronyd's Unix socket (--socket PATH, as root or the "
             "chrony user) or an `opencommands` line that opens it (chrony 4.7+)";
      } else if (f.status == cm::status::invalid) {
        s += ": this chronyd does not know the request (an older release)";
      }
      return s;
    case k::pending:
    case k::reply: break;
  }
  return s + "failed";
}

std::string refid_text(std::uint32_t ref_id) {
  std::string text;
  for (int shift = 24; shift >= 0; shift -= 8) {
    const auto c = static_cast<unsigned char>(ref_id >> shift);
    if (c == 0) break;
    if (c < 0x20 || c > 0x7e) {
      char buf[9];
      std::snprintf(buf, sizeof buf, "%08X", static_cast<unsigned>(ref_id));
      return buf;
    }
    text += static_cast<char>(c);
  }
  return text;
}

std::string source_address(const cm::source_data& s) {
  if (s.mode == cm::source_mode::reference_clock) return refid_text(s.ip_addr.in4());
  return cm::to_string(s.ip_addr);
}

peer_summary summarize_source(const chrony_source& s) {
  peer_summary p;
  p.association_id = 0;  // chronyd has no association ids
  p.decoded.configured = true;
  p.decoded.reachable = s.data.reachability != 0;
  p.decoded.selection = selection_of(s.data.state);
  if (s.auth && s.auth->mode != cm::auth_mode::none) {
    p.decoded.auth_enabled = true;
    p.decoded.authentic = s.ntp && (s.ntp->flags & cm::ntp_flag_authenticated) != 0;
  }
  p.status = proto::encode_peer_status(p.decoded);
  p.tally = proto::tally_code(p.decoded.selection);
  p.reference_clock = s.data.mode == cm::source_mode::reference_clock;
  p.srcadr = source_address(s.data);
  p.remote = p.srcadr;
  if (s.ntp) {
    p.refid = refid_text(s.ntp->ref_id);
    if (s.ntp->stratum > 1 && s.ntp->stratum < 16) {
      // Above stratum 1 a refid is an IPv4 address (or a hash of an IPv6 one), as ntpq shows.
      const auto r = s.ntp->ref_id;
      p.refid = std::to_string(r >> 24) + "." + std::to_string((r >> 16) & 0xff) + "." +
                std::to_string((r >> 8) & 0xff) + "." + std::to_string(r & 0xff);
    } else {
      p.refid = "." + p.refid + ".";
    }
  } else if (p.reference_clock) {
    p.refid = "." + p.srcadr + ".";
  }
  p.stratum = s.data.stratum;
  p.type = p.reference_clock ? 'l' : s.data.mode == cm::source_mode::peer ? 's' : 'u';
  if (s.data.since_sample != 0xffffffffu) p.when_s = s.data.since_sample;
  p.poll_s = s.data.poll >= 0 && s.data.poll < 62 ? std::int64_t{1} << s.data.poll : 1;
  p.reach = s.data.reachability;
  if (s.data.since_sample != 0xffffffffu) {
    p.offset_ms = s.data.latest_meas.to_double() * 1e3;
    p.jitter_ms = s.data.latest_meas_err.to_double() * 1e3;
    p.jitter_is_dispersion = true;
  }
  if (s.ntp) p.delay_ms = s.ntp->peer_delay.to_double() * 1e3;
  p.decimals = 3;
  return p;
}

proto::variable_list system_variables(const cm::tracking& t) {
  proto::variable_list v;
  add(v, "leap", std::to_string(t.leap_status));
  add(v, "stratum", std::to_string(t.stratum));
  add(v, "refid", t.ip_addr.kind() == cm::address_family::unspec
                      ? refid_text(t.ref_id)
                      : cm::to_string(t.ip_addr));
  {
    const auto d = proto::date::from_sys_time(t.ref_time.to_sys_time()).to_timestamp();
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%08x.%08x", d.seconds(), d.fraction());
    add(v, "reftime", t.ref_time.seconds() == 0 && t.ref_time.nsec == 0
                          ? std::string("0x00000000.00000000")
                          : std::string(buf));
  }
  add(v, "offset", number_text(t.last_offset.to_double() * 1e3));
  add(v, "sys_jitter", number_text(t.rms_offset.to_double() * 1e3));
  add(v, "rootdelay", number_text(t.root_delay.to_double() * 1e3));
  add(v, "rootdisp", number_text(t.root_dispersion.to_double() * 1e3));
  add(v, "frequency", number_text(t.freq_ppm.to_double()));
  add(v, "clk_wander", number_text(t.skew_ppm.to_double()));
  add(v, "system_time", number_text(t.current_correction.to_double() * 1e3));
  add(v, "resid_freq", number_text(t.resid_freq_ppm.to_double()));
  add(v, "update_interval", number_text(t.last_update_interval.to_double()));
  add(v, "ref_id", number_text(static_cast<double>(t.ref_id), "%.0f"));
  return v;
}

}  // namespace ntpkit::model
