#include "ntpkit/proto/mac.hpp"

#include <openssl/core_names.h>

#include <algorithm>
#include <array>
#include <memory>

#include "crypto.hpp"
#include "ntpkit/proto/bytes.hpp"
#include "ntpkit/proto/errc.hpp"

namespace ntpkit::proto {
namespace {

// Classic keys may be as long as a key file line allows: chrony reads lines of up to 2047
// characters and puts no other bound on the key; ntpd's formats stop at 32 bytes.
constexpr std::size_t classic_max_key = 2048;

// One table, as beevik's auth.go: {algorithm, name, min_key, max_key, digest_size, is_cmac}.
constexpr std::array<mac_algorithm_info, 13> table{{
    {mac_algorithm::md5, "MD5", 1, classic_max_key, 16, false},
    {mac_algorithm::sha1, "SHA1", 1, classic_max_key, 20, false},
    {mac_algorithm::sha224, "SHA224", 1, classic_max_key, 28, false},
    {mac_algorithm::sha256, "SHA256", 1, classic_max_key, 32, false},
    {mac_algorithm::sha384, "SHA384", 1, classic_max_key, 48, false},
    {mac_algorithm::sha512, "SHA512", 1, classic_max_key, 64, false},
    {mac_algorithm::sha3_224, "SHA3-224", 1, classic_max_key, 28, false},
    {mac_algorithm::sha3_256, "SHA3-256", 1, classic_max_key, 32, false},
    {mac_algorithm::sha3_384, "SHA3-384", 1, classic_max_key, 48, false},
    {mac_algorithm::sha3_512, "SHA3-512", 1, classic_max_key, 64, false},
    {mac_algorithm::aes128_cmac, "AES128-CMAC", 16, 16, 16, true},
    {mac_algorithm::aes192_cmac, "AES192-CMAC", 24, 24, 16, true},
    {mac_algorithm::aes256_cmac, "AES256-CMAC", 32, 32, 16, true},
}};

// OpenSSL 3 names, in table order: a digest for classic MACs, CMAC's cipher otherwise.
constexpr std::array<const char*, table.size()> evp_names{
    "MD5",      "SHA1",     "SHA224",   "SHA256",      "SHA384",      "SHA512",     "SHA3-224",
    "SHA3-256", "SHA3-384", "SHA3-512", "AES-128-CBC", "AES-192-CBC", "AES-256-CBC"};

constexpr std::size_t index_of(mac_algorithm a) noexcept { return static_cast<std::size_t>(a); }

bool is_valid(mac_algorithm a) noexcept { return index_of(a) < table.size(); }

// Fetched once per process and kept: EVP_MD and EVP_MAC objects are immutable and may be
// shared between threads. `c` is the loaded libcrypto (detail::crypto()).
const EVP_MD* digest_for(const detail::libcrypto& c, mac_algorithm a) {
  static const auto mds = [&c] {
    std::array<EVP_MD*, table.size()> out{};
    for (std::size_t i = 0; i < table.size(); ++i) {
      if (!table[i].is_cmac) out[i] = c.EVP_MD_fetch(nullptr, evp_names[i], nullptr);
    }
    return out;
  }();
  return mds[index_of(a)];
}

EVP_MAC* cmac(const detail::libcrypto& c) {
  static EVP_MAC* const mac = c.EVP_MAC_fetch(nullptr, "CMAC", nullptr);
  return mac;
}

using digest_buffer = std::array<std::uint8_t, max_digest_size>;

// RFC 5905 §7.3 / RFC 8573 §2: digest = H(key ‖ message). Not an HMAC.
result<std::size_t> classic_mac(const symmetric_key& key, std::span<const std::uint8_t> message,
                                digest_buffer& out) {
  const auto* c = detail::crypto();
  if (c == nullptr) return errc::crypto_failure;
  const EVP_MD* md = digest_for(*c, key.algorithm());
  std::unique_ptr<EVP_MD_CTX, decltype(c->EVP_MD_CTX_free)> ctx(c->EVP_MD_CTX_new(),
                                                                c->EVP_MD_CTX_free);
  unsigned int length = 0;
  if (md == nullptr || !ctx || c->EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
      c->EVP_DigestUpdate(ctx.get(), key.secret().data(), key.secret().size()) != 1 ||
      (!message.empty() && c->EVP_DigestUpdate(ctx.get(), message.data(), message.size()) != 1) ||
      c->EVP_DigestFinal_ex(ctx.get(), out.data(), &length) != 1) {
    return errc::crypto_failure;
  }
  return std::size_t{length};
}

// RFC 8573 §4 (RFC 4493 AES-CMAC), over the message only.
result<std::size_t> cmac_mac(const symmetric_key& key, std::span<const std::uint8_t> message,
                             digest_buffer& out) {
  const auto* c = detail::crypto();
  if (c == nullptr) return errc::crypto_failure;
  EVP_MAC* mac = cmac(*c);
  if (mac == nullptr) return errc::crypto_failure;
  std::unique_ptr<EVP_MAC_CTX, decltype(c->EVP_MAC_CTX_free)> ctx(c->EVP_MAC_CTX_new(mac),
                                                                  c->EVP_MAC_CTX_free);
  OSSL_PARAM params[] = {
      c->OSSL_PARAM_construct_utf8_string(
          OSSL_MAC_PARAM_CIPHER, const_cast<char*>(evp_names[index_of(key.algorithm())]), 0),
      c->OSSL_PARAM_construct_end()};
  std::size_t length = 0;
  if (!ctx || c->EVP_MAC_init(ctx.get(), key.secret().data(), key.secret().size(), params) != 1 ||
      (!message.empty() && c->EVP_MAC_update(ctx.get(), message.data(), message.size()) != 1) ||
      c->EVP_MAC_final(ctx.get(), out.data(), &length, out.size()) != 1) {
    return errc::crypto_failure;
  }
  return length;
}

result<std::size_t> compute_into(const symmetric_key& key, std::span<const std::uint8_t> message,
                                 digest_buffer& out) {
  auto n =
      info(key.algorithm()).is_cmac ? cmac_mac(key, message, out) : classic_mac(key, message, out);
  if (n && *n != info(key.algorithm()).digest_size) return errc::crypto_failure;
  return n;
}

// Checks a trailer (key id + digest) against the authenticated bytes before it.
result<digest_length> check_trailer(const symmetric_key& key, std::span<const std::uint8_t> message,
                                    std::span<const std::uint8_t> trailer) {
  if (load_be32(trailer, 0) != key.id()) return errc::key_id_mismatch;
  const auto received = trailer.subspan(4);
  const std::size_t full = info(key.algorithm()).digest_size;
  digest_length which;
  if (received.size() == full) {
    which = digest_length::full;
  } else if (full > truncated_digest_size && received.size() == truncated_digest_size) {
    which = digest_length::truncate_20;
  } else {
    return errc::bad_mac_length;
  }
  digest_buffer expected;
  auto n = compute_into(key, message, expected);
  if (!n) return n.error();
  if (!detail::constant_time_equal(expected.data(), received.data(), received.size())) {
    return errc::mac_mismatch;
  }
  return which;
}

void append_be32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  out.resize(out.size() + 4);
  store_be32(out, out.size() - 4, v);
}

}  // namespace

