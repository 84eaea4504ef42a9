#include "ntpkit/model/control.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "ntpkit/proto/errc.hpp"

namespace ntpkit::model {
namespace {

bool is_filter_list(std::string_view name) noexcept {
  return name == "filtdelay" || name == "filtoffset" || name == "filtdisp";
}

// The numbers of a filter list, split at spaces and tabs; a word that is no number (NTPsec
// 1.2.2 sends garbage bytes there, PEERS.md) is kept as an empty slot.
std::vector<std::optional<double>> number_list(std::string_view text) {
  std::vector<std::optional<double>> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    if (i == text.size()) break;
    std::size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\t') ++j;
    auto n = proto::variable_value(std::string(text.substr(i, j - i)), true).number();
    out.push_back(n ? std::optional<double>(*n) : std::nullopt);
    i = j;
  }
  return out;
}

bool has_dot(std::string_view s) noexcept { return s.find('.') != std::string_view::npos; }

// ntpq's `ntpq -p` modes (RFC 5905 §3: 1 active, 2 passive, 3 client, 5 broadcast, 6 the
// broadcast client ntpd reports as hmode).
char peer_type(std::int64_t hmode, bool clock, const std::string& refid, const std::string& src,
               std::int64_t nts_cookies) {
  const bool multicast = src.rfind("224.", 0) == 0;
  switch (hmode) {
    case 1: return 's';
    case 2: return 'S';
    case 5: return multicast ? 'M' : 'B';
    case 6: return 'b';
    case 3:
      if (clock) return 'l';
      if (refid == "POOL") return 'p';
      if (multicast) return 'a';
      if (nts_cookies > -1) return static_cast<char>('0' + nts_cookies);
      return 'u';
    default: return '?';
  }
}

}  // namespace

std::string_view value_type_name(value_type t) noexcept {
  switch (t) {
    case value_type::none: return "none";
    case value_type::integer: return "integer";
    case value_type::number: return "number";
    case value_type::timestamp: return "timestamp";
    case value_type::text: return "text";
    case value_type::numbers: return "numbers";
  }
  return "none";
}

std::string_view unit_of(std::string_view name) noexcept {
  static constexpr std::array<std::string_view, 10> ms = {
      "offset", "delay", "jitter", "dispersion", "rootdelay", "rootdisp", "rootdist",
      "sys_jitter", "clk_jitter", "authdelay"};
  if (std::find(ms.begin(), ms.end(), name) != ms.end()) return "ms";
  if (name == "frequency" || name == "clk_wander") return "ppm";
  return {};
}

typed_value read_value(std::string_view name, const proto::variable_value& value) {
  typed_value out;
  out.unit = unit_of(name);
  if (!value.present()) return out;
  const auto raw = value.raw();
  if (is_filter_list(name)) {
    out.type = value_type::numbers;
    out.numbers = number_list(raw);
    return out;
  }
  if (!raw.empty() && raw.front() == '"') {
    out.type = value_type::text;
    auto t = value.text();
    out.text = t ? *t : std::string(raw);
    return out;
  }
  if (raw.size() > 2 && raw[0] == '0' && (raw[1] == 'x' || raw[1] == 'X')) {
    if (has_dot(raw)) {
      if (auto ts = value.ntp_timestamp()) {
        out.type = value_type::timestamp;
        out.ntp_time = *ts;
        return out;
      }
    } else if (auto h = value.hex(); h && *h <= 0x7fffffffffffffffULL) {
      out.type = value_type::integer;
      out.integer = static_cast<std::int64_t>(*h);
      return out;
    }
  }
  if (auto i = value.integer()) {
    out.type = value_type::integer;
    out.integer = *i;
    return out;
  }
  if (auto n = value.number()) {
    out.type = value_type::number;
    out.number = *n;
    return out;
  }
  out.type = value_type::text;
  out.text = std::string(raw);
  return out;
}

control_read take_read(proto::control_opcode opcode, std::uint16_t association_id,
                       const proto::control_query_result& r, bool key_used) {
  control_read out;
  out.opcode = opcode;
  out.association_id = association_id;
  out.outcome = r.outcome;
  out.error = r.error;
  out.server_error = r.response.error;
  out.status = r.response.header.status;
  out.refused = r.refused;
  out.requests_sent = r.requests_sent;
  out.ignored = r.ignored;
  out.mac = r.mac;
  out.auth_failed = key_used && r.outcome == proto::control_outcome::response &&
                    r.mac != proto::control_mac_status::verified;
  if (r.outcome == proto::control_outcome::response && opcode != proto::control_opcode::read_status) {
    out.variables = proto::parse_variables(std::span<const std::uint8_t>(r.response.data));
  }
  return out;
}

void take_association_list(control_read& read, const proto::control_response& r) {
  if (!read.ok()) return;
  auto list = proto::parse_association_list(r.data);
  if (!list) {
    read.outcome = proto::control_outcome::bad_response;
    read.error = list.error();
    return;
  }
  read.associations = std::move(*list);
}

