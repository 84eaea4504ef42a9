// The census engine: frames and datagrams counted, clients and intervals (flows.hpp).
// Requests and responses are matched in matching.cpp.
//
// Bytes per distinct client: a detail::client_state (80 bytes) in a dense vector that grows
// by doubling (80 to 160 bytes per client, 120 on average), and an 8-byte index slot of
// detail::client_table (load 3/8 to 3/4: 11 to 21 bytes per client).
// census_result::client_table_bytes reports the real figure; docs/benchmarks.md the
// measured one.

#include "ntpkit/capture/flows.hpp"

#include <algorithm>
#include <bit>

#include "census_state.hpp"

namespace ntpkit::capture {
namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

std::size_t family_index(const model::ip_address& a) noexcept {
  return a.family == model::family::ipv6 ? 1 : 0;
}

void count_split(model::census_split& s, const model::ip_address& a, std::uint8_t version,
                 std::uint8_t mode) noexcept {
  ++s.by_family[family_index(a)];
  ++s.by_version[version & 7u];
  ++s.by_mode[mode & 7u];
}

// A client's version/mode bits not yet counted in `seen` go into `split`.
void count_new_bits(model::census_split& split, std::uint16_t& seen, std::uint16_t bits) {
  for (unsigned fresh = bits & ~seen & 0xffffu; fresh != 0; fresh &= fresh - 1) {
    const int b = std::countr_zero(fresh);
    if (b < 8) {
      ++split.by_version[static_cast<std::size_t>(b)];
    } else {
      ++split.by_mode[static_cast<std::size_t>(b - 8)];
    }
  }
  seen |= bits;
}

}  // namespace

census::state::state(census_options o)
    : options(std::move(o)),
      interval_ns(std::max<std::int64_t>(options.interval.count(), 1)),
      timeout_ns(std::max<std::int64_t>(options.response_timeout.count(), 0)) {
  r.server_port = options.server_port;
  r.interval = std::chrono::nanoseconds(interval_ns);
  r.response_timeout = std::chrono::nanoseconds(timeout_ns);
  r.rate_limit = options.rate_limit;
  r.delta_histogram = detail::coarse_buckets();
  r.processing_histogram = detail::coarse_buckets();
}

census::census(census_options options) : s_(std::make_unique<state>(std::move(options))) {}
census::~census() = default;
census::census(census&&) noexcept = default;
census& census::operator=(census&&) noexcept = default;

std::size_t census::outstanding() const noexcept { return s_->waiting.size(); }
std::size_t census::clients() const noexcept { return s_->clients.size(); }

void census::add_frame(proto::sys_nanoseconds time, std::uint32_t link_type,
                       std::span<const std::uint8_t> bytes, frame_ref ref) {
  add_decoded(time, decode_frame(link_type, bytes, s_->options.decode), ref);
}

void census::add_decoded(proto::sys_nanoseconds time, const decoded_frame& d, frame_ref ref) {
  auto& f = s_->r.frames;
  const std::uint16_t port = s_->options.server_port;
  ++f.frames;
  switch (d.status) {
    case frame_status::udp:
      break;
    case frame_status::unsupported_link:
      ++f.unsupported_link;
      return;
    case frame_status::not_ip:
      ++f.not_ip;
      return;
    case frame_status::truncated:
      ++f.truncated;
      return;
    case frame_status::bad_header:
      ++f.bad_header;
      return;
    case frame_status::other_protocol:
      ++f.other_protocol;
      return;
    case frame_status::too_deep:
      ++f.too_deep;
      return;
    case frame_status::fragment:
      ++f.fragments;
      if (d.first_fragment && d.protocol == 17 &&
          (d.source_port == port || d.destination_port == port)) {
        ++f.fragments_ntp_port;
      }
      return;
  }
  if (d.source_port != port && d.destination_port != port) {
    ++f.other_udp;
    return;
  }
  ++f.ntp;
  if (d.tunnel_depth > 0) ++f.tunnelled;
  if (d.vlan_tags > 0) ++f.vlan;
  const auto c = classify_ntp(d.payload, d.payload_truncated, s_->packet);
  s_->datagram(time.time_since_epoch().count(), d, c, ref);
}

