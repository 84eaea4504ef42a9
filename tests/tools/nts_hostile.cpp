// nts_hostile: an NTS-KE server (TLS 1.3, ALPN ntske/1) that answers wrongly on purpose, one
// scenario per run, so that tests can assert the typed failure of the library's NTS-KE client
// against answers a real server does not give. A test helper built on the library's record
// codec and OpenSSL directly; it never touches the clock.
//
//   nts_hostile --cert FILE --key FILE --scenario NAME [--listen 127.0.0.1] [--port 0]
//               [--connections 1] [--lifetime 30] [--ntp-server NAME] [--ntp-port N]
//   nts_hostile --list
//
// It prints "port=N" on stdout once it listens, serves --connections connections one after
// the other, and exits after them, after --lifetime seconds, or on SIGTERM. Every wait is
// bounded: a connection gets at most 5 s, a stall at most --lifetime.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "ntpkit/proto/nts_ke.hpp"

namespace proto = ntpkit::proto;
using bytes = std::vector<std::uint8_t>;
using t = proto::nts_ke_record_type;
using steady = std::chrono::steady_clock;

namespace {

volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int) { stop_requested = 1; }

struct options {
  std::string cert, key, scenario, listen = "127.0.0.1";
  int port = 0;
  int connections = 1;
  int lifetime_s = 30;
  std::string ntp_server = "127.0.0.2";
  int ntp_port = 123;
};

struct scenario {
  const char* name;
  const char* what;
};

constexpr scenario scenarios[] = {
    {"good", "a correct response: NTPv4, AEAD 15, 8 cookies, end of message"},
    {"no_end_of_message", "records, then close_notify without end of message"},
    {"hold_without_end", "records, then nothing more on an open connection"},
    {"no_cookies", "NTPv4 and AEAD 15 but no New Cookie record"},
    {"unknown_critical", "a critical record of an unassigned type"},
    {"aead_not_offered", "AEAD 17, which the client did not offer"},
    {"no_common_aead", "an empty AEAD record: no algorithm in common"},
    {"no_ntpv4", "an empty Next Protocol record"},
    {"error_record", "an Error record, code 1 (bad request)"},
    {"records_after_end", "a cookie after end of message, in the same write"},
    {"oversized_record", "a record announcing a 65535-byte body"},
    {"truncated_record", "half a record, then close_notify"},
    {"server_elsewhere", "a correct response whose NTPv4 Server record is --ntp-server"},
    {"stall_handshake", "accepts TCP, never answers the ClientHello"},
    {"no_alpn", "TLS 1.3 without selecting ALPN ntske/1"},
    {"tls12_only", "TLS 1.2 at most"},
};

bool known(const std::string& name) {
  for (const auto& s : scenarios) {
    if (name == s.name) return true;
  }
  return false;
}

proto::nts_ke_record u16(t type, std::vector<std::uint16_t> v, bool critical = true) {
  return proto::make_nts_ke_u16_record(critical, type, v);
}

// The response of a scenario that gets as far as the records.
bytes response_for(const options& o) {
  const std::string& s = o.scenario;
  std::vector<proto::nts_ke_record> r;
  r.push_back(u16(t::next_protocol,
                  s == "no_ntpv4" ? std::vector<std::uint16_t>{} : std::vector<std::uint16_t>{0}));
  if (s == "error_record") r = {u16(t::error, {1})};
  if (s == "aead_not_offered") r.push_back(u16(t::aead_algorithm, {17}));
  if (s == "no_common_aead") r.push_back(u16(t::aead_algorithm, {}));
  if (r.size() == 1 && s != "error_record") r.push_back(u16(t::aead_algorithm, {15}));
  if (s == "unknown_critical") r.push_back({true, 0x4321, {1, 2}});
  if (s == "server_elsewhere") {
    r.push_back({true, static_cast<std::uint16_t>(t::server),
                 bytes(o.ntp_server.begin(), o.ntp_server.end())});
    r.push_back(u16(t::port, {static_cast<std::uint16_t>(o.ntp_port)}));
  }
  if (s != "no_cookies" && s != "error_record") {
    for (std::uint8_t i = 0; i < 8; ++i) r.push_back({false, 5, bytes(100, i)});
  }
  bytes out;
  for (const auto& rec : r) proto::append_nts_ke_record(out, rec);
  if (s == "oversized_record") {
    out.insert(out.end(), {0x00, 0x05, 0xff, 0xff, 1, 2, 3, 4});
    return out;
  }
  if (s == "truncated_record") {
    out.insert(out.end(), {0x00, 0x05, 0x00, 0x64, 1, 2, 3});
    return out;
  }
  if (s != "no_end_of_message" && s != "hold_without_end") {
    proto::append_nts_ke_record(out, {true, 0, {}});
  }
  if (s == "records_after_end") proto::append_nts_ke_record(out, {false, 5, bytes(100, 9)});
  return out;
}

