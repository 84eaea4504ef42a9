#pragma once

// OpenSSL's libcrypto, loaded when a MAC or an IPv6 refid hash is first needed, not at
// program start. Loading libcrypto.so.3 costs a process about 1.8 ms of CPU (4,000 symbol
// relocations bound at once, 17,000 relative ones) and half a megabyte of dirty pages, which
// a query without a key never needs. Internal to libntpkit: no public header includes it.

#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstddef>

namespace ntpkit::proto::detail {

/// The libcrypto functions libntpkit calls, each with its declared type.
struct libcrypto {
  decltype(&::EVP_MD_fetch) EVP_MD_fetch;
  decltype(&::EVP_MD_free) EVP_MD_free;
  decltype(&::EVP_MD_CTX_new) EVP_MD_CTX_new;
  decltype(&::EVP_MD_CTX_free) EVP_MD_CTX_free;
  decltype(&::EVP_DigestInit_ex2) EVP_DigestInit_ex2;
  decltype(&::EVP_DigestUpdate) EVP_DigestUpdate;
  decltype(&::EVP_DigestFinal_ex) EVP_DigestFinal_ex;
  decltype(&::EVP_MAC_fetch) EVP_MAC_fetch;
  decltype(&::EVP_MAC_CTX_new) EVP_MAC_CTX_new;
  decltype(&::EVP_MAC_CTX_free) EVP_MAC_CTX_free;
  decltype(&::EVP_MAC_init) EVP_MAC_init;
  decltype(&::EVP_MAC_update) EVP_MAC_update;
  decltype(&::EVP_MAC_final) EVP_MAC_final;
  decltype(&::OSSL_PARAM_construct_utf8_string) OSSL_PARAM_construct_utf8_string;
  decltype(&::OSSL_PARAM_construct_end) OSSL_PARAM_construct_end;
};

/// libcrypto, loaded on the first call (thread-safe); nullptr when it cannot be loaded or
/// lacks a function, which callers report as errc::crypto_failure.
const libcrypto* crypto() noexcept;

/// Why crypto() is nullptr (dlerror's text, or the function it lacks); "" when it is not.
const char* crypto_load_error() noexcept;

/// Compares two buffers of `n` bytes in time that depends only on `n` (as CRYPTO_memcmp).
bool constant_time_equal(const void* a, const void* b, std::size_t n) noexcept;

/// Zeroes `n` bytes in a way the compiler may not remove (as OPENSSL_cleanse).
void cleanse(void* p, std::size_t n) noexcept;

}  // namespace ntpkit::proto::detail