bool census::state::is_server(const model::ip_address& a) const noexcept {
  if (options.server_addresses.empty()) return true;
  return std::find(options.server_addresses.begin(), options.server_addresses.end(), a) !=
         options.server_addresses.end();
}

// A loopback source (127.0.0.0/8, ::1) to itself is a local tool, not a spoof: such an
// address cannot arrive from the network (RFC 1122 §3.2.1.3, RFC 4291 §2.5.3).
bool census::state::spoofed_looking(const decoded_frame& d) const noexcept {
  if (d.source_port == 0) return true;
  if (d.source == d.destination && !model::is_loopback(d.source)) return true;
  if (model::is_multicast_broadcast_or_unspecified(d.source)) return true;
  return !options.server_addresses.empty() && is_server(d.source);
}

void census::state::datagram(std::int64_t t, const decoded_frame& d, const ntp_classification& c,
                             frame_ref ref) {
  auto& g = r.datagrams;
  switch (c.kind) {
    case ntp_kind::truncated:
      ++g.truncated;
      return;
    case ntp_kind::malformed:
      ++g.malformed;
      return;
    default:
      break;
  }
  ++g.ntp;
  if (c.header_only) ++g.header_only;
  count_split(g.split, d.source, c.version, c.mode);
  const proto::sys_nanoseconds at{std::chrono::nanoseconds(t)};
  if (!r.first_time || at < *r.first_time) r.first_time = at;
  if (!r.last_time || at > *r.last_time) r.last_time = at;
  expire(t);
  roll_interval(t);
  current.out.packets++;
  count_split(current.out.packet_split, d.source, c.version, c.mode);
  const std::int64_t second = floor_div(t, 1'000'000'000);
  overall_rate.add(second);
  current.rate.add(second);
  const bool to_server = d.destination_port == options.server_port && is_server(d.destination);
  const bool from_server = d.source_port == options.server_port && is_server(d.source);
  switch (c.mode) {
    case 1:
    case 2:
    case 3:
      if (!to_server) return;
      if (spoofed_looking(d)) {
        ++r.spoofed_packets;
        spoofed.insert(d.source);
        return;
      }
      count_request(t, d, c.version, c.mode);
      if (c.mode == 3) wait_for_answer(t, d, ref);
      return;
    case 4:
      if (from_server) answer(t, d, ref);
      return;
    case 5:
      ++r.broadcasts;
      return;
    default:  // 6, 7
      if (to_server) count_control(d);
      return;
  }
}

// Intervals follow the capture time; a datagram that comes late for an interval already
// closed (capture times going back a little) counts in the one under way.
void census::state::roll_interval(std::int64_t t) {
  const std::int64_t index = floor_div(t, interval_ns);
  if (!have_base) {
    have_base = true;
    base_interval = index;
  }
  if (current.open && index <= current.index) return;
  if (current.open) close_interval();
  current.open = true;
  current.index = std::max(index, base_interval);
  current.out = model::census_interval{};
  current.out.start = proto::sys_nanoseconds(std::chrono::nanoseconds(current.index * interval_ns));
  current.rate = detail::rate_peak{};
}

void census::state::close_interval() {
  current.out.peak_pps = current.rate.peak;
  current.out.delta = current.delta.summary();
  current.out.processing = current.processing.summary();
  closed.push_back(current.out);
  current.delta.clear();
  current.processing.clear();
  current.open = false;
}

void census::state::count_request(std::int64_t t, const decoded_frame& d, std::uint8_t version,
                                  std::uint8_t mode) {
  ++current.out.requests;
  auto [record, inserted] = clients.insert(d.source);
  detail::client_state& c = *record;
  if (inserted) c.first_ns = t;
  if (c.requests > 0) {
    const std::int64_t gap_us = std::max<std::int64_t>(t - c.last_ns, 0) / 1000;
    c.recent_us[c.recent_next] =
        static_cast<std::uint32_t>(std::min<std::int64_t>(gap_us, UINT32_MAX));
    c.recent_next = static_cast<std::uint8_t>((c.recent_next + 1) % c.recent_us.size());
    c.recent_count =
        static_cast<std::uint8_t>(std::min<std::size_t>(c.recent_count + 1u, c.recent_us.size()));
  }
  ++c.requests;
  c.last_ns = std::max(c.last_ns, t);
  const auto relative = static_cast<std::uint32_t>(current.index - base_interval + 1);
  if (c.last_interval != relative) {
    c.last_interval = relative;
    c.interval_mask = 0;
    ++current.out.clients;
    ++current.out.client_split.by_family[family_index(c.address)];
  }
  if (c.total_mask == 0) {
    ++r.clients;
    ++r.client_split.by_family[family_index(c.address)];
  }
  const auto bits = static_cast<std::uint16_t>(1u << (version & 7u) | 1u << (8 + (mode & 7u)));
  count_new_bits(current.out.client_split, c.interval_mask, bits);
  count_new_bits(r.client_split, c.total_mask, bits);
}

void census::state::count_control(const decoded_frame& d) {
  ++r.control_packets;
  auto [last, inserted] = control.insert(d.source);
  if (inserted) ++r.control_clients;
  const auto relative = static_cast<std::uint32_t>(current.index - base_interval + 1);
  if (*last != relative) {
    *last = relative;
    ++current.out.control_clients;
  }
}

namespace {

std::optional<std::chrono::nanoseconds> median_gap(const detail::client_state& c) {
  if (c.recent_count == 0) return std::nullopt;
  std::array<std::uint32_t, 8> v = c.recent_us;
  const auto n = static_cast<std::ptrdiff_t>(c.recent_count);
  std::nth_element(v.begin(), v.begin() + (n - 1) / 2, v.begin() + n);
  return std::chrono::microseconds(v[static_cast<std::size_t>((n - 1) / 2)]);
}

void fill_talkers(model::census_result& out, const std::vector<detail::client_state>& clients,
                  std::size_t top) {
  std::vector<std::uint32_t> order(clients.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  const auto by_requests = [&](std::uint32_t a, std::uint32_t b) {
    if (clients[a].requests != clients[b].requests)
      return clients[a].requests > clients[b].requests;
    return clients[a].address < clients[b].address;
  };
  const std::size_t n = std::min(top, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), order.end(),
                    by_requests);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& c = clients[order[i]];
    model::talker t;
    t.address = c.address;
    t.packets = c.requests;
    t.first_seen = proto::sys_nanoseconds(std::chrono::nanoseconds(c.first_ns));
    t.last_seen = proto::sys_nanoseconds(std::chrono::nanoseconds(c.last_ns));
    t.median_interval = median_gap(c);
    out.top_talkers.push_back(t);
  }
}

}  // namespace

model::census_result census::result() const {
  const state& s = *s_;
  model::census_result out = s.r;
  out.intervals = s.closed;
  if (s.current.open) {
    auto open = s.current.out;
    open.peak_pps = s.current.rate.peak;
    open.delta = s.current.delta.summary();
    open.processing = s.current.processing.summary();
    out.intervals.push_back(open);
  }
  out.peak_pps = s.overall_rate.peak;
  out.spoofed_sources = s.spoofed.size();
  fill_talkers(out, s.clients.records(), s.options.top);
  for (const auto& c : s.clients.records()) {
    const auto m = median_gap(c);
    if (m && *m < s.options.rate_limit) ++out.fast_clients;
  }
  std::sort(out.kisses.begin(), out.kisses.end(),
            [](const auto& a, const auto& b) { return a.count > b.count; });
  out.delta = s.delta.summary();
  out.processing = s.processing.summary();
  out.slowest = s.slowest;
  std::sort(out.slowest.begin(), out.slowest.end(),
            [](const auto& a, const auto& b) { return a.delta > b.delta; });
  s.settle_waiting(out);
  out.client_table_bytes = s.clients.memory_bytes();
  return out;
}

}  // namespace ntpkit::capture
