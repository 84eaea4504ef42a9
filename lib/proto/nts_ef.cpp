#include "ntpkit/proto/nts_ef.hpp"

#include <algorithm>
#include <cassert>

#include "crypto.hpp"
#include "ntpkit/proto/bytes.hpp"
#include "ntpkit/proto/errc.hpp"

namespace ntpkit::proto {
namespace {

// RFC 7822 §3: a field is at least 16 bytes, a multiple of 4, type and length included.
constexpr std::size_t min_field_size = 16;
constexpr std::size_t field_header_size = 4;
// RFC 8915 §5.6: the nonce with its padding and the additional padding is at least this long.
constexpr std::size_t min_padded_nonce = 16;

constexpr std::size_t padded(std::size_t n) noexcept { return (n + 3) & ~std::size_t{3}; }

constexpr std::uint16_t type_of(nts_ef_type t) noexcept { return static_cast<std::uint16_t>(t); }

void append_field(std::vector<std::uint8_t>& out, std::uint16_t type,
                  std::span<const std::uint8_t> value, std::size_t value_size) {
  assert(value_size >= value.size() && field_header_size + value_size <= 0xffff);
  const std::size_t at = out.size();
  out.resize(at + field_header_size + value_size, 0);
  store_be16(out, at, type);
  store_be16(out, at + 2, static_cast<std::uint16_t>(field_header_size + value_size));
  std::copy(value.begin(), value.end(), out.begin() + static_cast<std::ptrdiff_t>(at + 4));
}

// The fields of a response and where each starts, so that the associated data (everything
// before the authenticator) is known exactly.
struct located_field {
  const extension_field* field;
  std::size_t at;
};

std::vector<located_field> locate(const packet& p) {
  std::vector<located_field> out;
  std::size_t at = header_size;
  for (const auto& f : p.extensions) {
    out.push_back({&f, at});
    at += field_header_size + f.value.size();
  }
  return out;
}

result<void> check_unique_id(const std::vector<located_field>& fields,
                             std::span<const std::uint8_t> unique_id) {
  const auto uid = std::find_if(fields.begin(), fields.end(), [](const located_field& f) {
    return f.field->type == type_of(nts_ef_type::unique_identifier);
  });
  if (uid == fields.end()) return errc::nts_unique_id_missing;
  const auto& v = uid->field->value;
  if (v.size() != unique_id.size() ||
      !detail::constant_time_equal(v.data(), unique_id.data(), v.size())) {
    return errc::nts_unique_id_mismatch;
  }
  return {};
}

result<nts_verified_response> read_plaintext(std::span<const std::uint8_t> plaintext) {
  auto inner = decode_extension_fields(plaintext);
  if (!inner) return inner.error();
  nts_verified_response out;
  out.encrypted_fields = inner->size();
  for (auto& f : *inner) {
    if (f.type == type_of(nts_ef_type::nts_cookie)) out.cookies.push_back(std::move(f.value));
  }
  return out;
}

}  // namespace

std::vector<std::uint8_t> serialize_nts_authenticator(std::span<const std::uint8_t> nonce,
                                                      std::span<const std::uint8_t> ciphertext) {
  assert(nonce.size() <= 0xffff && ciphertext.size() <= 0xffff);
  const std::size_t nonce_part = std::max(padded(nonce.size()), min_padded_nonce);
  std::vector<std::uint8_t> body(4 + nonce_part + padded(ciphertext.size()), 0);
  store_be16(body, 0, static_cast<std::uint16_t>(nonce.size()));
  store_be16(body, 2, static_cast<std::uint16_t>(ciphertext.size()));
  std::copy(nonce.begin(), nonce.end(), body.begin() + 4);
  // The additional padding of a short nonce goes after the padded ciphertext, not between
  // nonce and ciphertext: the ciphertext starts right after the nonce's own padding.
  const auto c_at = 4 + padded(nonce.size());
  std::copy(ciphertext.begin(), ciphertext.end(), body.begin() + static_cast<std::ptrdiff_t>(c_at));
  return body;
}

result<nts_authenticator> parse_nts_authenticator(std::span<const std::uint8_t> body) {
  if (body.size() < 4) return errc::nts_bad_authenticator;
  const std::size_t nonce_length = load_be16(body, 0);
  const std::size_t ciphertext_length = load_be16(body, 2);
  const std::size_t used = 4 + padded(nonce_length) + padded(ciphertext_length);
  if (nonce_length == 0 || used > body.size()) return errc::nts_bad_authenticator;
  const std::size_t additional = body.size() - used;
  if (padded(nonce_length) + additional < min_padded_nonce) return errc::nts_bad_authenticator;
  nts_authenticator a;
  const auto nonce = body.subspan(4, nonce_length);
  const auto ciphertext = body.subspan(4 + padded(nonce_length), ciphertext_length);
  a.nonce.assign(nonce.begin(), nonce.end());
  a.ciphertext.assign(ciphertext.begin(), ciphertext.end());
  a.additional_padding = additional;
  return a;
}

std::vector<std::uint8_t> encode_extension_fields(std::span<const extension_field> fields) {
  std::vector<std::uint8_t> out;
  for (const auto& f : fields) append_field(out, f.type, f.value, f.value.size());
  return out;
}

result<std::vector<extension_field>> decode_extension_fields(std::span<const std::uint8_t> bytes) {
  std::vector<extension_field> out;
  std::size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < field_header_size) return errc::nts_bad_encrypted_field;
    const std::size_t length = load_be16(bytes, at + 2);
    if (length < min_field_size || length % 4 != 0 || length > bytes.size() - at) {
      return errc::nts_bad_encrypted_field;
    }
    const auto value = bytes.subspan(at + field_header_size, length - field_header_size);
    out.push_back({load_be16(bytes, at), {value.begin(), value.end()}});
    at += length;
  }
  return out;
}

