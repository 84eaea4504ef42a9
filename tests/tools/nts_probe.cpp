// nts_probe: NTS (RFC 8915) against one server through the library (net/nts_ke_client.hpp),
// printing one JSON object with everything the library reports: the TLS facts, certificate,
// NTS-KE records and negotiated values, cookies, the NTP samples and whether each was
// NTS-authenticated, the typed error and the step that failed. A test helper for
// tests/integration/test_nts.py, not an ntpkit application; it never touches the clock.
//
//   nts_probe --host HOST [--ke-port 4460] [--server-name NAME] [--ca-file FILE]
//             [--samples N] [--timeout-ms N] [--interval-ms N] [--connect-timeout-ms N]
//             [--handshake-timeout-ms N] [--ke-timeout-ms N] [--aead 15,16,17]
//             [--interleaved on]
//             [--save-ke FILE | --load-ke FILE | --capture DIR]
//
// --save-ke runs the key exchange only and writes the keys and cookies to FILE; --load-ke
// skips it and runs NTP with FILE's (the test rotates the server's keys in between: a NAK).
// --capture DIR writes seeds for the fuzz targets (the KE response as received, NTP request
// and response datagrams with the keys that open them, an NTS NAK). Exit status: 0 the probe
// succeeded, 1 it failed (the JSON says how), 2 usage.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ntpkit/net/drive.hpp"
#include "ntpkit/net/nts_ke_client.hpp"
#include "ntpkit/net/timestamping_socket.hpp"
#include "ntpkit/proto/nts_ef.hpp"
#include "ntpkit/proto/nts_ke.hpp"
#include "ntpkit/proto/packet.hpp"
#include "ntpkit/report/describe.hpp"

namespace asio = boost::asio;
namespace net = ntpkit::net;
namespace model = ntpkit::model;
namespace proto = ntpkit::proto;
using json = nlohmann::ordered_json;
using bytes = std::vector<std::uint8_t>;

