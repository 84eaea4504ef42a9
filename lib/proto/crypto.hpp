#pragma once

// OpenSSL, loaded when first needed, not at program start: libcrypto when a MAC, an IPv6
// refid hash or NTS's AEAD is first computed, libssl when an NTS-KE client first connects.
// Loading libcrypto.so.3 costs a process about 1.8 ms of CPU (4,000 symbol relocations bound
// at once, 17,000 relative ones) and half a megabyte of dirty pages, which a query without a
// key never needs; libssl adds more. This file is the one loader (docs/architecture.md "Where
// OpenSSL is loaded"). Internal to libntpkit: no public header includes it; net's TLS client
// includes it as "../proto/crypto.hpp".

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <cstddef>

namespace ntpkit::proto::detail {

/// The libcrypto functions libntpkit calls, each with its declared type.
struct libcrypto {
  // Digests and MACs (mac.cpp, refid.cpp).
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
  // AES-SIV, NTS's AEAD (aead.cpp).
  decltype(&::EVP_CIPHER_fetch) EVP_CIPHER_fetch;
  decltype(&::EVP_CIPHER_free) EVP_CIPHER_free;
  decltype(&::EVP_CIPHER_CTX_new) EVP_CIPHER_CTX_new;
  decltype(&::EVP_CIPHER_CTX_free) EVP_CIPHER_CTX_free;
  decltype(&::EVP_CIPHER_CTX_ctrl) EVP_CIPHER_CTX_ctrl;
  decltype(&::EVP_EncryptInit_ex2) EVP_EncryptInit_ex2;
  decltype(&::EVP_EncryptUpdate) EVP_EncryptUpdate;
  decltype(&::EVP_EncryptFinal_ex) EVP_EncryptFinal_ex;
  decltype(&::EVP_DecryptInit_ex2) EVP_DecryptInit_ex2;
  decltype(&::EVP_DecryptUpdate) EVP_DecryptUpdate;
  // Certificates and errors, for the NTS-KE TLS client in net (net/nts_tls.cpp).
  decltype(&::X509_free) X509_free;
  decltype(&::X509_get_subject_name) X509_get_subject_name;
  decltype(&::X509_get_issuer_name) X509_get_issuer_name;
  decltype(&::X509_NAME_print_ex) X509_NAME_print_ex;
  decltype(&::X509_get0_notBefore) X509_get0_notBefore;
  decltype(&::X509_get0_notAfter) X509_get0_notAfter;
  decltype(&::X509_digest) X509_digest;
  decltype(&::X509_VERIFY_PARAM_set1_ip_asc) X509_VERIFY_PARAM_set1_ip_asc;
  decltype(&::X509_verify_cert_error_string) X509_verify_cert_error_string;
  decltype(&::ASN1_TIME_to_tm) ASN1_TIME_to_tm;
  decltype(&::BIO_new) BIO_new;
  decltype(&::BIO_s_mem) BIO_s_mem;
  decltype(&::BIO_ctrl) BIO_ctrl;
  decltype(&::BIO_free) BIO_free;
  decltype(&::ERR_get_error) ERR_get_error;
  decltype(&::ERR_error_string_n) ERR_error_string_n;
  decltype(&::ERR_clear_error) ERR_clear_error;
};

/// libcrypto, loaded on the first call (thread-safe); nullptr when it cannot be loaded or
/// lacks a function, which callers report as errc::crypto_failure.
const libcrypto* crypto() noexcept;

/// Why crypto() is nullptr (dlerror's text, or the function it lacks); "" when it is not.
const char* crypto_load_error() noexcept;

/// The libssl functions the NTS-KE client calls (TLS 1.3 over a socket the caller drives).
struct libssl {
  decltype(&::TLS_client_method) TLS_client_method;
  decltype(&::SSL_CTX_new) SSL_CTX_new;
  decltype(&::SSL_CTX_free) SSL_CTX_free;
  decltype(&::SSL_CTX_ctrl) SSL_CTX_ctrl;
  decltype(&::SSL_CTX_set_options) SSL_CTX_set_options;
  decltype(&::SSL_CTX_set_alpn_protos) SSL_CTX_set_alpn_protos;
  decltype(&::SSL_CTX_load_verify_locations) SSL_CTX_load_verify_locations;
  decltype(&::SSL_CTX_set_default_verify_paths) SSL_CTX_set_default_verify_paths;
  decltype(&::SSL_CTX_set_verify) SSL_CTX_set_verify;
  decltype(&::SSL_new) SSL_new;
  decltype(&::SSL_free) SSL_free;
  decltype(&::SSL_set_fd) SSL_set_fd;
  decltype(&::SSL_ctrl) SSL_ctrl;
  decltype(&::SSL_set1_host) SSL_set1_host;
  decltype(&::SSL_get0_param) SSL_get0_param;
  decltype(&::SSL_connect) SSL_connect;
  decltype(&::SSL_get_error) SSL_get_error;
  decltype(&::SSL_read) SSL_read;
  decltype(&::SSL_write) SSL_write;
  decltype(&::SSL_shutdown) SSL_shutdown;
  decltype(&::SSL_get_verify_result) SSL_get_verify_result;
  decltype(&::SSL_get1_peer_certificate) SSL_get1_peer_certificate;
  decltype(&::SSL_get_version) SSL_get_version;
  decltype(&::SSL_get_current_cipher) SSL_get_current_cipher;
  decltype(&::SSL_CIPHER_get_name) SSL_CIPHER_get_name;
  decltype(&::SSL_get0_alpn_selected) SSL_get0_alpn_selected;
  decltype(&::SSL_export_keying_material) SSL_export_keying_material;
};

/// libssl (and libcrypto before it), loaded on the first call (thread-safe); nullptr when
/// either cannot be loaded or lacks a function.
const libssl* ssl() noexcept;

/// Why ssl() is nullptr; "" when it is not.
const char* ssl_load_error() noexcept;

/// Compares two buffers of `n` bytes in time that depends only on `n` (as CRYPTO_memcmp).
bool constant_time_equal(const void* a, const void* b, std::size_t n) noexcept;

/// Zeroes `n` bytes in a way the compiler may not remove (as OPENSSL_cleanse).
void cleanse(void* p, std::size_t n) noexcept;

}  // namespace ntpkit::proto::detail
