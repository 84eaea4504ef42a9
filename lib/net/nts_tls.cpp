#include "nts_tls.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <ctime>

#include "../proto/crypto.hpp"

namespace ntpkit::net::detail {
namespace {

using namespace asio::experimental::awaitable_operators;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
using proto::detail::libcrypto;
using proto::detail::libssl;

// What until_done() reports beyond SSL_get_error's codes.
constexpr int timed_out = -1;

// The ALPN list in wire form: one length-prefixed protocol id (RFC 7301 §3.1).
constexpr unsigned char alpn_wire[] = {7, 'n', 't', 's', 'k', 'e', '/', '1'};

// The TLS library's error queue, emptied: its texts, and whether the server refused our ALPN.
struct error_queue {
  std::string text;
  bool no_application_protocol = false;
};

error_queue drain_errors(const libcrypto& c) {
  error_queue q;
  while (const unsigned long e = c.ERR_get_error()) {
    if (ERR_GET_REASON(e) == SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL) {
      q.no_application_protocol = true;
    }
    char buf[256];
    c.ERR_error_string_n(e, buf, sizeof buf);
    if (!q.text.empty()) q.text += "; ";
    q.text += buf;
  }
  return q;
}

// Repeats one libssl call until it succeeds, fails, or would block past `deadline`; `ret` is
// its last return value. SSL_ERROR_NONE, an SSL_get_error() code, or timed_out.
template <class Op>
asio::awaitable<int> until_done(tcp::socket& sock, ssl_st* ssl, Op op, steady_time deadline,
                                int& ret) {
  const auto& s = *proto::detail::ssl();
  const auto& c = *proto::detail::crypto();
  asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
  for (;;) {
    c.ERR_clear_error();
    ret = op();
    if (ret > 0) co_return SSL_ERROR_NONE;
    const int err = s.SSL_get_error(ssl, ret);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) co_return err;
    if (std::chrono::steady_clock::now() >= deadline) co_return timed_out;
    const auto what = err == SSL_ERROR_WANT_READ ? tcp::socket::wait_read : tcp::socket::wait_write;
    auto done = co_await (sock.async_wait(what, use_tuple) || timer.async_wait(use_tuple));
    if (done.index() == 1) co_return timed_out;
    if (auto [ec] = std::get<0>(done); ec) co_return SSL_ERROR_SYSCALL;
  }
}

std::string name_text(const libcrypto& c, const X509_NAME* name) {
  BIO* bio = c.BIO_new(c.BIO_s_mem());
  if (bio == nullptr) return {};
  c.X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long n = c.BIO_ctrl(bio, BIO_CTRL_INFO, 0, &data);
  std::string out = n > 0 && data != nullptr ? std::string(data, static_cast<std::size_t>(n)) : "";
  c.BIO_free(bio);
  return out;
}

std::chrono::sys_seconds time_of(const libcrypto& c, const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || c.ASN1_TIME_to_tm(t, &tm) != 1) return {};
  return std::chrono::sys_seconds(std::chrono::seconds(::timegm(&tm)));
}

std::string sha256_of(const libcrypto& c, const X509* x) {
  EVP_MD* md = c.EVP_MD_fetch(nullptr, "SHA256", nullptr);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  const bool ok = md != nullptr && c.X509_digest(x, md, digest, &n) == 1;
  if (md != nullptr) c.EVP_MD_free(md);
  if (!ok) return {};
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

model::error_info tls_failure(model::error_cause cause, std::string detail = {}) {
  auto e = model::failure(model::error_kind::tls, cause);
  e.detail = std::move(detail);
  return e;
}

}  // namespace

tls_client::~tls_client() {
  const auto* s = proto::detail::ssl();
  if (s == nullptr) return;
  if (ssl_ != nullptr) s->SSL_free(ssl_);
  if (ctx_ != nullptr) s->SSL_CTX_free(ctx_);
}