namespace {

struct options {
  std::string host;
  std::uint16_t ke_port = proto::nts_ke_default_port;
  net::nts_query_options q;
  std::string save_ke, load_ke, capture;
};

std::string hex(std::span<const std::uint8_t> b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (auto c : b) {
    s += digits[c >> 4];
    s += digits[c & 15];
  }
  return s;
}

bytes unhex(const std::string& s) {
  bytes out;
  for (std::size_t i = 0; i + 1 < s.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(s.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::optional<options> parse(int argc, char** argv) {
  options o;
  o.q.ntp.samples = 1;
  o.q.ntp.interval = std::chrono::milliseconds(2000);
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return std::nullopt;
    const std::string v = argv[++i];
    auto ms = [&] { return std::chrono::milliseconds(std::stol(v)); };
    if (a == "--host") {
      o.host = v;
    } else if (a == "--ke-port") {
      o.ke_port = static_cast<std::uint16_t>(std::stoi(v));
    } else if (a == "--server-name") {
      o.q.ke.server_name = v;
    } else if (a == "--ca-file") {
      o.q.ke.ca_file = v;
    } else if (a == "--samples") {
      o.q.ntp.samples = static_cast<unsigned>(std::stoul(v));
    } else if (a == "--timeout-ms") {
      o.q.ntp.timeout = ms();
    } else if (a == "--interval-ms") {
      o.q.ntp.interval = ms();
    } else if (a == "--connect-timeout-ms") {
      o.q.ke.connect_timeout = ms();
    } else if (a == "--handshake-timeout-ms") {
      o.q.ke.handshake_timeout = ms();
    } else if (a == "--ke-timeout-ms") {
      o.q.ke.exchange.timeout = ms();
    } else if (a == "--aead") {
      o.q.ke.exchange.aead_algorithms.clear();
      std::stringstream ss(v);
      for (std::string id; std::getline(ss, id, ',');) {
        o.q.ke.exchange.aead_algorithms.push_back(
            static_cast<proto::aead_algorithm>(std::stoi(id)));
      }
    } else if (a == "--interleaved") {
      o.q.ntp.interleaved = v == "on";
    } else if (a == "--save-ke") {
      o.save_ke = v;
    } else if (a == "--load-ke") {
      o.load_ke = v;
    } else if (a == "--capture") {
      o.capture = v;
    } else {
      return std::nullopt;
    }
  }
  if (o.host.empty()) return std::nullopt;
  return o;
}

double seconds(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e9; }

json error_json(const model::error_info& e, const std::string& message) {
  if (!e) return nullptr;
  return {{"kind", model::error_kind_name(e.kind)},
          {"cause", model::error_cause_name(e.cause)},
          {"message", message},
          {"detail", e.detail},
          {"nts_code", e.nts_code},
          {"code", e.code ? e.code.message() : ""},
          {"kiss_code", e.kiss_code}};
}

json certificate_json(const model::nts_info& n) {
  if (!n.certificate) return nullptr;
  const auto& c = *n.certificate;
  return {{"subject", c.subject},
          {"issuer", c.issuer},
          {"not_before", c.not_before.time_since_epoch().count()},
          {"not_after", c.not_after.time_since_epoch().count()},
          {"sha256", c.sha256},
          {"remaining_s", n.certificate_remaining ? n.certificate_remaining->count() : 0}};
}

json nts_json(const model::nts_info& n) {
  json records = json::array();
  for (const auto& r : n.records) {
    records.push_back({{"critical", r.critical},
                       {"type", r.type},
                       {"name", proto::nts_ke_record_name(r.type)},
                       {"length", r.body.size()}});
  }
  return {{"ke_address", n.ke_address},
          {"ke_port", n.ke_port},
          {"server_name", n.server_name},
          {"tls_version", n.tls_version},
          {"tls_cipher", n.tls_cipher},
          {"alpn", n.alpn},
          {"certificate", certificate_json(n)},
          {"verify_result", n.verify_result},
          {"records", records},
          {"next_protocol", n.next_protocol ? json(*n.next_protocol) : json(nullptr)},
          {"aead_id", n.aead_id ? json(*n.aead_id) : json(nullptr)},
          {"aead", n.aead ? json(proto::to_string(*n.aead)) : json(nullptr)},
          {"ntp_server", n.ntp_server ? json(*n.ntp_server) : json(nullptr)},
          {"ntp_port", n.ntp_port ? json(*n.ntp_port) : json(nullptr)},
          {"errors", n.errors},
          {"warnings", n.warnings},
          {"cookies", n.cookies()},
          {"cookie_sizes", n.cookie_sizes},
          {"ke_bytes_sent", n.ke_bytes_sent},
          {"ke_bytes_received", n.ke_bytes_received},
          {"connect_s", seconds(n.connect_time)},
          {"handshake_s", seconds(n.handshake_time)},
          {"exchange_s", seconds(n.exchange_time)},
          {"ke_s", seconds(n.ke_time)},
          {"ntp_address", n.ntp_address},
          {"ntp_port_used", n.ntp_port_used},
          {"cookies_sent", n.cookies_sent},
          {"placeholders_sent", n.placeholders_sent},
          {"cookies_received", n.cookies_received},
          {"cookies_left", n.cookies_left},
          {"authenticated_samples", n.authenticated_samples},
          {"nak", n.nak},
          {"failed_step", model::nts_step_name(n.failed_step)}};
}

json address_json(const model::ntp_address& a) {
  json samples = json::array();
  for (const auto& s : a.samples) {
    samples.push_back({{"nts_authenticated", s.nts_authenticated},
                       {"new_cookies", s.nts_new_cookies},
                       {"interleaved", s.interleaved},
                       {"stratum", s.reply.stratum},
                       {"verdict", proto::verdict_name(s.assessed.result)},
                       {"offset_s", s.measured.offset.to_seconds()},
                       {"delay_s", s.measured.delay.to_seconds()}});
  }
  json ignored = json::object();
  for (const auto& [reason, count] : a.ignored)
    ignored[std::string(proto::ignore_reason_name(reason))] = count;
  return {{"ok", a.ok()},
          {"address", a.address},
          {"port", a.port},
          {"requests", a.requests},
          {"auth", model::auth_status_name(a.auth)},
          {"samples", samples},
          {"ignored", ignored},
          {"error", error_json(a.error, ntpkit::report::address_error_text(a))},
          {"nts", a.nts ? nts_json(*a.nts) : json(nullptr)}};
}

void save_plan(const std::string& path, const proto::nts_plan& p, const model::nts_info& n) {
  std::ofstream f(path);
  f << "aead " << static_cast<int>(p.keys.aead) << "\nc2s " << hex(p.keys.c2s) << "\ns2c "
    << hex(p.keys.s2c) << "\nntp_port " << n.ntp_port.value_or(123) << "\n";
  for (const auto& c : p.cookies) f << "cookie " << hex(c) << "\n";
}

std::optional<std::pair<proto::nts_plan, std::uint16_t>> load_plan(const std::string& path) {
  std::ifstream f(path);
  if (!f) return std::nullopt;
  proto::nts_plan p;
  std::uint16_t port = 123;
  for (std::string key, value; f >> key >> value;) {
    if (key == "aead") p.keys.aead = static_cast<proto::aead_algorithm>(std::stoi(value));
    if (key == "c2s") p.keys.c2s = unhex(value);
    if (key == "s2c") p.keys.s2c = unhex(value);
    if (key == "ntp_port") port = static_cast<std::uint16_t>(std::stoi(value));
    if (key == "cookie") p.cookies.push_back(unhex(value));
  }
  return std::pair{std::move(p), port};
}

template <class T>
T run(asio::awaitable<T> task) {
  asio::io_context io;
  T out{};
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T v) {
    if (e) std::rethrow_exception(e);
    out = std::move(v);
  });
  io.run();
  return out;
}

net::tcp::endpoint ke_endpoint(const options& o) {
  return {asio::ip::make_address(o.host), o.ke_port};
}

// NTP with a saved plan: the part of query_nts() after the key exchange.
asio::awaitable<model::ntp_address> ntp_only(const options& o, proto::nts_plan plan,
                                             std::uint16_t port) {
  model::ntp_address a;
  const net::udp::endpoint server(asio::ip::make_address(o.host), port);
  a.locate(o.host, port, server.address().is_v6() ? model::family::ipv6 : model::family::ipv4);
  a.nts.emplace();
  a.nts->ntp_address = o.host;
  a.nts->ntp_port_used = port;
  auto sock = net::timestamping_socket::open(co_await asio::this_coro::executor, server.protocol());
  if (!sock) throw std::runtime_error("socket");
  proto::ntp_query_plan p = o.q.ntp;
  p.nts = std::move(plan);
  proto::ntp_query session(std::move(p), [] { return net::random_bits(); });
  co_await net::drive(session, *sock, server);
  model::take_outcome(a, session.take_outcome(), o.q.ntp.timeout);
  co_return a;
}

int print(const model::ntp_address& a) {
  std::cout << address_json(a).dump(2) << "\n";
  return a.ok() ? 0 : 1;
}

int capture(const options& o);

}  // namespace