std::size_t nts_cookie_field_value_size(std::size_t cookie_size) noexcept {
  return std::max(padded(cookie_size), min_field_size - field_header_size);
}

result<void> append_nts_authenticator(std::vector<std::uint8_t>& datagram, aead_algorithm aead,
                                      std::span<const std::uint8_t> key,
                                      std::span<const std::uint8_t> nonce,
                                      std::span<const std::uint8_t> plaintext) {
  auto ciphertext = aead_seal(aead, key, nonce, datagram, plaintext);
  if (!ciphertext) return ciphertext.error();
  if (nonce.size() > 0xffff || ciphertext->size() > 0xffff) return errc::buffer_too_small;
  const auto body = serialize_nts_authenticator(nonce, *ciphertext);
  if (field_header_size + body.size() > 0xffff) return errc::buffer_too_small;
  append_field(datagram, type_of(nts_ef_type::nts_authenticator), body, body.size());
  return {};
}

result<void> append_nts_request(std::vector<std::uint8_t>& datagram,
                                const nts_request_fields& fields, const nts_keys& keys) {
  if (datagram.size() < header_size) return errc::truncated;
  if (fields.cookie.empty() || fields.unique_id.size() < nts_unique_id_size ||
      fields.nonce.empty() || fields.unique_id.size() > 0xff00 || fields.cookie.size() > 0xff00) {
    return errc::nts_bad_authenticator;
  }
  const std::size_t size = datagram.size();
  append_field(datagram, type_of(nts_ef_type::unique_identifier), fields.unique_id,
               padded(fields.unique_id.size()));
  const std::size_t cookie_value = nts_cookie_field_value_size(fields.cookie.size());
  append_field(datagram, type_of(nts_ef_type::nts_cookie), fields.cookie, cookie_value);
  // RFC 8915 §5.5: a placeholder is as long as the cookie field, so that the response (which
  // carries one new cookie per cookie and placeholder) is no longer than the request.
  for (unsigned i = 0; i < fields.placeholders; ++i) {
    append_field(datagram, type_of(nts_ef_type::nts_cookie_placeholder), {}, cookie_value);
  }
  if (auto sealed = append_nts_authenticator(datagram, keys.aead, keys.c2s, fields.nonce, {});
      !sealed) {
    datagram.resize(size);
    return sealed.error();
  }
  return {};
}

result<nts_verified_response> verify_nts_response(std::span<const std::uint8_t> datagram,
                                                  std::span<const std::uint8_t> unique_id,
                                                  const nts_keys& keys) {
  auto p = parse_packet(datagram);
  if (!p) return p.error();
  const auto fields = locate(*p);
  if (auto uid = check_unique_id(fields, unique_id); !uid) return uid.error();
  const auto auth = std::find_if(fields.begin(), fields.end(), [](const located_field& f) {
    return f.field->type == type_of(nts_ef_type::nts_authenticator);
  });
  if (auth == fields.end()) return errc::nts_authenticator_missing;
  if (auth + 1 != fields.end() || p->mac) return errc::nts_authenticator_not_last;
  auto a = parse_nts_authenticator(auth->field->value);
  if (!a) return a.error();
  auto plaintext =
      aead_open(keys.aead, keys.s2c, a->nonce, datagram.first(auth->at), a->ciphertext);
  if (!plaintext) return plaintext.error();
  auto out = read_plaintext(*plaintext);
  if (!out) return out.error();
  out->plaintext_fields =
      static_cast<std::size_t>(std::count_if(fields.begin(), auth, [](const located_field& f) {
        return f.field->type != type_of(nts_ef_type::unique_identifier);
      }));
  return out;
}

bool is_nts_nak(const packet& reply, std::span<const std::uint8_t> unique_id) noexcept {
  if (reply.stratum != 0 || reply.refid != nts_nak_code) return false;
  bool uid_matches = false;
  for (const auto& f : reply.extensions) {
    if (f.type == type_of(nts_ef_type::nts_authenticator)) return false;
    if (f.type == type_of(nts_ef_type::unique_identifier)) {
      uid_matches = f.value.size() == unique_id.size() &&
                    std::equal(f.value.begin(), f.value.end(), unique_id.begin());
    }
  }
  return uid_matches;
}

}  // namespace ntpkit::proto