std::string_view failure_kind(const control_read& r) noexcept {
  if (r.auth_failed) return "auth";
  switch (r.outcome) {
    case proto::control_outcome::response: return {};
    case proto::control_outcome::server_error:
      return r.server_error == proto::control_error::permission ? "auth" : "server_error";
    case proto::control_outcome::timeout:
      // With a key, a silent server or one whose MACs failed looks the same from here;
      // ignored MACs say which.
      if (r.ignored.count(proto::ignore_reason::mac) || r.ignored.count(proto::ignore_reason::mac_key_id) ||
          r.ignored.count(proto::ignore_reason::mac_missing)) {
        return "auth";
      }
      return "timeout";
    case proto::control_outcome::incomplete: return "incomplete";
    case proto::control_outcome::bad_response: return "bad_response";
    case proto::control_outcome::transport_error: return "network";
    case proto::control_outcome::bad_request: return "bad_request";
  }
  return "bad_response";
}

peer_summary summarize_peer(std::uint16_t association_id, std::uint16_t status,
                            const proto::variable_list& vars, proto::timestamp now) {
  peer_summary p;
  p.association_id = association_id;
  p.status = status;
  p.decoded = proto::decode_peer_status(status);
  p.tally = proto::tally_code(p.decoded.selection);
  std::int64_t hmode = 0, hpoll = 0, ppoll = 0, nts_cookies = -1;
  std::optional<std::string> srcadr, srchost;
  std::string refid;
  std::optional<double> jitter, dispersion;
  auto integer = [](const proto::variable_value& v) -> std::optional<std::int64_t> {
    if (auto i = v.integer()) return *i;
    if (auto u = v.unsigned_integer(); u && *u <= 0x7fffffffffffffffULL) {
      return static_cast<std::int64_t>(*u);
    }
    return std::nullopt;
  };
  auto number = [](const proto::variable_value& v) -> std::optional<double> {
    if (auto n = v.number()) return *n;
    return std::nullopt;
  };
  for (const auto& [name, v] : vars) {
    if (name == "delay") {
      p.delay_ms = number(v);
      // NTPsec sends 6 decimals ("0.123456"), ntp.org 3: ntpq prints 4 or 3 then.
      const auto raw = v.raw();
      if (raw.size() > 6 && raw[raw.size() - 7] == '.') p.decimals = 4;
    } else if (name == "offset") {
      p.offset_ms = number(v);
    } else if (name == "jitter") {
      jitter = number(v);
    } else if (name == "dispersion" || name == "rootdisp") {
      dispersion = number(v);
    } else if (name == "hmode") {
      hmode = integer(v).value_or(0);
    } else if (name == "hpoll") {
      hpoll = integer(v).value_or(0);
    } else if (name == "ppoll") {
      ppoll = integer(v).value_or(0);
    } else if (name == "reach") {
      if (auto u = v.unsigned_integer()) p.reach = *u;
    } else if (name == "refid") {
      refid = std::string(v.raw());
    } else if (name == "rec" || name == "reftime") {
      // The later of the two in the server's order decides, as in ntpq (rec follows reftime).
      if (auto ts = v.ntp_timestamp()) {
        const auto since = (now - *ts).bits();
        const auto whole = since >> 32;  // floor; only positive values are shown
        p.when_s = whole > 0 ? std::optional<std::int64_t>(whole) : std::nullopt;
      }
    } else if (name == "srcadr" || name == "peeradr") {
      srcadr = std::string(v.raw());
    } else if (name == "srchost") {
      auto t = v.text();
      srchost = t ? *t : std::string(v.raw());
    } else if (name == "stratum") {
      p.stratum = integer(v).value_or(p.stratum);
    } else if (name == "ntscookies") {
      nts_cookies = integer(v).value_or(-1);
    }
  }
  // A negative poll exponent is read as NTP_MINPOLL (0 in NTPsec).
  if (hpoll < 0) hpoll = 0;
  if (ppoll < 0) ppoll = 0;
  p.poll_s = std::int64_t{1} << std::min<std::int64_t>(std::min(ppoll, hpoll), 62);
  p.reference_clock = srchost && srchost->find('(') != std::string::npos;
  p.srcadr = srcadr.value_or("");
  const bool named_by_host = !srcadr || *srcadr == "0.0.0.0" || *srcadr == "::" ||
                             srcadr->rfind("127.127", 0) == 0;
  if (!named_by_host) {
    p.remote = *srcadr;
  } else if (srchost) {
    p.remote = *srchost;
  } else {
    p.remote = srcadr.value_or("");
  }
  p.type = peer_type(hmode, p.reference_clock, refid, p.srcadr, nts_cookies);
  if (refid.find('.') == std::string::npos && refid.find(':') == std::string::npos) {
    refid = "." + refid + ".";
  }
  p.refid = std::move(refid);
  if (jitter) {
    p.jitter_ms = jitter;
  } else {
    p.jitter_ms = dispersion;
    p.jitter_is_dispersion = true;
  }
  return p;
}

}  // namespace ntpkit::model
