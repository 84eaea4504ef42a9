// chrony cmdmon replies: the header, and the data by reply code (candm.h's CMD_Reply).

#include <algorithm>
#include <optional>

#include "cmdmon_layouts.hpp"
#include "ntpkit/proto/bytes.hpp"
#include "ntpkit/proto/cmdmon_reports.hpp"
#include "ntpkit/proto/errc.hpp"

namespace ntpkit::proto::cmdmon {
namespace {

// Whether an old protocol defined this code with a layout we do not decode.
bool is_obsolete(reply_code r) noexcept {
  switch (r) {
    case reply_code::manual_timestamp:
    case reply_code::subnets_accessed:
    case reply_code::client_accesses:
    case reply_code::client_accesses_by_index:
    case reply_code::manual_list:
      return true;
    default:
      return false;
  }
}

template <class T>
T with_version(std::uint8_t v) noexcept {
  T t;
  t.reply_version = v;
  return t;
}

// A default body with the layout of `r` (versioned structs get their reply_version), or none
// for a code we do not decode.
std::optional<reply_body> empty_body(reply_code r) noexcept {
  switch (r) {
    case reply_code::null:
      return null_reply{};
    case reply_code::n_sources:
      return n_sources_reply{};
    case reply_code::source_data:
      return source_data{};
    case reply_code::tracking:
      return tracking{};
    case reply_code::sourcestats:
      return sourcestats{};
    case reply_code::rtc:
      return rtc_report{};
    case reply_code::manual_timestamp2:
      return manual_timestamp{};
    case reply_code::client_accesses_by_index2:
      return with_version<client_accesses>(2);
    case reply_code::client_accesses_by_index3:
      return with_version<client_accesses>(3);
    case reply_code::server_stats:
      return with_version<server_stats>(1);
    case reply_code::server_stats2:
      return with_version<server_stats>(2);
    case reply_code::server_stats3:
      return with_version<server_stats>(3);
    case reply_code::server_stats4:
      return with_version<server_stats>(4);
    case reply_code::manual_list2:
      return manual_list{};
    case reply_code::activity:
      return activity{};
    case reply_code::smoothing:
      return smoothing{};
    case reply_code::ntp_data:
      return with_version<ntp_data>(1);
    case reply_code::ntp_data2:
      return with_version<ntp_data>(2);
    case reply_code::ntp_source_name:
      return ntp_source_name{};
    case reply_code::auth_data:
      return auth_data{};
    case reply_code::select_data:
      return select_data{};
    default:
      return std::nullopt;
  }
}

std::size_t body_size(const reply_body& b) noexcept {
  detail::sizer s;
  std::visit([&](const auto& body) { detail::visit_body(s, body); }, b);
  return s.offset();
}

// Reply codes by the reply_version of a versioned struct; null_code for a version it lacks.
constexpr auto null_code = static_cast<reply_code>(0);

reply_code versioned_code(const client_accesses& c) noexcept {
  return c.reply_version == 2   ? reply_code::client_accesses_by_index2
         : c.reply_version == 3 ? reply_code::client_accesses_by_index3
                                : null_code;
}

reply_code versioned_code(const server_stats& s) noexcept {
  switch (s.reply_version) {
    case 1:
      return reply_code::server_stats;
    case 2:
      return reply_code::server_stats2;
    case 3:
      return reply_code::server_stats3;
    case 4:
      return reply_code::server_stats4;
    default:
      return null_code;
  }
}

reply_code versioned_code(const ntp_data& n) noexcept {
  return n.reply_version == 1   ? reply_code::ntp_data
         : n.reply_version == 2 ? reply_code::ntp_data2
                                : null_code;
}

template <class T>
constexpr reply_code plain_code() noexcept {
  if constexpr (std::is_same_v<T, null_reply>) return reply_code::null;
  if constexpr (std::is_same_v<T, n_sources_reply>) return reply_code::n_sources;
  if constexpr (std::is_same_v<T, source_data>) return reply_code::source_data;
  if constexpr (std::is_same_v<T, tracking>) return reply_code::tracking;
  if constexpr (std::is_same_v<T, sourcestats>) return reply_code::sourcestats;
  if constexpr (std::is_same_v<T, rtc_report>) return reply_code::rtc;
  if constexpr (std::is_same_v<T, manual_timestamp>) return reply_code::manual_timestamp2;
  if constexpr (std::is_same_v<T, manual_list>) return reply_code::manual_list2;
  if constexpr (std::is_same_v<T, activity>) return reply_code::activity;
  if constexpr (std::is_same_v<T, smoothing>) return reply_code::smoothing;
  if constexpr (std::is_same_v<T, ntp_source_name>) return reply_code::ntp_source_name;
  if constexpr (std::is_same_v<T, auth_data>) return reply_code::auth_data;
  if constexpr (std::is_same_v<T, select_data>) return reply_code::select_data;
  return null_code;
}

}  // namespace

result<reply_header> decode_reply_header(std::span<const std::uint8_t> b) {
  if (b.size() < reply_header_size) return errc::truncated;
  reply_header h;
  h.version = b[0];
  h.pkt_type = b[1];
  h.res1 = b[2];
  h.res2 = b[3];
  if (h.pkt_type != pkt_type_reply || h.res1 != 0 || h.res2 != 0) return errc::cmdmon_not_reply;
  h.cmd = static_cast<command>(load_be16(b, 4));
  h.reply = static_cast<reply_code>(load_be16(b, 6));
  h.status = static_cast<cmdmon::status>(load_be16(b, 8));
  h.pad1 = load_be16(b, 10);
  h.pad2 = load_be16(b, 12);
  h.pad3 = load_be16(b, 14);
  h.sequence = load_be32(b, 16);
  h.pad4 = load_be32(b, 20);
  h.pad5 = load_be32(b, 24);
  return h;
}

void encode_reply_header(const reply_header& h, std::span<std::uint8_t> out) noexcept {
  out[0] = h.version;
  out[1] = h.pkt_type;
  out[2] = h.res1;
  out[3] = h.res2;
  store_be16(out, 4, static_cast<std::uint16_t>(h.cmd));
  store_be16(out, 6, static_cast<std::uint16_t>(h.reply));
  store_be16(out, 8, static_cast<std::uint16_t>(h.status));
  store_be16(out, 10, h.pad1);
  store_be16(out, 12, h.pad2);
  store_be16(out, 14, h.pad3);
  store_be32(out, 16, h.sequence);
  store_be32(out, 20, h.pad4);
  store_be32(out, 24, h.pad5);
}

std::size_t reply_length(reply_code r) noexcept {
  const auto body = empty_body(r);
  return body ? reply_header_size + body_size(*body) : 0;
}

result<reply_code> reply_code_of(const reply_body& b) noexcept {
  const reply_code r = std::visit(
      [](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, client_accesses> || std::is_same_v<T, server_stats> ||
                      std::is_same_v<T, ntp_data>) {
          return versioned_code(body);
        } else {
          return plain_code<T>();
        }
      },
      b);
  if (r == null_code) return errc::cmdmon_bad_version;
  return r;
}