int main(int argc, char** argv) {
  auto o = parse(argc, argv);
  if (!o) {
    std::fprintf(stderr, "usage: nts_probe --host ADDRESS [options] (see the source)\n");
    return 2;
  }
  if (!o->capture.empty()) return capture(*o);
  if (!o->load_ke.empty()) {
    auto saved = load_plan(o->load_ke);
    if (!saved) return 2;
    return print(run(ntp_only(*o, std::move(saved->first), saved->second)));
  }
  if (!o->save_ke.empty()) {
    auto r = run(net::key_exchange(ke_endpoint(*o), o->host, o->q.ke));
    model::ntp_address a;
    a.nts = r.info;
    a.error = r.error;
    if (r.plan) save_plan(o->save_ke, *r.plan, r.info);
    std::cout << address_json(a).dump(2) << "\n";
    return r.error ? 1 : 0;
  }
  return print(net::query_nts_blocking(ke_endpoint(*o), o->host, o->q));
}

namespace {

void write_file(const std::string& path, const bytes& b) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// One NTS request over a plain UDP socket; the raw answer (empty when none in 2 s).
bytes exchange_raw(const std::string& host, std::uint16_t port, const bytes& request) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  ::inet_pton(AF_INET, host.c_str(), &to.sin_addr);
  ::sendto(fd, request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  pollfd p{fd, POLLIN, 0};
  bytes answer(2048);
  ssize_t n = ::poll(&p, 1, 2000) == 1 ? ::recv(fd, answer.data(), answer.size(), 0) : -1;
  ::close(fd);
  answer.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return answer;
}

// The fuzz_nts_ef input for a datagram: mode, the key that opens it, the unique identifier.
bytes ef_seed(std::uint8_t mode, const bytes& key, const bytes& uid, const bytes& datagram) {
  bytes out{mode};
  out.insert(out.end(), key.begin(), key.end());
  out.insert(out.end(), uid.begin(), uid.end());
  out.insert(out.end(), datagram.begin(), datagram.end());
  return out;
}

int capture(const options& o) {
  auto r = run(net::key_exchange(ke_endpoint(o), o.host, o.q.ke));
  if (!r.plan) {
    std::cout << address_json(model::ntp_address{}).dump() << "\n";
    return 1;
  }
  bytes ke_response;
  for (const auto& rec : r.info.records) proto::append_nts_ke_record(ke_response, rec);
  // fuzz_nts_ke inputs: a chunking byte, then the stream.
  ke_response.insert(ke_response.begin(), 0x05);
  write_file(o.capture + "/ke_response.bin", ke_response);
  std::mt19937_64 rng(std::random_device{}());
  auto random_bytes = [&](std::size_t n) {
    bytes b(n);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    return b;
  };
  const std::uint16_t port = r.info.ntp_port.value_or(123);
  const auto& keys = r.plan->keys;
  int taken = 0;
  json verdicts = json::object();
  for (int i = 0; i < 2; ++i) {
    // The second request carries a cookie the server cannot read: its answer is a NAK.
    auto cookie = r.plan->cookies.at(static_cast<std::size_t>(i));
    if (i == 1) cookie[cookie.size() / 2] ^= 0xff;
    const auto uid = random_bytes(proto::nts_unique_id_size);
    auto request =
        proto::serialize_packet(proto::make_client_request(proto::timestamp::from_bits(rng())));
    if (!proto::append_nts_request(
            request, {uid, cookie, i == 0 ? 3u : 0u, random_bytes(proto::nts_nonce_size)}, keys)) {
      return 1;
    }
    const auto answer = exchange_raw(o.host, port, request);
    const std::string name = i == 0 ? "good" : "nak";
    write_file(o.capture + "/ef_request_" + name + ".bin", ef_seed(1, keys.c2s, uid, request));
    write_file(o.capture + "/ef_response_" + name + ".bin", ef_seed(0, keys.s2c, uid, answer));
    if (answer.empty()) continue;
    ++taken;
    // What the library makes of the real answers: the first verifies, the second is a NAK.
    const auto v = proto::verify_nts_response(answer, uid, keys);
    const auto p = proto::parse_packet(answer);
    verdicts[name] = {{"verified", v.has_value()},
                      {"error", v ? "" : v.error().message()},
                      {"cookies", v ? v->cookies.size() : 0},
                      {"nak", p && proto::is_nts_nak(*p, uid)},
                      {"size", answer.size()},
                      {"request_size", request.size()}};
  }
  std::cout << json{{"captured", taken},
                    {"aead", static_cast<int>(keys.aead)},
                    {"answers", verdicts}}
                   .dump()
            << "\n";
  return taken == 2 ? 0 : 1;
}

}  // namespace
