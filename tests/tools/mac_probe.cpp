// mac_probe: sends one authenticated NTP client request, signed by proto/mac.hpp with a key
// from a key file, and checks the reply's MAC with verify_mac(). A test helper for
// tests/integration (real chronyd / ntpd on loopback); not an ntpkit application.
//
//   mac_probe --server 127.0.0.1 --port 11123 --keys FILE --key ID
//             [--format ntp|chrony] [--digest full|truncate_20] [--v3 on|off]
//             [--version N] [--corrupt] [--nak] [--timeout-ms N]
//
// Prints one JSON object on stdout. Exit status: 0 answered and the reply's MAC verified,
// 1 no answer, 2 answered but the reply does not verify, 3 usage or key file error.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ntpkit/proto/errc.hpp"
#include "ntpkit/proto/keys.hpp"
#include "ntpkit/proto/mac.hpp"
#include "ntpkit/proto/packet.hpp"

namespace proto = ntpkit::proto;

namespace {

struct options {
  std::string server = "127.0.0.1";
  int port = 123;
  std::string keys;
  std::uint32_t key_id = 0;
  std::optional<proto::key_file_format> format;
  std::optional<proto::digest_length> digest;
  std::optional<bool> v3;
  int version = 4;
  bool corrupt = false;
  bool nak = false;
  int timeout_ms = 1000;
};

std::optional<options> parse_args(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--server")
      o.server = next();
    else if (a == "--port")
      o.port = std::atoi(next().c_str());
    else if (a == "--keys")
      o.keys = next();
    else if (a == "--key")
      o.key_id = static_cast<std::uint32_t>(std::stoul(next()));
    else if (a == "--format") {
      const auto f = next();
      o.format =
          f == "chrony" ? proto::key_file_format::chrony_keys : proto::key_file_format::ntp_keys;
    } else if (a == "--digest") {
      o.digest = next() == "full" ? proto::digest_length::full : proto::digest_length::truncate_20;
    } else if (a == "--v3")
      o.v3 = next() == "on";
    else if (a == "--version")
      o.version = std::atoi(next().c_str());
    else if (a == "--corrupt")
      o.corrupt = true;
    else if (a == "--nak")
      o.nak = true;
    else if (a == "--timeout-ms")
      o.timeout_ms = std::atoi(next().c_str());
    else
      return std::nullopt;
  }
  if (o.keys.empty() || o.key_id == 0) return std::nullopt;
  return o;
}

// Sends `request` and returns the first datagram from the server, or nothing on timeout.
std::optional<std::vector<std::uint8_t>> send_and_receive(
    const options& o, const std::vector<std::uint8_t>& request) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(o.port));
  ::inet_pton(AF_INET, o.server.c_str(), &to.sin_addr);
  std::optional<std::vector<std::uint8_t>> reply;
  if (::sendto(fd, request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&to),
               sizeof to) == static_cast<ssize_t>(request.size())) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, o.timeout_ms) == 1) {
      std::vector<std::uint8_t> buf(2048);
      const auto n = ::recv(fd, buf.data(), buf.size(), 0);
      if (n > 0) {
        buf.resize(static_cast<std::size_t>(n));
        reply = std::move(buf);
      }
    }
  }
  ::close(fd);
  return reply;
}

std::string to_hex(const std::vector<std::uint8_t>& b) {
  std::string out;
  char two[3];
  for (auto byte : b) {
    std::snprintf(two, sizeof two, "%02x", byte);
    out += two;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const auto o = parse_args(argc, argv);
  if (!o) {
    std::cerr << "usage: mac_probe --keys FILE --key ID [--server A] [--port N] [--format "
                 "ntp|chrony] [--digest full|truncate_20] [--v3 on|off] [--version N] "
                 "[--corrupt] [--nak] [--timeout-ms N]\n";
    return 3;
  }
  std::ifstream in(o->keys);
  std::stringstream text;
  text << in.rdbuf();
  proto::key_file_error err;
  auto file = o->format ? proto::parse_key_file(text.str(), *o->format, &err)
                        : proto::parse_key_file(text.str(), &err);
  if (!file) {
    std::cerr << proto::to_string(err, o->keys) << "\n";
    return 3;
  }
  const auto* key = file->find(o->key_id);
  if (key == nullptr) {
    std::cerr << o->keys << ": no key " << o->key_id << "\n";
    return 3;
  }
  auto policy = proto::default_mac_policy(file->format);
  if (o->digest) policy.length = *o->digest;
  if (o->v3) policy.ntpv3_for_long_mac = *o->v3;

  std::mt19937_64 rng(std::random_device{}());
  const auto transmit = proto::timestamp::from_bits(rng());
  auto request = proto::serialize_packet(
      proto::make_client_request(transmit, static_cast<std::uint8_t>(o->version)));
  auto signed_ok =
      o->nak ? proto::append_crypto_nak(request) : proto::append_mac(request, *key, policy);
  if (!signed_ok) return 3;
  if (o->corrupt) request.back() ^= 1;

  std::printf("{\"key\": \"%s\", \"format\": \"%s\", \"sent_version\": %d, \"sent_mac_bytes\": %zu",
              key->redacted().c_str(), std::string(proto::to_string(file->format)).c_str(),
              (request[0] >> 3) & 7, request.size() - proto::header_size);
  std::printf(", \"request_hex\": \"%s\"", to_hex(request).c_str());
  const auto reply = send_and_receive(*o, request);
  if (!reply) {
    std::printf(", \"answered\": false}\n");
    return 1;
  }
  const auto parsed = proto::parse_packet(*reply);
  const auto verified = proto::verify_mac(*key, *reply);
  const bool origin_ok = parsed && parsed->origin == transmit;
  std::printf(
      ", \"answered\": true, \"reply_version\": %d, \"reply_mac_bytes\": %zu, "
      "\"origin_ok\": %s, \"verify\": \"%s\", \"reply_digest\": \"%s\", \"reply_hex\": \"%s\"}\n",
      (*reply)[0] >> 3 & 7, reply->size() - std::min(reply->size(), proto::header_size),
      origin_ok ? "true" : "false", verified ? "ok" : verified.error().message().c_str(),
      !verified                                        ? ""
      : verified.value() == proto::digest_length::full ? "full"
                                                       : "truncate_20",
      to_hex(*reply).c_str());
  return verified && origin_ok ? 0 : 2;
}
