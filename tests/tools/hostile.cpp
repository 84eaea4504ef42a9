// ntpkit-hostile: an NTP server that answers wrongly on purpose, one scenario per run, so that
// tests can assert what ntpprobe does against each kind of bad answer. A test helper, not an
// ntpkit application; it never touches the clock (it only reads it).
//
//   ntpkit-hostile --listen ADDRESS:PORT --scenario NAME [--print-port] [--then-genuine]
//                  [--key-file FILE --key-id N] [--other-address ADDRESS] [--offset SECONDS]
//                  [--delay-ms N] [--genuine-delay-ms N] [--flood-ms N] [--flood-count N]
//                  [--silent-dst-mod N] [--lifetime SECONDS]
//   ntpkit-hostile --list
//
// --listen takes port 0 (the kernel picks one; --print-port prints "port=N offset=S" on
// stdout). With a wildcard address, replies leave from the address each request was sent to
// (IP_PKTINFO), so one responder on 0.0.0.0 answers every 127.x.y.z. --then-genuine sends a
// correct reply --genuine-delay-ms (20) after the bad one. --silent-dst-mod N ignores requests
// whose IPv4 destination address is a multiple of N (to mix timeouts into a large run).
// Every loop that sends is bounded in count and time; the responder exits after --lifetime
// seconds (300) or on SIGTERM/SIGINT, and then prints "requests=N" on stdout.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hostile_scenarios.hpp"
#include "ntpkit/proto/keys.hpp"
#include "ntpkit/proto/mac.hpp"

namespace proto = ntpkit::proto;
namespace hostile = ntpkit::hostile;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int) { stop_requested = 1; }

struct options {
  std::string listen;
  const hostile::scenario* scene = nullptr;
  bool print_port = false;
  bool then_genuine = false;
  std::string key_file;
  long key_id = -1;
  std::string other_address = "127.0.0.2";
  std::optional<double> offset_s;
  std::optional<unsigned> delay_ms;
  unsigned genuine_delay_ms = 20;
  unsigned flood_ms = 3000;
  unsigned long flood_count = 2'000'000;
  unsigned long silent_dst_mod = 0;
  double lifetime_s = 300;
};

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "ntpkit-hostile: %s\n", message.c_str());
  std::exit(2);
}

void list_scenarios() {
  for (const auto& s : hostile::scenarios()) {
    std::printf("%-24s %.*s\n", std::string(s.name).c_str(), static_cast<int>(s.what.size()),
                s.what.data());
  }
}

options parse_args(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--list") {
      list_scenarios();
      std::exit(0);
    } else if (a == "--listen") {
      o.listen = next();
    } else if (a == "--scenario") {
      const auto name = next();
      o.scene = hostile::find_scenario(name);
      if (!o.scene) die("no scenario " + name + " (see --list)");
    } else if (a == "--print-port") {
      o.print_port = true;
    } else if (a == "--then-genuine") {
      o.then_genuine = true;
    } else if (a == "--key-file") {
      o.key_file = next();
    } else if (a == "--key-id") {
      o.key_id = std::stol(next());
    } else if (a == "--other-address") {
      o.other_address = next();
    } else if (a == "--offset") {
      o.offset_s = std::stod(next());
    } else if (a == "--delay-ms") {
      o.delay_ms = static_cast<unsigned>(std::stoul(next()));
    } else if (a == "--genuine-delay-ms") {
      o.genuine_delay_ms = static_cast<unsigned>(std::stoul(next()));
    } else if (a == "--flood-ms") {
      o.flood_ms = std::min(60'000u, static_cast<unsigned>(std::stoul(next())));
    } else if (a == "--flood-count") {
      o.flood_count = std::min(20'000'000ul, std::stoul(next()));
    } else if (a == "--silent-dst-mod") {
      o.silent_dst_mod = std::stoul(next());
    } else if (a == "--lifetime") {
      o.lifetime_s = std::min(3600.0, std::stod(next()));
    } else {
      die("unknown option " + a);
    }
  }
  if (o.listen.empty() || !o.scene) die("--listen and --scenario are required");
  if ((o.key_id >= 0) != !o.key_file.empty()) die("--key-file and --key-id go together");
  return o;
}