model::error_info tls_client::setup(tcp::socket& sock, const std::string& name,
                                    const std::string& ca_file) {
  const auto* s = proto::detail::ssl();
  if (s == nullptr) {
    return tls_failure(model::error_cause::tls_unavailable, proto::detail::ssl_load_error());
  }
  const auto& c = *proto::detail::crypto();
  name_ = name;
  ctx_ = s->SSL_CTX_new(s->TLS_client_method());
  if (ctx_ == nullptr) {
    return tls_failure(model::error_cause::tls_handshake_failed, drain_errors(c).text);
  }
  // RFC 8915 §3: TLS 1.3 or later only. A clean end of the stream is how NTS-KE servers that
  // skip close_notify end a response, so an EOF reads as one.
  s->SSL_CTX_ctrl(ctx_, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_3_VERSION, nullptr);
  s->SSL_CTX_set_options(ctx_, SSL_OP_IGNORE_UNEXPECTED_EOF);
  // The certificate is checked after the handshake (check_peer), so that a failure is typed
  // and the certificate still reported; nothing is written to an unverified server.
  s->SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
  const int loaded = ca_file.empty()
                         ? s->SSL_CTX_set_default_verify_paths(ctx_)
                         : s->SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr);
  if (loaded != 1) {
    auto e = model::failure(model::error_kind::usage, model::error_cause::ca_file_unreadable);
    e.detail = ca_file.empty() ? "the system store" : ca_file;
    drain_errors(c);
    return e;
  }
  // RFC 8915 §4: ALPN "ntske/1". SSL_new copies the context's list, so it is set first.
  if (s->SSL_CTX_set_alpn_protos(ctx_, alpn_wire, sizeof alpn_wire) != 0) {
    return tls_failure(model::error_cause::tls_handshake_failed, drain_errors(c).text);
  }
  ssl_ = s->SSL_new(ctx_);
  boost::system::error_code ec;
  sock.non_blocking(true, ec);
  // The client's Finished and the NTS-KE request go out as two small writes: with Nagle the
  // second waits for the server's delayed ACK of the first (40 ms on Linux).
  if (!ec) sock.set_option(tcp::no_delay(true), ec);
  if (ssl_ == nullptr || ec || s->SSL_set_fd(ssl_, sock.native_handle()) != 1) {
    return tls_failure(model::error_cause::tls_handshake_failed, drain_errors(c).text);
  }
  boost::system::error_code not_ip;
  asio::ip::make_address(name, not_ip);
  if (!not_ip) {
    // RFC 6066 §3: no SNI for a literal address; the address is checked against the
    // certificate's IP subjectAltNames.
    c.X509_VERIFY_PARAM_set1_ip_asc(s->SSL_get0_param(ssl_), name.c_str());
  } else {
    s->SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                const_cast<char*>(name.c_str()));
    s->SSL_set1_host(ssl_, name.c_str());
  }
  facts_.server_name = name;
  return {};
}

void tls_client::record_session_facts() {
  const auto& s = *proto::detail::ssl();
  const auto& c = *proto::detail::crypto();
  if (const char* v = s.SSL_get_version(ssl_)) facts_.tls_version = v;
  if (const SSL_CIPHER* cipher = s.SSL_get_current_cipher(ssl_)) {
    if (const char* n = s.SSL_CIPHER_get_name(cipher)) facts_.tls_cipher = n;
  }
  const unsigned char* alpn = nullptr;
  unsigned int alpn_size = 0;
  s.SSL_get0_alpn_selected(ssl_, &alpn, &alpn_size);
  facts_.alpn = alpn != nullptr ? std::string(reinterpret_cast<const char*>(alpn), alpn_size) : "";
  X509* peer = s.SSL_get1_peer_certificate(ssl_);
  if (peer == nullptr) return;
  model::certificate_info cert;
  cert.subject = name_text(c, c.X509_get_subject_name(peer));
  cert.issuer = name_text(c, c.X509_get_issuer_name(peer));
  cert.not_before = time_of(c, c.X509_get0_notBefore(peer));
  cert.not_after = time_of(c, c.X509_get0_notAfter(peer));
  cert.sha256 = sha256_of(c, peer);
  c.X509_free(peer);
  facts_.certificate = std::move(cert);
  facts_.verify_result = s.SSL_get_verify_result(ssl_);
}

