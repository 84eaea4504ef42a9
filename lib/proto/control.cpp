#include "ntpkit/proto/control.hpp"

#include <algorithm>
#include <string>

#include "ntpkit/proto/bytes.hpp"
#include "ntpkit/proto/errc.hpp"

namespace ntpkit::proto {
namespace {

constexpr std::size_t round_up(std::size_t n, std::size_t to) noexcept {
  return (n + to - 1) / to * to;
}

// Bits of the second header byte (RFC 9327 §2).
constexpr std::uint8_t response_bit = 0x80;
constexpr std::uint8_t error_bit = 0x40;
constexpr std::uint8_t more_bit = 0x20;
constexpr std::uint8_t opcode_mask = 0x1f;

}  // namespace

std::string_view to_string(control_opcode op) noexcept {
  switch (op) {
    case control_opcode::unspecified:
      return "UNSPEC";
    case control_opcode::read_status:
      return "READSTAT";
    case control_opcode::read_variables:
      return "READVAR";
    case control_opcode::write_variables:
      return "WRITEVAR";
    case control_opcode::read_clock:
      return "READCLOCK";
    case control_opcode::write_clock:
      return "WRITECLOCK";
    case control_opcode::set_trap:
      return "SETTRAP";
    case control_opcode::async_message:
      return "ASYNCMSG";
    case control_opcode::configure:
      return "CONFIGURE";
    case control_opcode::save_config:
      return "SAVECONFIG";
    case control_opcode::read_mru:
      return "READ_MRU";
    case control_opcode::read_ordlist:
      return "READ_ORDLIST_A";
    case control_opcode::request_nonce:
      return "REQ_NONCE";
    case control_opcode::unset_trap:
      return "UNSETTRAP";
  }
  return "UNKNOWN";
}

std::string_view to_string(control_error e) noexcept {
  switch (e) {
    case control_error::unspecified:
      return "unspecified";
    case control_error::permission:
      return "permission denied or authentication failure";
    case control_error::bad_format:
      return "bad format";
    case control_error::unknown_opcode:
      return "unknown opcode";
    case control_error::unknown_association:
      return "unknown association";
    case control_error::unknown_variable:
      return "unknown variable";
    case control_error::bad_value:
      return "bad value";
    case control_error::prohibited:
      return "administratively prohibited";
  }
  return "unknown error code";
}

std::string_view ntpq_name(control_error e) noexcept {
  static constexpr std::string_view names[] = {"UNSPEC",   "PERMISSION", "BADFMT",   "BADOP",
                                               "BADASSOC", "UNKNOWNVAR", "BADVALUE", "RESTRICT"};
  const auto i = static_cast<std::size_t>(e);
  return i < std::size(names) ? names[i] : std::string_view{"UNKNOWN"};
}

result<control_header> parse_control_header(std::span<const std::uint8_t> d) {
  if (d.size() < control_header_size) return errc::truncated;
  control_header h;
  h.leap = static_cast<leap_indicator>(d[0] >> 6);
  h.version = (d[0] >> 3) & 7;
  h.mode = d[0] & 7;
  if (h.mode != 6) return errc::not_control_message;
  h.response = (d[1] & response_bit) != 0;
  h.error = (d[1] & error_bit) != 0;
  h.more = (d[1] & more_bit) != 0;
  h.opcode = static_cast<control_opcode>(d[1] & opcode_mask);
  h.sequence = load_be16(d, 2);
  h.status = load_be16(d, 4);
  h.association_id = load_be16(d, 6);
  h.offset = load_be16(d, 8);
  h.count = load_be16(d, 10);
  return h;
}

void write_control_header(const control_header& h, std::span<std::uint8_t> out) noexcept {
  out[0] = static_cast<std::uint8_t>((static_cast<unsigned>(h.leap) & 3) << 6 |
                                     (h.version & 7) << 3 | (h.mode & 7));
  out[1] = static_cast<std::uint8_t>((h.response ? response_bit : 0) | (h.error ? error_bit : 0) |
                                     (h.more ? more_bit : 0) |
                                     (static_cast<unsigned>(h.opcode) & opcode_mask));
  store_be16(out, 2, h.sequence);
  store_be16(out, 4, h.status);
  store_be16(out, 6, h.association_id);
  store_be16(out, 8, h.offset);
  store_be16(out, 10, h.count);
}

result<control_fragment> parse_control_fragment(std::span<const std::uint8_t> d) {
  auto h = parse_control_header(d);
  if (!h) return h.error();
  if (control_header_size + h->count > d.size()) return errc::truncated;
  return control_fragment{*h, d.subspan(control_header_size, h->count),
                          d.subspan(control_header_size + h->count)};
}

result<std::vector<std::uint8_t>> encode_control_request(const control_request& r,
                                                         const symmetric_key* key,
                                                         digest_length length) {
  if (r.data.size() > control_max_data) return errc::control_data_too_long;
  control_header h;
  h.leap = r.leap;
  h.version = r.version;
  h.opcode = r.opcode;
  h.sequence = r.sequence;
  h.association_id = r.association_id;
  h.count = static_cast<std::uint16_t>(r.data.size());
  const std::size_t end = control_header_size + r.data.size();
  std::vector<std::uint8_t> out(key == nullptr ? round_up(end, 4) : round_up(end, 8), 0);
  write_control_header(h, out);
  std::copy(r.data.begin(), r.data.end(), out.begin() + control_header_size);
  if (key == nullptr) return out;
  auto digest = compute_mac(*key, out);
  if (!digest) return digest.error();
  const std::size_t at = out.size();
  out.resize(at + 4);
  store_be32(out, at, key->id());
  const std::size_t n = wire_digest_size(key->algorithm(), length);
  out.insert(out.end(), digest->begin(), digest->begin() + static_cast<std::ptrdiff_t>(n));
  return out;
}

std::array<std::size_t, 2> control_mac_offsets(std::uint16_t count) noexcept {
  const std::size_t end = control_header_size + count;
  return {round_up(end, 8), round_up(end, 4)};
}

std::string_view to_string(control_mac_status s) noexcept {
  switch (s) {
    case control_mac_status::verified:
      return "verified";
    case control_mac_status::missing:
      return "missing";
    case control_mac_status::key_id:
      return "key_id";
    case control_mac_status::mismatch:
      return "mismatch";
    case control_mac_status::malformed:
      return "malformed";
  }
  return "unknown";
}

result<control_mac_status> verify_control_mac(std::span<const std::uint8_t> d,
                                              const symmetric_key& key) {
  auto h = parse_control_header(d);
  if (!h) return h.error() == errc::not_control_message ? errc::truncated : h.error();
  if (control_header_size + h->count > d.size()) return errc::truncated;
  const auto offsets = control_mac_offsets(h->count);
  // Only padding after the data (at most up to the 8-byte boundary): not signed.
  if (d.size() <= offsets[0]) return control_mac_status::missing;
  const std::size_t full = info(key.algorithm()).digest_size;
  bool placed = false;  // some trailer of a length the key allows sits at an allowed offset
  for (const std::size_t digest : {full, std::min(full, truncated_digest_size)}) {
    if (d.size() < 4 + digest) continue;
    const std::size_t at = d.size() - 4 - digest;
    if (at != offsets[0] && at != offsets[1]) continue;
    placed = true;
    if (load_be32(d, at) != key.id()) continue;
    auto expected = compute_mac(key, d.first(at));
    if (!expected) return expected.error();
    // Constant time is not needed here: the digest is public once it is on the wire, and a
    // mismatch is reported, not acted on secretly.
    return std::equal(d.begin() + static_cast<std::ptrdiff_t>(at + 4), d.end(), expected->begin())
               ? control_mac_status::verified
               : control_mac_status::mismatch;
  }
  if (placed) return control_mac_status::key_id;
  return control_mac_status::malformed;
}

// ---- status words ------------------------------------------------------------------------------

std::string to_string(clock_source s) {
  static constexpr std::string_view names[] = {
      "sync_unspec", "sync_pps", "sync_lf_radio", "sync_hf_radio",   "sync_uhf_radio",
      "sync_local",  "sync_ntp", "sync_other",    "sync_wristwatch", "sync_telephone"};
  const auto i = static_cast<std::size_t>(s);
  return i < std::size(names) ? std::string(names[i]) : "sync_" + std::to_string(i);
}

std::string_view to_string(system_event e) noexcept {
  static constexpr std::string_view names[] = {
      "unspecified", "freq_not_set", "freq_set",      "spike_detect",
      "freq_mode",   "clock_sync",   "restart",       "panic_stop",
      "no_sys_peer", "leap_armed",   "leap_disarmed", "leap_event",
      "clock_step",  "kern",         "TAI",           "stale_leapsecond_values"};
  return names[static_cast<std::size_t>(e) & 15];
}

system_status decode_system_status(std::uint16_t w) noexcept {
  return {static_cast<leap_indicator>(w >> 14), static_cast<clock_source>((w >> 8) & 0x3f),
          static_cast<std::uint8_t>((w >> 4) & 15), static_cast<system_event>(w & 15)};
}

std::uint16_t encode_system_status(const system_status& s) noexcept {
  return static_cast<std::uint16_t>(
      (static_cast<unsigned>(s.leap) & 3) << 14 | (static_cast<unsigned>(s.source) & 0x3f) << 8 |
      (s.event_count & 15u) << 4 | (static_cast<unsigned>(s.last_event) & 15));
}

std::string_view to_string(peer_selection s) noexcept {
  static constexpr std::string_view names[] = {"reject",    "falsetick", "excess",   "outlier",
                                               "candidate", "backup",    "sys.peer", "pps.peer"};
  return names[static_cast<std::size_t>(s) & 7];
}

char tally_code(peer_selection s) noexcept { return " x.-+#*o"[static_cast<std::size_t>(s) & 7]; }

std::string_view to_string(peer_event e) noexcept {
  static constexpr std::string_view names[] = {
      "unspecified",   "mobilize",   "demobilize",      "unreachable",
      "reachable",     "restart",    "no_reply",        "rate_exceeded",
      "access_denied", "leap_armed", "sys_peer",        "clock_event",
      "bad_auth",      "popcorn",    "interleave_mode", "interleave_error"};
  return names[static_cast<std::size_t>(e) & 15];
}

peer_status decode_peer_status(std::uint16_t w) noexcept {
  peer_status s;
  s.configured = (w & 0x8000) != 0;
  s.auth_enabled = (w & 0x4000) != 0;
  s.authentic = (w & 0x2000) != 0;
  s.reachable = (w & 0x1000) != 0;
  s.broadcast = (w & 0x0800) != 0;
  s.selection = static_cast<peer_selection>((w >> 8) & 7);
  s.event_count = static_cast<std::uint8_t>((w >> 4) & 15);
  s.last_event = static_cast<peer_event>(w & 15);
  return s;
}

std::uint16_t encode_peer_status(const peer_status& s) noexcept {
  return static_cast<std::uint16_t>(
      (s.configured ? 0x8000 : 0) | (s.auth_enabled ? 0x4000 : 0) | (s.authentic ? 0x2000 : 0) |
      (s.reachable ? 0x1000 : 0) | (s.broadcast ? 0x0800 : 0) |
      (static_cast<unsigned>(s.selection) & 7) << 8 | (s.event_count & 15u) << 4 |
      (static_cast<unsigned>(s.last_event) & 15));
}

std::string to_string(clock_state s) {
  static constexpr std::string_view names[] = {"clk_unspec",  "clk_no_reply",   "clk_bad_format",
                                               "clk_fault",   "clk_bad_signal", "clk_bad_date",
                                               "clk_bad_time"};
  const auto i = static_cast<std::size_t>(s);
  return i < std::size(names) ? std::string(names[i]) : "clk_" + std::to_string(i);
}

clock_status decode_clock_status(std::uint16_t w) noexcept {
  return {static_cast<clock_state>(w & 15), static_cast<clock_state>((w >> 4) & 15)};
}

std::uint16_t encode_clock_status(const clock_status& s) noexcept {
  return static_cast<std::uint16_t>((static_cast<unsigned>(s.last_event) & 15) << 4 |
                                    (static_cast<unsigned>(s.state) & 15));
}

result<std::vector<association_entry>> parse_association_list(std::span<const std::uint8_t> d) {
  if (d.size() % 4 != 0) return errc::bad_association_list;
  std::vector<association_entry> out;
  out.reserve(d.size() / 4);
  for (std::size_t at = 0; at < d.size(); at += 4) {
    out.push_back({load_be16(d, at), load_be16(d, at + 2)});
  }
  return out;
}

// ---- reassembly --------------------------------------------------------------------------------

control_reassembler::control_reassembler(std::uint16_t sequence, control_opcode opcode,
                                         control_limits limits)
    : sequence_(sequence), opcode_(opcode), limits_(limits) {}

result<control_reassembler::progress> control_reassembler::feed(
    std::span<const std::uint8_t> datagram) {
  auto f = parse_control_fragment(datagram);
  if (!f) return f.error();
  return feed(*f);
}

result<control_reassembler::progress> control_reassembler::fail(std::error_code ec) {
  failure_ = ec;
  return ec;
}

std::error_code control_reassembler::check(const control_header& h) const noexcept {
  if (h.mode != 6) return errc::not_control_message;
  if (!h.response) return errc::not_response;
  if (h.sequence != sequence_) return errc::wrong_sequence;
  if (h.opcode != opcode_) return errc::wrong_opcode;
  return {};
}

result<control_reassembler::progress> control_reassembler::feed(const control_fragment& f) {
  const control_header& h = f.header;
  if (const auto stray = check(h)) return stray;
  if (failure_) return failure_;
  if (complete_) return progress::complete;
  if (h.error) {
    response_ = {};
    response_.header = h;
    response_.error = error_code_of(h);
    complete_ = true;
    return progress::complete;
  }
  if (h.count == 0 && h.more) return errc::empty_fragment;
  return place(f);
}

result<control_reassembler::progress> control_reassembler::place(const control_fragment& f) {
  const control_header& h = f.header;
  const std::size_t begin = h.offset;
  const std::size_t end = begin + f.data.size();
  if (end > limits_.max_bytes) return fail(errc::response_too_large);
  if (end_ && (end > *end_ || (!h.more && end != *end_))) return fail(errc::fragment_conflict);
  if (!h.more) {
    // A last fragment that ends before data already held.
    if (!fragments_.empty()) {
      const auto& [last_at, last] = *fragments_.rbegin();
      if (last_at + last.bytes.size() > end) return fail(errc::fragment_conflict);
    }
  }
  auto next = fragments_.lower_bound(begin);
  if (next != fragments_.end() && next->first == begin) {
    const piece& same = next->second;
    if (same.more == h.more &&
        std::equal(same.bytes.begin(), same.bytes.end(), f.data.begin(), f.data.end())) {
      ++response_.duplicates;
      return progress::need_more;
    }
    return fail(errc::fragment_overlap);
  }
  if (next != fragments_.end() && next->first < end) return fail(errc::fragment_overlap);
  if (next != fragments_.begin()) {
    const auto prev = std::prev(next);
    if (prev->first + prev->second.bytes.size() > begin) return fail(errc::fragment_overlap);
  }
  if (fragments_.size() >= limits_.max_fragments) return fail(errc::too_many_fragments);

  fragments_.emplace_hint(next, begin, piece{{f.data.begin(), f.data.end()}, h.more});
  held_ += f.data.size();
  if (!first_header_) first_header_ = h;
  if (h.status != first_header_->status || h.association_id != first_header_->association_id) {
    response_.header_varied = true;
  }
  if (!h.more) {
    end_ = end;
    last_header_ = h;
  }
  // Fragments never overlap, so they cover [0, end) exactly when their sizes add up to it.
  if (end_ && held_ == *end_) {
    finish();
    return progress::complete;
  }
  return progress::need_more;
}

void control_reassembler::finish() {
  response_.header = last_header_;
  response_.data.clear();
  response_.data.reserve(held_);
  for (const auto& [at, p] : fragments_) {
    response_.data.insert(response_.data.end(), p.bytes.begin(), p.bytes.end());
  }
  response_.fragments = fragments_.size();
  complete_ = true;
}

std::error_code control_reassembler::missing() const noexcept {
  if (complete_) return {};
  if (failure_) return failure_;
  if (fragments_.empty()) return errc::no_fragment;
  if (!end_) return errc::missing_last_fragment;
  return errc::missing_fragment;
}

}  // namespace ntpkit::proto