// An IPv4 or IPv6 socket address.
struct address {
  sockaddr_storage storage{};
  socklen_t size = 0;
  bool v6() const { return storage.ss_family == AF_INET6; }
  std::uint16_t port() const {
    return ntohs(v6() ? reinterpret_cast<const sockaddr_in6&>(storage).sin6_port
                      : reinterpret_cast<const sockaddr_in&>(storage).sin_port);
  }
  void set_port(std::uint16_t p) {
    if (v6()) {
      reinterpret_cast<sockaddr_in6&>(storage).sin6_port = htons(p);
    } else {
      reinterpret_cast<sockaddr_in&>(storage).sin_port = htons(p);
    }
  }
  const sockaddr* raw() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

address parse_address(const std::string& host, std::uint16_t port) {
  address a;
  auto& v4 = reinterpret_cast<sockaddr_in&>(a.storage);
  auto& v6 = reinterpret_cast<sockaddr_in6&>(a.storage);
  if (::inet_pton(AF_INET, host.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    a.size = sizeof v4;
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    a.size = sizeof v6;
  } else {
    die("not an IP address: " + host);
  }
  a.set_port(port);
  return a;
}

// "127.0.0.1:0" or "[::1]:0".
address parse_listen(const std::string& spec) {
  const auto colon = spec.rfind(':');
  if (colon == std::string::npos) die("--listen needs ADDRESS:PORT");
  std::string host = spec.substr(0, colon);
  if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return parse_address(host, static_cast<std::uint16_t>(std::stoul(spec.substr(colon + 1))));
}

int bound_socket(const address& at) {
  const int fd = ::socket(at.storage.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die(std::string("socket: ") + std::strerror(errno));
  const int on = 1;
  if (at.v6()) {
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
  } else {
    ::setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
  }
  if (::bind(fd, at.raw(), at.size) != 0) die(std::string("bind: ") + std::strerror(errno));
  return fd;
}

std::uint16_t local_port(int fd) {
  address a;
  a.size = sizeof a.storage;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a.storage), &a.size);
  return a.port();
}

// A request as it arrived: who sent it, to which of our addresses, and when.
struct request {
  proto::packet packet;
  address from;
  std::optional<in_pktinfo> to_v4;
  std::optional<in6_pktinfo> to_v6;
  std::chrono::system_clock::time_point received;
};

// A datagram to send at `when`; a trickle sends it again every 100 ms, `repeat` more times.
struct pending {
  steady::time_point when;
  int fd;
  request to;
  std::vector<std::uint8_t> bytes;
  unsigned repeat = 0;
};

// Sends from `fd`; when the request named the local address, the reply leaves from it.
void send_to(int fd, const request& r, std::span<const std::uint8_t> bytes, bool use_pktinfo) {
  iovec iov{const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo))]{};
  msghdr msg{};
  msg.msg_name = const_cast<sockaddr*>(r.from.raw());
  msg.msg_namelen = r.from.size;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (use_pktinfo && (r.to_v4 || r.to_v6)) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    auto* c = CMSG_FIRSTHDR(&msg);
    if (r.to_v4) {
      in_pktinfo info{};
      info.ipi_spec_dst = r.to_v4->ipi_addr;
      c->cmsg_level = IPPROTO_IP;
      c->cmsg_type = IP_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof info);
      std::memcpy(CMSG_DATA(c), &info, sizeof info);
      msg.msg_controllen = CMSG_SPACE(sizeof info);
    } else {
      in6_pktinfo info{};
      info.ipi6_addr = r.to_v6->ipi6_addr;
      c->cmsg_level = IPPROTO_IPV6;
      c->cmsg_type = IPV6_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof info);
      std::memcpy(CMSG_DATA(c), &info, sizeof info);
      msg.msg_controllen = CMSG_SPACE(sizeof info);
    }
  }
  ::sendmsg(fd, &msg, 0);  // a full buffer or an ICMP error: the client's problem
}

// Reads one datagram; nullopt when nothing is queued or it is not a client request.
std::optional<request> receive_request(int fd, bool& more) {
  std::uint8_t buf[4096];
  alignas(cmsghdr) char control[256];
  request r;
  iovec iov{buf, sizeof buf};
  msghdr msg{};
  msg.msg_name = &r.from.storage;
  msg.msg_namelen = sizeof r.from.storage;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const auto n = ::recvmsg(fd, &msg, 0);
  r.received = std::chrono::system_clock::now();
  more = n >= 0;
  if (n < 0) return std::nullopt;
  r.from.size = msg.msg_namelen;
  for (auto* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      r.to_v4 = info;
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      r.to_v6 = info;
    }
  }
  auto p = proto::parse_packet(std::span(buf, static_cast<std::size_t>(n)));
  if (!p || p->mode != proto::association_mode::client) return std::nullopt;
  r.packet = *p;
  return r;
}