std::span<const mac_algorithm_info> mac_algorithms() noexcept { return table; }

const mac_algorithm_info& info(mac_algorithm a) noexcept {
  assert(is_valid(a));
  return table[index_of(a)];
}

std::string_view to_string(mac_algorithm a) noexcept {
  return is_valid(a) ? table[index_of(a)].name : std::string_view{"unknown"};
}

std::optional<mac_algorithm> find_mac_algorithm(std::string_view name) noexcept {
  const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
  for (const auto& row : table) {
    if (std::equal(name.begin(), name.end(), row.name.begin(), row.name.end(),
                   [&](char x, char y) { return lower(x) == lower(y); })) {
      return row.algorithm;
    }
  }
  return std::nullopt;
}

symmetric_key::symmetric_key(std::uint32_t id, mac_algorithm algorithm,
                             std::vector<std::uint8_t> secret)
    : id_(id), algorithm_(algorithm), secret_(std::move(secret)) {}

result<symmetric_key> symmetric_key::make(std::uint32_t id, mac_algorithm algorithm,
                                          std::span<const std::uint8_t> secret) {
  if (!is_valid(algorithm)) return errc::unsupported_algorithm;
  const auto& row = info(algorithm);
  if (secret.size() < row.min_key || secret.size() > row.max_key) return errc::bad_key;
  return symmetric_key(id, algorithm, {secret.begin(), secret.end()});
}

symmetric_key::symmetric_key(const symmetric_key& other) = default;

symmetric_key::symmetric_key(symmetric_key&& other) noexcept
    : id_(other.id_), algorithm_(other.algorithm_), secret_(std::move(other.secret_)) {
  other.secret_.clear();
}

symmetric_key& symmetric_key::operator=(const symmetric_key& other) {
  if (this != &other) {
    detail::cleanse(secret_.data(), secret_.size());
    id_ = other.id_;
    algorithm_ = other.algorithm_;
    secret_ = other.secret_;
  }
  return *this;
}

