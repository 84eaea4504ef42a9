#include "ntpkit/proto/aead.hpp"

#include <openssl/core_names.h>

#include <array>
#include <climits>
#include <memory>

#include "crypto.hpp"
#include "ntpkit/proto/errc.hpp"

namespace ntpkit::proto {
namespace {

constexpr std::array<aead_info, 3> table{{
    {aead_algorithm::aes_siv_cmac_256, "AEAD_AES_SIV_CMAC_256", 32, 16},
    {aead_algorithm::aes_siv_cmac_384, "AEAD_AES_SIV_CMAC_384", 48, 16},
    {aead_algorithm::aes_siv_cmac_512, "AEAD_AES_SIV_CMAC_512", 64, 16},
}};
// OpenSSL 3 names in table order: the SIV cipher, and the CBC cipher CMAC runs on with K1.
constexpr std::array<const char*, table.size()> siv_names{"AES-128-SIV", "AES-192-SIV",
                                                          "AES-256-SIV"};
constexpr std::array<const char*, table.size()> cmac_ciphers{"AES-128-CBC", "AES-192-CBC",
                                                             "AES-256-CBC"};
// RFC 5297 §7: S2V takes at most 127 components, the plaintext being the last.
constexpr std::size_t max_components = 126;
constexpr std::size_t block_size = 16;
using block = std::array<std::uint8_t, block_size>;

std::optional<std::size_t> index_of(aead_algorithm a) noexcept {
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (table[i].algorithm == a) return i;
  }
  return std::nullopt;
}

// Fetched once per process; EVP_CIPHER and EVP_MAC objects are immutable and shareable.
const EVP_CIPHER* siv_cipher(const detail::libcrypto& c, std::size_t i) {
  static const auto ciphers = [&c] {
    std::array<EVP_CIPHER*, table.size()> out{};
    for (std::size_t k = 0; k < table.size(); ++k) {
      out[k] = c.EVP_CIPHER_fetch(nullptr, siv_names[k], nullptr);
    }
    return out;
  }();
  return ciphers[i];
}

EVP_MAC* cmac_algorithm(const detail::libcrypto& c) {
  static EVP_MAC* const mac = c.EVP_MAC_fetch(nullptr, "CMAC", nullptr);
  return mac;
}

// OpenSSL reads a NULL input of an update as "finish"; an empty component must not be one.
const unsigned char* bytes_of(std::span<const std::uint8_t> s) noexcept {
  static const unsigned char none = 0;
  return s.empty() ? &none : s.data();
}

// RFC 5297 §2.3: multiplication by x in GF(2^128), i.e. a left shift and, if the bit shifted
// out was set, xor of 0x87 into the last byte.
block dbl(const block& in) noexcept {
  block out{};
  for (std::size_t i = 0; i < block_size; ++i) {
    const unsigned next = i + 1 < block_size ? in[i + 1] >> 7 : 0;
    out[i] = static_cast<std::uint8_t>((in[i] << 1) | next);
  }
  if (in[0] & 0x80) out[block_size - 1] ^= 0x87;
  return out;
}

result<block> cmac(const detail::libcrypto& c, std::size_t i, std::span<const std::uint8_t> key,
                   std::span<const std::uint8_t> message) {
  EVP_MAC* mac = cmac_algorithm(c);
  if (mac == nullptr) return errc::crypto_failure;
  std::unique_ptr<EVP_MAC_CTX, decltype(c.EVP_MAC_CTX_free)> ctx(c.EVP_MAC_CTX_new(mac),
                                                                 c.EVP_MAC_CTX_free);
  OSSL_PARAM params[] = {c.OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER,
                                                            const_cast<char*>(cmac_ciphers[i]), 0),
                         c.OSSL_PARAM_construct_end()};
  block out{};
  std::size_t length = 0;
  if (!ctx || c.EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1 ||
      (!message.empty() && c.EVP_MAC_update(ctx.get(), message.data(), message.size()) != 1) ||
      c.EVP_MAC_final(ctx.get(), out.data(), &length, out.size()) != 1 || length != block_size) {
    return errc::crypto_failure;
  }
  return out;
}