class responder {
 public:
  explicit responder(const options& o) : o_(o), s_(*o.scene) {
    main_at_ = parse_listen(o.listen);
    main_fd_ = bound_socket(main_at_);
    main_at_.set_port(local_port(main_fd_));
    if (!o.key_file.empty()) load_keys();
    if (s_.next_era) {
      offset_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
          hostile::era1_start + 5s - std::chrono::system_clock::now());
    }
    if (o.offset_s) offset_ = std::chrono::nanoseconds(std::llround(*o.offset_s * 1e9));
  }

  std::uint16_t port() const { return main_at_.port(); }
  double offset_s() const { return static_cast<double>(offset_.count()) / 1e9; }
  unsigned long requests() const { return requests_; }

  void run() {
    const auto end = steady::now() + std::chrono::duration_cast<steady::duration>(
                                         std::chrono::duration<double>(o_.lifetime_s));
    while (!stop_requested && steady::now() < end) {
      send_due();
      pollfd p{main_fd_, POLLIN, 0};
      if (::poll(&p, 1, poll_timeout_ms()) > 0) {
        for (bool more = true; more;) {
          if (auto r = receive_request(main_fd_, more)) handle(*r);
        }
      }
    }
  }

 private:
  void load_keys() {
    std::ifstream in(o_.key_file);
    std::stringstream text;
    text << in.rdbuf();
    proto::key_file_error error;
    auto keys = proto::parse_key_file(text.str(), &error);
    if (!keys) die(proto::to_string(error, o_.key_file));
    const auto* key = keys->find(static_cast<std::uint32_t>(o_.key_id));
    if (!key) die("no key " + std::to_string(o_.key_id) + " in " + o_.key_file);
    key_ = *key;
    for (const auto& k : keys->keys) {
      if (k.id() != key->id()) other_key_ = k;
    }
    policy_ = proto::default_mac_policy(keys->format);
  }

  bool ignored(const request& r) const {
    if (o_.silent_dst_mod == 0 || !r.to_v4) return false;
    return ntohl(r.to_v4->ipi_addr.s_addr) % o_.silent_dst_mod == 0;
  }

  proto::sys_nanoseconds server_time(std::chrono::system_clock::time_point t) const {
    return std::chrono::time_point_cast<std::chrono::nanoseconds>(t + offset_);
  }

  std::vector<std::uint8_t> finish(proto::packet p, bool genuine) {
    const bool sign = genuine || s_.sign;
    if (key_ && sign) {
      const auto& k = !genuine && s_.other_key ? other_key_ : key_;
      if (!k) die("mac_other_key needs a second key in the key file");
      if (!proto::sign_packet(p, *k, policy_)) die("cannot sign");
    }
    return proto::serialize_packet(p);
  }

  std::vector<std::uint8_t> genuine_bytes(const request& r) {
    const auto t2 = server_time(r.received);
    return finish(
        hostile::genuine_reply(r.packet, t2, server_time(std::chrono::system_clock::now())), true);
  }

  std::vector<std::uint8_t> scenario_bytes(const request& r) {
    auto p = hostile::genuine_reply(r.packet, server_time(r.received),
                                    server_time(std::chrono::system_clock::now()));
    if (s_.change) s_.change(p);
    auto b = finish(p, false);
    if (s_.wire) s_.wire(b);
    return b;
  }

  int socket_for(hostile::via v) {
    if (v == hostile::via::main) return main_fd_;
    int& fd = v == hostile::via::other_port ? other_port_fd_ : other_address_fd_;
    if (fd < 0) {
      address at =
          v == hostile::via::other_port ? main_at_ : parse_address(o_.other_address, port());
      if (v == hostile::via::other_port) at.set_port(0);
      fd = bound_socket(at);
    }
    return fd;
  }

  void later(steady::duration after, int fd, const request& r, std::vector<std::uint8_t> b,
             unsigned repeat = 0) {
    queue_.push_back({steady::now() + after, fd, r, std::move(b), repeat});
  }

  void handle(const request& r) {
    ++requests_;
    if (ignored(r)) return;
    const auto genuine_after = std::chrono::milliseconds(o_.genuine_delay_ms);
    switch (s_.act) {
      case hostile::behaviour::silent:
        return;
      case hostile::behaviour::replay:
        replay(r);
        return;
      case hostile::behaviour::flood:
        flood(r);
        break;
      case hostile::behaviour::trickle:
        later(100ms, main_fd_, r, hostile::junk(r.packet, 0), 600);
        break;
      case hostile::behaviour::straddle:
        straddle(r);
        return;
      case hostile::behaviour::answer:
        answer(r);
        break;
    }
    if (o_.then_genuine) later(genuine_after, main_fd_, r, genuine_bytes(r));
  }

  void answer(const request& r) {
    const auto fd = socket_for(s_.from);
    const auto delay = std::chrono::milliseconds(o_.delay_ms.value_or(s_.delay_ms));
    for (unsigned i = 0; i < s_.copies; ++i) {
      if (delay.count() > 0) {
        // Empty bytes: built when the reply leaves, so T3 is stamped then (a slow server).
        later(delay, fd, r, {});
      } else {
        send_to(fd, r, scenario_bytes(r), fd == main_fd_);
      }
    }
  }

  void replay(const request& r) {
    auto fresh = scenario_bytes(r);
    send_to(main_fd_, r, last_reply_.empty() ? fresh : last_reply_, true);
    if (last_reply_.empty()) last_reply_ = std::move(fresh);
  }

  void straddle(const request& r) {
    // Shift the clock so that T2 falls 1 ms before the boundary, and stamp T3 2 ms later.
    const auto shift = hostile::era1_start - 1ms - r.received;
    auto p = hostile::genuine_reply(
        r.packet, std::chrono::time_point_cast<std::chrono::nanoseconds>(r.received + shift),
        std::chrono::time_point_cast<std::chrono::nanoseconds>(r.received + shift + 2ms));
    std::this_thread::sleep_until(r.received + 2ms);
    send_to(main_fd_, r, finish(p, true), true);
  }

  void flood(const request& r) {
    // Junk in batches of 64 (sendmmsg), bounded by --flood-count and --flood-ms.
    constexpr std::size_t batch = 64;
    std::vector<std::vector<std::uint8_t>> junk;
    for (std::size_t i = 0; i < batch; ++i) junk.push_back(hostile::junk(r.packet, i));
    std::vector<iovec> iov(batch);
    std::vector<mmsghdr> msgs(batch);
    for (std::size_t i = 0; i < batch; ++i) {
      iov[i] = {junk[i].data(), junk[i].size()};
      msgs[i].msg_hdr = {};
      msgs[i].msg_hdr.msg_name = const_cast<sockaddr*>(r.from.raw());
      msgs[i].msg_hdr.msg_namelen = r.from.size;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const auto end = steady::now() + std::chrono::milliseconds(o_.flood_ms);
    for (unsigned long sent = 0; sent < o_.flood_count && steady::now() < end && !stop_requested;) {
      const int n = ::sendmmsg(main_fd_, msgs.data(), batch, 0);
      sent += n > 0 ? static_cast<unsigned long>(n) : batch;
    }
  }

  void send_due() {
    const auto now = steady::now();
    std::vector<pending> due;
    auto split = std::stable_partition(queue_.begin(), queue_.end(),
                                       [&](const pending& p) { return p.when > now; });
    std::move(split, queue_.end(), std::back_inserter(due));
    queue_.erase(split, queue_.end());
    for (auto& p : due) {
      send_to(p.fd, p.to, p.bytes.empty() ? scenario_bytes(p.to) : p.bytes, p.fd == main_fd_);
      if (p.repeat > 0) {
        p.when = now + 100ms;
        --p.repeat;
        queue_.push_back(std::move(p));
      }
    }
  }

  int poll_timeout_ms() const {
    int ms = 100;
    const auto now = steady::now();
    for (const auto& p : queue_) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(p.when - now).count();
      ms = std::min<int>(ms, static_cast<int>(std::max<long long>(0, left)));
    }
    return ms;
  }

  const options& o_;
  const hostile::scenario& s_;
  address main_at_;
  int main_fd_ = -1;
  int other_port_fd_ = -1;
  int other_address_fd_ = -1;
  std::optional<proto::symmetric_key> key_;
  std::optional<proto::symmetric_key> other_key_;
  proto::mac_policy policy_;
  std::chrono::nanoseconds offset_{0};
  std::vector<pending> queue_;
  std::vector<std::uint8_t> last_reply_;
  unsigned long requests_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const auto o = parse_args(argc, argv);
  struct sigaction sa {};
  sa.sa_handler = on_signal;  // no SA_RESTART: poll returns at once
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  responder r(o);
  if (o.print_port) {
    std::printf("port=%u offset=%.9f\n", r.port(), r.offset_s());
    std::fflush(stdout);
  }
  r.run();
  std::printf("requests=%lu\n", r.requests());
  return 0;
}
