#include "ntpkit/proto/nts_ke.hpp"

#include <algorithm>
#include <cassert>

#include "ntpkit/proto/bytes.hpp"
#include "ntpkit/proto/errc.hpp"

namespace ntpkit::proto {
namespace {

constexpr std::uint16_t critical_bit = 0x8000;
constexpr std::size_t record_header_size = 4;

bool is(const nts_ke_record& r, nts_ke_record_type t) noexcept {
  return r.type == static_cast<std::uint16_t>(t);
}

// A list of 16-bit values (Next Protocol, AEAD): an even body length.
result<std::vector<std::uint16_t>> u16_list(const nts_ke_record& r) {
  if (r.body.size() % 2 != 0) return errc::nts_ke_bad_record;
  std::vector<std::uint16_t> out;
  for (std::size_t i = 0; i < r.body.size(); i += 2) out.push_back(load_be16(r.body, i));
  return out;
}

// One 16-bit value (Error, Warning, Port): exactly 2 body bytes.
result<std::uint16_t> u16_value(const nts_ke_record& r) {
  if (r.body.size() != 2) return errc::nts_ke_bad_record;
  return load_be16(r.body, 0);
}

// RFC 8915 §4.1.7: an ASCII host name, IPv4 or IPv6 address; we take printable ASCII without
// spaces, as chrony does, so that the name can be shown and resolved as it stands.
bool is_server_name(std::span<const std::uint8_t> body) noexcept {
  return !body.empty() &&
         std::all_of(body.begin(), body.end(), [](std::uint8_t c) { return c > 0x20 && c < 0x7f; });
}

template <class T>
result<void> take_once(std::optional<T>& into, result<T> value) {
  if (!value) return value.error();
  if (into) return errc::nts_ke_duplicate_record;
  into = std::move(*value);
  return {};
}

result<void> take_value(nts_ke_response& r, const nts_ke_record& rec) {
  using t = nts_ke_record_type;
  switch (static_cast<t>(rec.type)) {
    case t::end_of_message:
      if (!rec.body.empty()) return errc::nts_ke_bad_record;
      return {};
    case t::next_protocol:
      // RFC 8915 §4.1.2: the critical bit MUST be set on Next Protocol records.
      if (!rec.critical) return errc::nts_ke_bad_record;
      return take_once(r.next_protocols, u16_list(rec));
    case t::error:
    case t::warning: {
      auto code = u16_value(rec);
      if (!code) return code.error();
      (is(rec, t::error) ? r.errors : r.warnings).push_back(*code);
      return {};
    }
    case t::aead_algorithm:
      return take_once(r.aead_ids, u16_list(rec));
    case t::new_cookie:
      if (rec.body.empty()) return errc::nts_ke_bad_record;
      r.cookies.push_back(rec.body);
      return {};
    case t::server:
      if (!is_server_name(rec.body)) return errc::nts_ke_bad_record;
      return take_once(r.server,
                       result<std::string>(std::string(rec.body.begin(), rec.body.end())));
    case t::port:
      return take_once(r.port, u16_value(rec));
  }
  // RFC 8915 §4: an unknown record is skipped unless it is critical.
  if (rec.critical) return errc::nts_ke_unknown_critical_record;
  return {};
}

}  // namespace

std::string_view nts_ke_record_name(std::uint16_t type) noexcept {
  using t = nts_ke_record_type;
  switch (static_cast<t>(type)) {
    case t::end_of_message:
      return "end_of_message";
    case t::next_protocol:
      return "next_protocol";
    case t::error:
      return "error";
    case t::warning:
      return "warning";
    case t::aead_algorithm:
      return "aead_algorithm";
    case t::new_cookie:
      return "new_cookie";
    case t::server:
      return "server";
    case t::port:
      return "port";
  }
  return "";
}

void append_nts_ke_record(std::vector<std::uint8_t>& out, const nts_ke_record& r) {
  assert(r.body.size() <= 0xffff);
  const std::size_t at = out.size();
  out.resize(at + record_header_size);
  const auto first =
      static_cast<std::uint16_t>((r.type & 0x7fff) | (r.critical ? critical_bit : 0));
  store_be16(out, at, first);
  store_be16(out, at + 2, static_cast<std::uint16_t>(r.body.size()));
  out.insert(out.end(), r.body.begin(), r.body.end());
}

nts_ke_record make_nts_ke_u16_record(bool critical, nts_ke_record_type type,
                                     std::span<const std::uint16_t> values) {
  nts_ke_record r{critical, static_cast<std::uint16_t>(type), {}};
  r.body.resize(values.size() * 2);
  for (std::size_t i = 0; i < values.size(); ++i) store_be16(r.body, 2 * i, values[i]);
  return r;
}

std::vector<std::uint8_t> make_nts_ke_request(std::span<const aead_algorithm> offered) {
  std::vector<std::uint8_t> out;
  const std::uint16_t ntpv4 = nts_next_protocol_ntpv4;
  append_nts_ke_record(
      out, make_nts_ke_u16_record(true, nts_ke_record_type::next_protocol, std::span(&ntpv4, 1)));
  std::vector<std::uint16_t> ids;
  for (auto a : offered) ids.push_back(static_cast<std::uint16_t>(a));
  append_nts_ke_record(out, make_nts_ke_u16_record(true, nts_ke_record_type::aead_algorithm, ids));
  append_nts_ke_record(out,
                       {true, static_cast<std::uint16_t>(nts_ke_record_type::end_of_message), {}});
  return out;
}

result<void> nts_ke_decoder::feed(std::span<const std::uint8_t> bytes) {
  if (error_) return error_;
  if (bytes.empty()) return {};
  fed_ += bytes.size();
  if (ended_) {
    error_ = errc::nts_ke_record_after_end;
  } else if (fed_ > limits_.max_message) {
    error_ = errc::nts_ke_message_too_long;
  } else {
    // Drop what was returned before growing the buffer, so that it never holds more than one
    // message's worth.
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(start_));
    start_ = 0;
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
    return {};
  }
  return error_;
}