// RFC 5297 §2.4 S2V(K1, S1, ..., Sn-1, Sn) for an empty Sn (the plaintext): Sn is shorter than
// a block, so T = dbl(D) xor pad(Sn), and pad of nothing is 0x80 followed by zeros.
result<block> s2v_of_empty(const detail::libcrypto& c, std::size_t i,
                           std::span<const std::uint8_t> k1,
                           std::span<const std::span<const std::uint8_t>> components) {
  auto d = cmac(c, i, k1, block{});
  if (!d) return d.error();
  for (const auto& s : components) {
    auto m = cmac(c, i, k1, s);
    if (!m) return m.error();
    *d = dbl(*d);
    for (std::size_t k = 0; k < block_size; ++k) (*d)[k] ^= (*m)[k];
  }
  block t = dbl(*d);
  t[0] ^= 0x80;
  return cmac(c, i, k1, t);
}

using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, void (*)(EVP_CIPHER_CTX*)>;

// Feeds the components as associated data to an initialised SIV context.
bool add_components(const detail::libcrypto& c, EVP_CIPHER_CTX* ctx, bool encrypt,
                    std::span<const std::span<const std::uint8_t>> components) {
  for (const auto& s : components) {
    int n = 0;
    const int size = static_cast<int>(s.size());
    const int ok = encrypt ? c.EVP_EncryptUpdate(ctx, nullptr, &n, bytes_of(s), size)
                           : c.EVP_DecryptUpdate(ctx, nullptr, &n, bytes_of(s), size);
    if (ok != 1) return false;
  }
  return true;
}

// Checks what every operation checks; the index of the algorithm when all is well.
result<std::size_t> prepare(aead_algorithm a, std::span<const std::uint8_t> key,
                            std::span<const std::span<const std::uint8_t>> components,
                            std::size_t data_size) {
  const auto i = index_of(a);
  if (!i) return errc::nts_unsupported_aead;
  if (key.size() != table[*i].key_size) return errc::nts_bad_key;
  if (components.size() > max_components || data_size > INT_MAX / 2) {
    return errc::buffer_too_small;
  }
  for (const auto& s : components) {
    if (s.size() > INT_MAX / 2) return errc::buffer_too_small;
  }
  if (detail::crypto() == nullptr) return errc::crypto_failure;
  return *i;
}

}  // namespace

std::span<const aead_info> aead_algorithms() noexcept { return table; }

std::optional<aead_algorithm> find_aead(std::uint16_t id) noexcept {
  const auto i = index_of(static_cast<aead_algorithm>(id));
  if (!i) return std::nullopt;
  return table[*i].algorithm;
}

const aead_info& info(aead_algorithm a) noexcept {
  const auto i = index_of(a);
  assert(i.has_value());
  return table[i.value_or(0)];
}

std::string_view to_string(aead_algorithm a) noexcept {
  const auto i = index_of(a);
  return i ? table[*i].name : std::string_view{"unknown"};
}

std::size_t aead_key_size(aead_algorithm a) noexcept {
  const auto i = index_of(a);
  return i ? table[*i].key_size : 0;
}