int alpn_select(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  // Select ntske/1 when offered (RFC 7301 wire list of length-prefixed names).
  for (unsigned int i = 0; i < inlen; i += 1u + in[i]) {
    if (in[i] == 7 && i + 8 <= inlen && std::memcmp(in + i + 1, "ntske/1", 7) == 0) {
      *out = in + i + 1;
      *outlen = 7;
      return SSL_TLSEXT_ERR_OK;
    }
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

SSL_CTX* make_context(const options& o) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return nullptr;
  if (o.scenario == "tls12_only") {
    SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  } else {
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  }
  if (o.scenario != "no_alpn") SSL_CTX_set_alpn_select_cb(ctx, alpn_select, nullptr);
  if (SSL_CTX_use_certificate_chain_file(ctx, o.cert.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, o.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    SSL_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

// Waits up to `seconds` (or until asked to stop) while the connection stays open.
void hold(int fd, int seconds) {
  const auto until = steady::now() + std::chrono::seconds(seconds);
  while (!stop_requested && steady::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) == 1) {
      char b[256];
      if (::recv(fd, b, sizeof b, 0) <= 0) return;  // the client gave up
    }
  }
}

// Reads the client's request until its End of Message (or 5 s).
bool read_request(SSL* ssl) {
  bytes got;
  const auto until = steady::now() + std::chrono::seconds(5);
  while (steady::now() < until) {
    unsigned char buf[512];
    const int n = SSL_read(ssl, buf, sizeof buf);
    if (n <= 0) return false;
    got.insert(got.end(), buf, buf + n);
    if (got.size() >= 4 && std::memcmp(got.data() + got.size() - 4, "\x80\x00\x00\x00", 4) == 0) {
      return true;
    }
  }
  return false;
}

void serve(SSL_CTX* ctx, int fd, const options& o) {
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (o.scenario == "stall_handshake") return hold(fd, o.lifetime_s);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  if (SSL_accept(ssl) == 1 && read_request(ssl)) {
    const auto out = response_for(o);
    SSL_write(ssl, out.data(), static_cast<int>(out.size()));
    if (o.scenario == "hold_without_end") {
      hold(fd, o.lifetime_s);
    } else {
      SSL_shutdown(ssl);
    }
  }
  ERR_clear_error();
  SSL_free(ssl);
}

bool parse(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--list") {
      for (const auto& s : scenarios) std::printf("%-20s %s\n", s.name, s.what);
      std::exit(0);
    }
    if (i + 1 >= argc) return false;
    const std::string v = argv[++i];
    if (a == "--cert")
      o.cert = v;
    else if (a == "--key")
      o.key = v;
    else if (a == "--scenario")
      o.scenario = v;
    else if (a == "--listen")
      o.listen = v;
    else if (a == "--port")
      o.port = std::atoi(v.c_str());
    else if (a == "--connections")
      o.connections = std::atoi(v.c_str());
    else if (a == "--lifetime")
      o.lifetime_s = std::atoi(v.c_str());
    else if (a == "--ntp-server")
      o.ntp_server = v;
    else if (a == "--ntp-port")
      o.ntp_port = std::atoi(v.c_str());
    else
      return false;
  }
  return known(o.scenario) && !o.cert.empty() && !o.key.empty() && o.connections > 0 &&
         o.lifetime_s > 0;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  if (!parse(argc, argv, o)) {
    std::fprintf(stderr, "usage: nts_hostile --cert F --key F --scenario NAME (--list)\n");
    return 2;
  }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  SSL_CTX* ctx = make_context(o);
  if (ctx == nullptr) {
    std::fprintf(stderr, "nts_hostile: cannot load the certificate or key\n");
    return 2;
  }
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(o.port));
  ::inet_pton(AF_INET, o.listen.c_str(), &a.sin_addr);
  socklen_t len = sizeof a;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listener, 4) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    std::perror("nts_hostile: listen");
    return 2;
  }
  std::printf("port=%u\n", ntohs(a.sin_port));
  std::fflush(stdout);
  const auto until = steady::now() + std::chrono::seconds(o.lifetime_s);
  int served = 0;
  while (served < o.connections && !stop_requested && steady::now() < until) {
    pollfd p{listener, POLLIN, 0};
    if (::poll(&p, 1, 100) != 1) continue;
    const int fd = ::accept(listener, nullptr, nullptr);
    if (fd < 0) continue;
    serve(ctx, fd, o);
    ::close(fd);
    ++served;
  }
  ::close(listener);
  SSL_CTX_free(ctx);
  std::fprintf(stderr, "nts_hostile: served %d connection(s)%s\n", served,
               stop_requested ? ", stopped by a signal" : "");
  return 0;
}
