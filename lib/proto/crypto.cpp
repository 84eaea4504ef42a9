#include "crypto.hpp"

#include <dlfcn.h>
#include <openssl/opensslv.h>

#include <cstdio>
#include <cstring>

namespace ntpkit::proto::detail {
namespace {

#define NTPKIT_STRINGIFY2(x) #x
#define NTPKIT_STRINGIFY(x) NTPKIT_STRINGIFY2(x)
// The SONAMEs of the major version compiled against (OpenSSL keeps its ABI within one).
constexpr const char* crypto_soname = "libcrypto.so." NTPKIT_STRINGIFY(OPENSSL_VERSION_MAJOR);
constexpr const char* ssl_soname = "libssl.so." NTPKIT_STRINGIFY(OPENSSL_VERSION_MAJOR);

// Why a load failed; each written once, by its load function under a static initialisation.
char crypto_error[256] = "";
char ssl_error[256] = "";

void set_error(char (&into)[256], const char* a, const char* b = "", const char* c = "") {
  std::snprintf(into, sizeof into, "%s%s%s", a, b, c);
}

// dlopen()s `soname` with its symbols kept out of the global scope (RTLD_LOCAL); never closed.
void* open_library(const char* soname, char (&error)[256]) {
  void* handle = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    set_error(error, why != nullptr ? why : soname, why != nullptr ? "" : ": cannot be loaded");
  }
  return handle;
}

// Binds one function of a table; the first missing one names the failure.
struct binder {
  void* handle;
  const char* soname;
  char (&error)[256];
  bool ok = true;
  template <typename F>
  void operator()(F& into, const char* name) {
    if (!ok) return;
    into = reinterpret_cast<F>(::dlsym(handle, name));
    if (into == nullptr) {
      set_error(error, soname, ": no function ", name);
      ok = false;
    }
  }
};

#define NTPKIT_BIND(name) bind(table.name, #name)

void bind_digests(binder& bind, libcrypto& table) {
  NTPKIT_BIND(EVP_MD_fetch);
  NTPKIT_BIND(EVP_MD_free);
  NTPKIT_BIND(EVP_MD_CTX_new);
  NTPKIT_BIND(EVP_MD_CTX_free);
  NTPKIT_BIND(EVP_DigestInit_ex2);
  NTPKIT_BIND(EVP_DigestUpdate);
  NTPKIT_BIND(EVP_DigestFinal_ex);
  NTPKIT_BIND(EVP_MAC_fetch);
  NTPKIT_BIND(EVP_MAC_CTX_new);
  NTPKIT_BIND(EVP_MAC_CTX_free);
  NTPKIT_BIND(EVP_MAC_init);
  NTPKIT_BIND(EVP_MAC_update);
  NTPKIT_BIND(EVP_MAC_final);
  NTPKIT_BIND(OSSL_PARAM_construct_utf8_string);
  NTPKIT_BIND(OSSL_PARAM_construct_end);
}

void bind_ciphers(binder& bind, libcrypto& table) {
  NTPKIT_BIND(EVP_CIPHER_fetch);
  NTPKIT_BIND(EVP_CIPHER_free);
  NTPKIT_BIND(EVP_CIPHER_CTX_new);
  NTPKIT_BIND(EVP_CIPHER_CTX_free);
  NTPKIT_BIND(EVP_CIPHER_CTX_ctrl);
  NTPKIT_BIND(EVP_EncryptInit_ex2);
  NTPKIT_BIND(EVP_EncryptUpdate);
  NTPKIT_BIND(EVP_EncryptFinal_ex);
  NTPKIT_BIND(EVP_DecryptInit_ex2);
  NTPKIT_BIND(EVP_DecryptUpdate);
}

void bind_certificates(binder& bind, libcrypto& table) {
  NTPKIT_BIND(X509_free);
  NTPKIT_BIND(X509_get_subject_name);
  NTPKIT_BIND(X509_get_issuer_name);
  NTPKIT_BIND(X509_NAME_print_ex);
  NTPKIT_BIND(X509_get0_notBefore);
  NTPKIT_BIND(X509_get0_notAfter);
  NTPKIT_BIND(X509_digest);
  NTPKIT_BIND(X509_VERIFY_PARAM_set1_ip_asc);
  NTPKIT_BIND(X509_verify_cert_error_string);
  NTPKIT_BIND(ASN1_TIME_to_tm);
  NTPKIT_BIND(BIO_new);
  NTPKIT_BIND(BIO_s_mem);
  NTPKIT_BIND(BIO_ctrl);
  NTPKIT_BIND(BIO_free);
  NTPKIT_BIND(ERR_get_error);
  NTPKIT_BIND(ERR_error_string_n);
  NTPKIT_BIND(ERR_clear_error);
}

void bind_tls(binder& bind, libssl& table) {
  NTPKIT_BIND(TLS_client_method);
  NTPKIT_BIND(SSL_CTX_new);
  NTPKIT_BIND(SSL_CTX_free);
  NTPKIT_BIND(SSL_CTX_ctrl);
  NTPKIT_BIND(SSL_CTX_set_options);
  NTPKIT_BIND(SSL_CTX_set_alpn_protos);
  NTPKIT_BIND(SSL_CTX_load_verify_locations);
  NTPKIT_BIND(SSL_CTX_set_default_verify_paths);
  NTPKIT_BIND(SSL_CTX_set_verify);
  NTPKIT_BIND(SSL_new);
  NTPKIT_BIND(SSL_free);
  NTPKIT_BIND(SSL_set_fd);
  NTPKIT_BIND(SSL_ctrl);
  NTPKIT_BIND(SSL_set1_host);
  NTPKIT_BIND(SSL_get0_param);
  NTPKIT_BIND(SSL_connect);
  NTPKIT_BIND(SSL_get_error);
  NTPKIT_BIND(SSL_read);
  NTPKIT_BIND(SSL_write);
  NTPKIT_BIND(SSL_shutdown);
  NTPKIT_BIND(SSL_get_verify_result);
  NTPKIT_BIND(SSL_get1_peer_certificate);
  NTPKIT_BIND(SSL_get_version);
  NTPKIT_BIND(SSL_get_current_cipher);
  NTPKIT_BIND(SSL_CIPHER_get_name);
  NTPKIT_BIND(SSL_get0_alpn_selected);
  NTPKIT_BIND(SSL_export_keying_material);
}

#undef NTPKIT_BIND

const libcrypto* load_crypto() noexcept {
  static libcrypto table;
  void* handle = open_library(crypto_soname, crypto_error);
  if (handle == nullptr) return nullptr;
  binder bind{handle, crypto_soname, crypto_error};
  bind_digests(bind, table);
  bind_ciphers(bind, table);
  bind_certificates(bind, table);
  return bind.ok ? &table : nullptr;
}

const libssl* load_ssl() noexcept {
  static libssl table;
  // libssl needs libcrypto, which its DT_NEEDED entry brings in: the same object as crypto()'s.
  if (crypto() == nullptr) {
    set_error(ssl_error, crypto_error);
    return nullptr;
  }
  void* handle = open_library(ssl_soname, ssl_error);
  if (handle == nullptr) return nullptr;
  binder bind{handle, ssl_soname, ssl_error};
  bind_tls(bind, table);
  return bind.ok ? &table : nullptr;
}

}  // namespace

const libcrypto* crypto() noexcept {
  static const libcrypto* const loaded = load_crypto();
  return loaded;
}

const char* crypto_load_error() noexcept { return crypto() == nullptr ? crypto_error : ""; }

const libssl* ssl() noexcept {
  static const libssl* const loaded = load_ssl();
  return loaded;
}

const char* ssl_load_error() noexcept { return ssl() == nullptr ? ssl_error : ""; }

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