result<std::vector<std::uint8_t>> siv_encrypt(
    aead_algorithm a, std::span<const std::uint8_t> key,
    std::span<const std::span<const std::uint8_t>> components,
    std::span<const std::uint8_t> plaintext) {
  auto i = prepare(a, key, components, plaintext.size());
  if (!i) return i.error();
  const auto& c = *detail::crypto();
  std::vector<std::uint8_t> out(block_size + plaintext.size());
  if (plaintext.empty()) {
    auto v = s2v_of_empty(c, *i, key.first(key.size() / 2), components);
    if (!v) return v.error();
    std::copy(v->begin(), v->end(), out.begin());
    return out;
  }
  const EVP_CIPHER* cipher = siv_cipher(c, *i);
  cipher_ctx ctx(c.EVP_CIPHER_CTX_new(), c.EVP_CIPHER_CTX_free);
  int n = 0;
  int final_n = 0;
  if (cipher == nullptr || !ctx ||
      c.EVP_EncryptInit_ex2(ctx.get(), cipher, key.data(), nullptr, nullptr) != 1 ||
      !add_components(c, ctx.get(), true, components) ||
      c.EVP_EncryptUpdate(ctx.get(), out.data() + block_size, &n, plaintext.data(),
                          static_cast<int>(plaintext.size())) != 1 ||
      static_cast<std::size_t>(n) != plaintext.size() ||
      c.EVP_EncryptFinal_ex(ctx.get(), out.data() + block_size + n, &final_n) != 1 ||
      c.EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, block_size, out.data()) != 1) {
    return errc::crypto_failure;
  }
  return out;
}

result<std::vector<std::uint8_t>> siv_decrypt(
    aead_algorithm a, std::span<const std::uint8_t> key,
    std::span<const std::span<const std::uint8_t>> components,
    std::span<const std::uint8_t> ciphertext) {
  auto i = prepare(a, key, components, ciphertext.size());
  if (!i) return i.error();
  if (ciphertext.size() < block_size) return errc::nts_aead_failure;
  const auto& c = *detail::crypto();
  const auto tag = ciphertext.first(block_size);
  const auto body = ciphertext.subspan(block_size);
  if (body.empty()) {
    auto v = s2v_of_empty(c, *i, key.first(key.size() / 2), components);
    if (!v) return v.error();
    if (!detail::constant_time_equal(v->data(), tag.data(), block_size)) {
      return errc::nts_aead_failure;
    }
    return std::vector<std::uint8_t>{};
  }
  const EVP_CIPHER* cipher = siv_cipher(c, *i);
  cipher_ctx ctx(c.EVP_CIPHER_CTX_new(), c.EVP_CIPHER_CTX_free);
  if (cipher == nullptr || !ctx ||
      c.EVP_DecryptInit_ex2(ctx.get(), cipher, key.data(), nullptr, nullptr) != 1 ||
      c.EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, block_size,
                            const_cast<std::uint8_t*>(tag.data())) != 1 ||
      !add_components(c, ctx.get(), false, components)) {
    return errc::crypto_failure;
  }
  std::vector<std::uint8_t> out(body.size());
  int n = 0;
  // SIV decrypts, recomputes V over the result and compares it with the tag (RFC 5297 §2.7);
  // a mismatch fails the update and leaves the output wiped.
  if (c.EVP_DecryptUpdate(ctx.get(), out.data(), &n, body.data(), static_cast<int>(body.size())) !=
          1 ||
      static_cast<std::size_t>(n) != body.size()) {
    detail::cleanse(out.data(), out.size());
    return errc::nts_aead_failure;
  }
  return out;
}

result<std::vector<std::uint8_t>> aead_seal(aead_algorithm a, std::span<const std::uint8_t> key,
                                            std::span<const std::uint8_t> nonce,
                                            std::span<const std::uint8_t> associated_data,
                                            std::span<const std::uint8_t> plaintext) {
  const std::array<std::span<const std::uint8_t>, 2> components{associated_data, nonce};
  return siv_encrypt(a, key, std::span(components).first(nonce.empty() ? 1 : 2), plaintext);
}

result<std::vector<std::uint8_t>> aead_open(aead_algorithm a, std::span<const std::uint8_t> key,
                                            std::span<const std::uint8_t> nonce,
                                            std::span<const std::uint8_t> associated_data,
                                            std::span<const std::uint8_t> ciphertext) {
  const std::array<std::span<const std::uint8_t>, 2> components{associated_data, nonce};
  return siv_decrypt(a, key, std::span(components).first(nonce.empty() ? 1 : 2), ciphertext);
}

}  // namespace ntpkit::proto