model::error_info tls_client::check_peer() {
  using model::error_cause;
  if (facts_.alpn != "ntske/1") return tls_failure(error_cause::alpn_refused, facts_.alpn);
  if (!facts_.certificate) return tls_failure(error_cause::certificate_untrusted, "no certificate");
  switch (facts_.verify_result) {
    case X509_V_OK:
      return {};
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return tls_failure(error_cause::certificate_expired);
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return tls_failure(error_cause::certificate_not_yet_valid);
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return tls_failure(error_cause::certificate_wrong_name, name_);
    default: {
      const char* why =
          proto::detail::crypto()->X509_verify_cert_error_string(facts_.verify_result);
      return tls_failure(error_cause::certificate_untrusted, why != nullptr ? why : "");
    }
  }
}

asio::awaitable<model::error_info> tls_client::handshake(tcp::socket& sock, steady_time deadline,
                                                         std::chrono::milliseconds timeout) {
  const auto& s = *proto::detail::ssl();
  int ret = 0;
  const int err = co_await until_done(
      sock, ssl_, [&] { return s.SSL_connect(ssl_); }, deadline, ret);
  record_session_facts();
  if (err == timed_out) {
    auto e = model::failure(model::error_kind::nts, model::error_cause::nts_ke_timeout);
    e.waited = timeout;
    e.detail = "tls_handshake";
    co_return e;
  }
  if (err != SSL_ERROR_NONE) {
    const auto q = drain_errors(*proto::detail::crypto());
    if (q.no_application_protocol) co_return tls_failure(model::error_cause::alpn_refused);
    std::string detail = q.text;
    if (detail.empty()) detail = ret == 0 ? "the server closed the connection" : "socket error";
    co_return tls_failure(model::error_cause::tls_handshake_failed, detail);
  }
  co_return check_peer();
}

asio::awaitable<result<void>> tls_client::write(tcp::socket& sock,
                                                std::span<const std::uint8_t> bytes,
                                                steady_time deadline) {
  const auto& s = *proto::detail::ssl();
  std::size_t done = 0;
  while (done < bytes.size()) {
    int ret = 0;
    const auto rest = bytes.subspan(done);
    const int err = co_await until_done(
        sock, ssl_, [&] { return s.SSL_write(ssl_, rest.data(), static_cast<int>(rest.size())); },
        deadline, ret);
    if (err == timed_out) co_return std::make_error_code(std::errc::timed_out);
    if (err != SSL_ERROR_NONE) {
      drain_errors(*proto::detail::crypto());
      co_return std::make_error_code(std::errc::io_error);
    }
    done += static_cast<std::size_t>(ret);
  }
  co_return result<void>{};
}

asio::awaitable<result<std::size_t>> tls_client::read(tcp::socket& sock,
                                                      std::span<std::uint8_t> buffer,
                                                      steady_time deadline) {
  const auto& s = *proto::detail::ssl();
  int ret = 0;
  const int err = co_await until_done(
      sock, ssl_, [&] { return s.SSL_read(ssl_, buffer.data(), static_cast<int>(buffer.size())); },
      deadline, ret);
  if (err == SSL_ERROR_NONE) co_return static_cast<std::size_t>(ret);
  if (err == SSL_ERROR_ZERO_RETURN) co_return std::size_t{0};
  if (err == timed_out) co_return std::make_error_code(std::errc::timed_out);
  const int saved = errno;
  drain_errors(*proto::detail::crypto());
  if (err == SSL_ERROR_SYSCALL && saved != 0)
    co_return std::error_code(saved, std::generic_category());
  co_return std::make_error_code(std::errc::io_error);
}

result<std::vector<std::uint8_t>> tls_client::export_key(std::string_view label,
                                                         std::span<const std::uint8_t> context,
                                                         std::size_t length) {
  const auto& s = *proto::detail::ssl();
  std::vector<std::uint8_t> out(length);
  if (s.SSL_export_keying_material(ssl_, out.data(), out.size(), label.data(), label.size(),
                                   context.data(), context.size(), 1) != 1) {
    drain_errors(*proto::detail::crypto());
    return std::make_error_code(std::errc::io_error);
  }
  return out;
}

void tls_client::close() noexcept {
  const auto* s = proto::detail::ssl();
  if (s != nullptr && ssl_ != nullptr) {
    s->SSL_shutdown(ssl_);
    proto::detail::crypto()->ERR_clear_error();
  }
}

}  // namespace ntpkit::net::detail
