// chrony cmdmon requests (candm.h's CMD_Request) and their padded lengths (pktlength.c).

#include <algorithm>
#include <array>
#include <cstdint>

#include "cmdmon_fields.hpp"
#include "ntpkit/proto/bytes.hpp"
#include "ntpkit/proto/cmdmon.hpp"
#include "ntpkit/proto/errc.hpp"

namespace ntpkit::proto::cmdmon {
namespace {

// What follows the header of each supported request.
enum class data_kind { none, index, address, clients2, clients3, unsupported };

data_kind kind_of(command c) noexcept {
  switch (c) {
    case command::null:
    case command::n_sources:
    case command::tracking:
    case command::rtcreport:
    case command::manual_list:
    case command::activity:
    case command::smoothing:
    case command::server_stats:
      return data_kind::none;
    case command::source_data:
    case command::sourcestats:
    case command::select_data:
      return data_kind::index;
    case command::ntp_data:
    case command::ntp_source_name:
    case command::auth_data:
      return data_kind::address;
    case command::client_accesses_by_index2:
      return data_kind::clients2;
    case command::client_accesses_by_index3:
      return data_kind::clients3;
    default:
      return data_kind::unsupported;
  }
}

// REQ_Source_Data / REQ_Sourcestats / REQ_SelectData: index (u32); REQ_NTPData /
// REQ_NTPSourceName / REQ_AuthData: ip_addr (IP); REQ_ClientAccessesByIndex: first_index,
// n_clients (u32 each), and since chrony 4.0 (..3) min_hits, reset (u32 each).
template <class V, class R>
void visit_data(V& v, R& r, data_kind k) {
  switch (k) {
    case data_kind::index:
      v.u32(r.index);
      break;
    case data_kind::address:
      v.ip(r.address);
      break;
    case data_kind::clients2:
    case data_kind::clients3:
      v.u32(r.first_index);
      v.u32(r.n_clients);
      if (k == data_kind::clients3) {
        v.u32(r.min_hits);
        v.u32(r.reset);
      }
      break;
    case data_kind::none:
    case data_kind::unsupported:
      break;
  }
}

std::size_t data_size(data_kind k) noexcept {
  detail::sizer s;
  const request r;
  visit_data(s, r, k);
  return s.offset();
}

constexpr std::array replies_null{reply_code::null};
constexpr std::array replies_n_sources{reply_code::n_sources};
constexpr std::array replies_source_data{reply_code::source_data};
constexpr std::array replies_tracking{reply_code::tracking};
constexpr std::array replies_sourcestats{reply_code::sourcestats};
constexpr std::array replies_rtc{reply_code::rtc};
constexpr std::array replies_manual_list{reply_code::manual_list2};
constexpr std::array replies_activity{reply_code::activity};
constexpr std::array replies_smoothing{reply_code::smoothing};
constexpr std::array replies_server_stats{reply_code::server_stats, reply_code::server_stats2,
                                          reply_code::server_stats3, reply_code::server_stats4};
constexpr std::array replies_ntp_data{reply_code::ntp_data, reply_code::ntp_data2};
constexpr std::array replies_source_name{reply_code::ntp_source_name};
constexpr std::array replies_auth_data{reply_code::auth_data};
constexpr std::array replies_clients2{reply_code::client_accesses_by_index2};
constexpr std::array replies_clients3{reply_code::client_accesses_by_index3};
constexpr std::array replies_select_data{reply_code::select_data};

}  // namespace

std::span<const reply_code> replies_to(command c) noexcept {
  switch (c) {
    case command::null:
      return replies_null;
    case command::n_sources:
      return replies_n_sources;
    case command::source_data:
      return replies_source_data;
    case command::tracking:
      return replies_tracking;
    case command::sourcestats:
      return replies_sourcestats;
    case command::rtcreport:
      return replies_rtc;
    case command::manual_list:
      return replies_manual_list;
    case command::activity:
      return replies_activity;
    case command::smoothing:
      return replies_smoothing;
    case command::server_stats:
      return replies_server_stats;
    case command::ntp_data:
      return replies_ntp_data;
    case command::ntp_source_name:
      return replies_source_name;
    case command::auth_data:
      return replies_auth_data;
    case command::client_accesses_by_index2:
      return replies_clients2;
    case command::client_accesses_by_index3:
      return replies_clients3;
    case command::select_data:
      return replies_select_data;
    default:
      return {};
  }
}

bool is_supported(command c) noexcept { return kind_of(c) != data_kind::unsupported; }

std::size_t request_length(command c, std::uint8_t version) noexcept {
  const auto k = kind_of(c);
  if (k == data_kind::unsupported) return 0;
  if (version != protocol_version && version != protocol_version_5) return 0;
  const std::size_t unpadded = request_header_size + data_size(k);
  if (version == protocol_version_5) return unpadded;
  // pktlength.c pads each request to its reply's length, so that chronyd can answer it; over
  // the releases we take the longest reply a command may get.
  std::size_t longest = 0;
  for (const auto r : replies_to(c)) longest = std::max(longest, reply_length(r));
  return std::max(unpadded, longest);
}

result<std::vector<std::uint8_t>> encode_request(const request& r, const request_header& h) {
  if (h.version != protocol_version && h.version != protocol_version_5) {
    return errc::cmdmon_bad_version;
  }
  const auto k = kind_of(r.code);
  if (k == data_kind::unsupported) return errc::cmdmon_unsupported_command;
  std::vector<std::uint8_t> out(request_length(r.code, h.version), 0);
  out[0] = h.version;
  out[1] = pkt_type_request;
  store_be16(out, 4, static_cast<std::uint16_t>(r.code));
  store_be16(out, 6, h.attempt);
  store_be32(out, 8, h.sequence);
  detail::writer w{std::span(out).subspan(request_header_size)};
  visit_data(w, r, k);
  return out;
}

namespace {

// The shortest request some chronyd 3.x..4.8 answers: padded to the shortest of the replies
// the command may get (4.3's SERVER_STATS3 request is 72 bytes, 4.4's 196).
std::size_t shortest_length(command c, std::uint8_t version) noexcept {
  const std::size_t unpadded = request_header_size + data_size(kind_of(c));
  if (version == protocol_version_5) return unpadded;
  std::size_t shortest = SIZE_MAX;
  for (const auto r : replies_to(c)) shortest = std::min(shortest, reply_length(r));
  return std::max(unpadded, shortest);
}

}  // namespace

result<decoded_request> decode_request(std::span<const std::uint8_t> b) {
  if (b.size() < request_header_size) return errc::truncated;
  if (b[1] != pkt_type_request || b[2] != 0 || b[3] != 0) return errc::cmdmon_not_request;
  decoded_request d;
  d.header.version = b[0];
  if (d.header.version != protocol_version && d.header.version != protocol_version_5) {
    return errc::cmdmon_bad_version;
  }
  d.body.code = static_cast<command>(load_be16(b, 4));
  d.header.attempt = load_be16(b, 6);
  d.header.sequence = load_be32(b, 8);
  const auto k = kind_of(d.body.code);
  if (k == data_kind::unsupported) return errc::cmdmon_unsupported_command;
  detail::reader r(b.subspan(request_header_size));
  visit_data(r, d.body, k);
  if (!r.ok()) return errc::truncated;
  if (b.size() < shortest_length(d.body.code, d.header.version)) return errc::cmdmon_bad_length;
  d.length = b.size();
  return d;
}

}  // namespace ntpkit::proto::cmdmon