result<reply> decode_reply(std::span<const std::uint8_t> b) {
  auto h = decode_reply_header(b);
  if (!h) return h.error();
  const auto code = h->reply;
  if (code != reply_code::null && h->version != protocol_version &&
      h->version != protocol_version_5) {
    return errc::cmdmon_bad_version;
  }
  auto body = empty_body(code);
  if (!body) return is_obsolete(code) ? errc::cmdmon_unsupported_reply : errc::cmdmon_unknown_reply;
  detail::reader r(b.subspan(reply_header_size));
  std::visit([&](auto& s) { detail::visit_body(r, s); }, *body);
  if (!r.ok()) return errc::truncated;
  return reply{*h, std::move(*body)};
}

result<std::vector<std::uint8_t>> encode_reply(const reply& r) {
  const auto code = reply_code_of(r.body);
  if (!code) return code.error();
  if (*code != r.header.reply) return errc::cmdmon_unexpected_reply;
  std::vector<std::uint8_t> out(reply_header_size + body_size(r.body));
  encode_reply_header(r.header, out);
  detail::writer w{std::span(out).subspan(reply_header_size)};
  std::visit([&](const auto& s) { detail::visit_body(w, s); }, r.body);
  return out;
}

std::string_view ntp_source_name::text() const noexcept {
  const auto end = std::find(name.begin(), name.end(), std::uint8_t{0});
  return {reinterpret_cast<const char*>(name.data()), static_cast<std::size_t>(end - name.begin())};
}

bool ntp_source_name::is_valid() const noexcept {
  if (name.back() != 0) return false;
  const auto t = text();
  return std::all_of(t.begin(), t.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

char state_symbol(source_state s) noexcept {
  switch (s) {
    case source_state::selected:
      return '*';
    case source_state::nonselectable:
      return '?';
    case source_state::falseticker:
      return 'x';
    case source_state::jittery:
      return '~';
    case source_state::unselected:
      return '+';
    case source_state::selectable:
      return '-';
  }
  return ' ';
}

char mode_symbol(source_mode m) noexcept {
  switch (m) {
    case source_mode::client:
      return '^';
    case source_mode::peer:
      return '=';
    case source_mode::reference_clock:
      return '#';
  }
  return ' ';
}

}  // namespace ntpkit::proto::cmdmon