symmetric_key& symmetric_key::operator=(symmetric_key&& other) noexcept {
  if (this != &other) {
    detail::cleanse(secret_.data(), secret_.size());
    id_ = other.id_;
    algorithm_ = other.algorithm_;
    secret_ = std::move(other.secret_);
    other.secret_.clear();
  }
  return *this;
}

symmetric_key::~symmetric_key() { detail::cleanse(secret_.data(), secret_.size()); }

std::string symmetric_key::redacted() const {
  return "key " + std::to_string(id_) + " (" + std::string(to_string(algorithm_)) + ")";
}

bool operator==(const symmetric_key& a, const symmetric_key& b) noexcept {
  return a.id_ == b.id_ && a.algorithm_ == b.algorithm_ && a.secret_.size() == b.secret_.size() &&
         detail::constant_time_equal(a.secret_.data(), b.secret_.data(), a.secret_.size());
}

std::size_t wire_digest_size(mac_algorithm a, digest_length length) noexcept {
  const std::size_t full = info(a).digest_size;
  return length == digest_length::truncate_20 ? std::min(full, truncated_digest_size) : full;
}

std::uint8_t version_for_mac(mac_algorithm a, mac_policy policy, std::uint8_t version) noexcept {
  if (version == 4 && policy.ntpv3_for_long_mac &&
      wire_digest_size(a, policy.length) > truncated_digest_size) {
    return 3;
  }
  return version;
}

std::string crypto_library_error() { return detail::crypto_load_error(); }

result<std::vector<std::uint8_t>> compute_mac(const symmetric_key& key,
                                              std::span<const std::uint8_t> message) {
  digest_buffer out;
  auto n = compute_into(key, message, out);
  if (!n) return n.error();
  return std::vector<std::uint8_t>(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(*n));
}

result<void> append_mac(std::vector<std::uint8_t>& datagram, const symmetric_key& key,
                        mac_policy policy) {
  if (datagram.size() < header_size) return errc::truncated;
  const std::uint8_t first = datagram[0];
  if (datagram.size() == header_size) {
    const auto version = version_for_mac(key.algorithm(), policy, (first >> 3) & 7);
    datagram[0] = static_cast<std::uint8_t>((first & 0xc7) | (version << 3));
  }
  digest_buffer digest;
  auto n = compute_into(key, datagram, digest);
  if (!n) {
    datagram[0] = first;
    return n.error();
  }
  append_be32(datagram, key.id());
  const auto wire = wire_digest_size(key.algorithm(), policy.length);
  datagram.insert(datagram.end(), digest.begin(),
                  digest.begin() + static_cast<std::ptrdiff_t>(wire));
  return {};
}

result<void> sign_packet(packet& p, const symmetric_key& key, mac_policy policy) {
  packet signed_packet = p;
  signed_packet.mac.reset();
  if (signed_packet.extensions.empty()) {
    signed_packet.version = version_for_mac(key.algorithm(), policy, signed_packet.version);
  }
  const auto bytes = serialize_packet(signed_packet);
  digest_buffer digest;
  auto n = compute_into(key, bytes, digest);
  if (!n) return n.error();
  const auto wire = wire_digest_size(key.algorithm(), policy.length);
  signed_packet.mac =
      mac_field{key.id(), {digest.begin(), digest.begin() + static_cast<std::ptrdiff_t>(wire)}};
  p = std::move(signed_packet);
  return {};
}

result<void> append_crypto_nak(std::vector<std::uint8_t>& datagram, std::uint32_t key_id) {
  if (datagram.size() < header_size) return errc::truncated;
  append_be32(datagram, key_id);
  return {};
}

result<digest_length> verify_mac(const symmetric_key& key, std::span<const std::uint8_t> datagram) {
  auto at = mac_offset(datagram);
  if (!at) return at.error();
  const std::size_t trailer = datagram.size() - *at;
  if (trailer == 0) return errc::mac_missing;
  if (trailer == 4) return errc::crypto_nak;
  return check_trailer(key, datagram.first(*at), datagram.subspan(*at));
}

result<digest_length> verify_mac(const symmetric_key& key, const packet& p) {
  if (!p.mac) return errc::mac_missing;
  if (p.mac->is_crypto_nak()) return errc::crypto_nak;
  packet unsigned_packet = p;
  unsigned_packet.mac.reset();
  const auto message = serialize_packet(unsigned_packet);
  std::vector<std::uint8_t> trailer;
  append_be32(trailer, p.mac->key_id);
  trailer.insert(trailer.end(), p.mac->digest.begin(), p.mac->digest.end());
  return check_trailer(key, message, trailer);
}

}  // namespace ntpkit::proto
