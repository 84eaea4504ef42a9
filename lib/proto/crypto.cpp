#include "crypto.hpp"

#include <dlfcn.h>
#include <openssl/opensslv.h>

#include <cstdio>
#include <cstring>

namespace ntpkit::proto::detail {
namespace {

#define NTPKIT_STRINGIFY2(x) #x
#define NTPKIT_STRINGIFY(x) NTPKIT_STRINGIFY2(x)
// The SONAME of the major version compiled against (OpenSSL keeps its ABI within one).
constexpr const char* soname = "libcrypto.so." NTPKIT_STRINGIFY(OPENSSL_VERSION_MAJOR);

// Why load() failed; written once, by load() under crypto()'s static initialisation.
char load_error[256] = "";

void set_load_error(const char* a, const char* b = "", const char* c = "") noexcept {
  std::snprintf(load_error, sizeof load_error, "%s%s%s", a, b, c);
}

template <typename F>
bool bind(void* handle, F& into, const char* name) {
  into = reinterpret_cast<F>(::dlsym(handle, name));
  if (into == nullptr) set_load_error(soname, ": no function ", name);
  return into != nullptr;
}

const libcrypto* load() noexcept {
  static libcrypto table;
  // RTLD_LOCAL: libcrypto's symbols stay out of the global scope; never closed.
  void* handle = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    set_load_error(why != nullptr ? why : soname, why != nullptr ? "" : ": cannot be loaded");
    return nullptr;
  }
#define NTPKIT_BIND(name) bind(handle, table.name, #name)
  const bool all = NTPKIT_BIND(EVP_MD_fetch) && NTPKIT_BIND(EVP_MD_free) &&
                   NTPKIT_BIND(EVP_MD_CTX_new) &&
                   NTPKIT_BIND(EVP_MD_CTX_free) && NTPKIT_BIND(EVP_DigestInit_ex2) &&
                   NTPKIT_BIND(EVP_DigestUpdate) && NTPKIT_BIND(EVP_DigestFinal_ex) &&
                   NTPKIT_BIND(EVP_MAC_fetch) && NTPKIT_BIND(EVP_MAC_CTX_new) &&
                   NTPKIT_BIND(EVP_MAC_CTX_free) && NTPKIT_BIND(EVP_MAC_init) &&
                   NTPKIT_BIND(EVP_MAC_update) && NTPKIT_BIND(EVP_MAC_final) &&
                   NTPKIT_BIND(OSSL_PARAM_construct_utf8_string) &&
                   NTPKIT_BIND(OSSL_PARAM_construct_end);
#undef NTPKIT_BIND
  return all ? &table : nullptr;
}

}  // namespace

const libcrypto* crypto() noexcept {
  static const libcrypto* const loaded = load();
  return loaded;
}

const char* crypto_load_error() noexcept {
  return crypto() == nullptr ? load_error : "";
}

bool constant_time_equal(const void* a, const void* b, std::size_t n) noexcept {
  const volatile unsigned char* x = static_cast<const volatile unsigned char*>(a);
  const volatile unsigned char* y = static_cast<const volatile unsigned char*>(b);
  unsigned char differ = 0;
  for (std::size_t i = 0; i < n; ++i) differ |= static_cast<unsigned char>(x[i] ^ y[i]);
  return differ == 0;
}

void cleanse(void* p, std::size_t n) noexcept {
  if (n != 0) ::explicit_bzero(p, n);
}

}  // namespace ntpkit::proto::detail