result<std::optional<nts_ke_record>> nts_ke_decoder::next() {
  if (error_) return error_;
  if (ended_) return std::optional<nts_ke_record>{};
  const std::span<const std::uint8_t> rest = std::span(buffer_).subspan(start_);
  if (rest.size() < record_header_size) return std::optional<nts_ke_record>{};
  const std::uint16_t first = load_be16(rest, 0);
  const std::size_t length = load_be16(rest, 2);
  if (length > limits_.max_record_body) {
    error_ = errc::nts_ke_record_too_long;
    return error_;
  }
  if (rest.size() < record_header_size + length) return std::optional<nts_ke_record>{};
  const auto body = rest.subspan(record_header_size, length);
  nts_ke_record r{(first & critical_bit) != 0,
                  static_cast<std::uint16_t>(first & 0x7fff),
                  {body.begin(), body.end()}};
  start_ += record_header_size + length;
  if (r.type == static_cast<std::uint16_t>(nts_ke_record_type::end_of_message)) {
    ended_ = true;
    if (start_ != buffer_.size()) error_ = errc::nts_ke_record_after_end;
  }
  return std::optional<nts_ke_record>(std::move(r));
}

result<void> nts_ke_decoder::finish() const {
  if (error_) return error_;
  if (ended_) return {};
  if (start_ != buffer_.size()) return errc::truncated;
  return errc::nts_ke_missing_end_of_message;
}

result<void> take_nts_ke_record(nts_ke_response& r, const nts_ke_record& record) {
  r.records.push_back(record);
  return take_value(r, record);
}

result<void> check_nts_ke_response(const nts_ke_response& r,
                                   std::span<const aead_algorithm> offered) {
  if (!r.errors.empty()) return errc::nts_ke_error_record;
  if (!r.warnings.empty()) return errc::nts_ke_warning_record;
  if (!r.next_protocols || r.next_protocols->empty()) return errc::nts_ke_no_next_protocol;
  if (r.next_protocol() != nts_next_protocol_ntpv4) return errc::nts_ke_next_protocol_not_offered;
  if (!r.aead_ids || r.aead_ids->empty()) return errc::nts_ke_no_common_aead;
  const auto id = r.aead_id();
  const bool ours = id && std::any_of(offered.begin(), offered.end(), [&](aead_algorithm a) {
                      return static_cast<std::uint16_t>(a) == *id;
                    });
  if (!ours || !r.aead()) return errc::nts_ke_aead_not_offered;
  if (r.cookies.empty()) return errc::nts_ke_no_cookies;
  return {};
}

std::array<std::uint8_t, 5> nts_exporter_context(std::uint16_t next_protocol, std::uint16_t aead_id,
                                                 nts_key_direction direction) noexcept {
  std::array<std::uint8_t, 5> c{};
  store_be16(c, 0, next_protocol);
  store_be16(c, 2, aead_id);
  c[4] = static_cast<std::uint8_t>(direction);
  return c;
}

}  // namespace ntpkit::proto
