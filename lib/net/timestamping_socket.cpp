#include "ntpkit/net/timestamping_socket.hpp"

#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/multicast.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <utility>

namespace ntpkit::net {
namespace {

using namespace asio::experimental::awaitable_operators;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// A recvmsg header for one datagram into `iov`, its sender into `name`, ancillary data into
// `control`.
template <std::size_t N>
msghdr receive_header(sockaddr_storage& name, iovec& iov, char (&control)[N]) {
  msghdr msg{};
  msg.msg_name = &name;
  msg.msg_namelen = sizeof name;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = N;
  return msg;
}
using std::chrono::system_clock;

// Transmit timestamps of this many recent sends are kept.
constexpr std::size_t max_tx_times = 16;

// Calls of receive() past their deadline that may still return a queued datagram, in a row.
constexpr unsigned max_reads_after_deadline = 64;
// A socket that always has a datagram queued never suspends its reader; every this many
// reads it yields, so that a flood at one address does not stall the queries of others.
constexpr unsigned reads_between_yields = 16;

std::error_code last_error() { return {errno, std::system_category()}; }

proto::sys_nanoseconds now_ns() {
  return std::chrono::time_point_cast<std::chrono::nanoseconds>(system_clock::now());
}

proto::sys_nanoseconds from_timespec(const timespec& ts) {
  return proto::sys_nanoseconds{std::chrono::seconds{ts.tv_sec} +
                                std::chrono::nanoseconds{ts.tv_nsec}};
}

bool set_int_option(int fd, int level, int name, int value) {
  return ::setsockopt(fd, level, name, &value, sizeof value) == 0;
}

bool is_recverr(const cmsghdr* c) {
  return (c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
         (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR);
}

}  // namespace

timestamping_socket::timestamping_socket(const asio::any_io_executor& ex, int fd, bool v6,
                                         bool rx_kernel, bool tx_kernel)
    : socket_(ex), fd_(fd), v6_(v6), rx_kernel_(rx_kernel), tx_kernel_(tx_kernel) {}

timestamping_socket::timestamping_socket(timestamping_socket&&) noexcept = default;
timestamping_socket& timestamping_socket::operator=(timestamping_socket&&) noexcept = default;
timestamping_socket::~timestamping_socket() = default;

void timestamping_socket::owned_fd::reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

result<timestamping_socket> timestamping_socket::open(const asio::any_io_executor& ex,
                                                      const udp& protocol) {
  // Opened outside the event loop: it joins the loop's epoll set only when a receive() has to
  // wait (see send()).
  const bool v4 = protocol == udp::v4();
  const int fd = ::socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return last_error();
  // ICMP errors (port unreachable, ...) reach an unconnected socket only through IP_RECVERR.
  set_int_option(fd, v4 ? SOL_IP : SOL_IPV6, v4 ? IP_RECVERR : IPV6_RECVERR, 1);
  const int flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_TX_SOFTWARE |
                    SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID |
                    SOF_TIMESTAMPING_OPT_TSONLY;
  if (set_int_option(fd, SOL_SOCKET, SO_TIMESTAMPING, flags)) {
    return timestamping_socket(ex, fd, !v4, true, true);
  }
  const bool rx = set_int_option(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1);
  return timestamping_socket(ex, fd, !v4, rx, false);
}

int timestamping_socket::native_handle() noexcept {
  return socket_.is_open() ? socket_.native_handle() : fd_.get();
}

result<void> timestamping_socket::enter_event_loop() {
  if (socket_.is_open()) return {};
  boost::system::error_code ec;
  socket_.assign(v6_ ? udp::v6() : udp::v4(), fd_.get(), ec);  // epoll_ctl(ADD)
  if (ec) return std::error_code(ec);  // fd_ still owns it
  fd_.release();                       // socket_ does now
  return {};
}

void timestamping_socket::leave_event_loop() {
  if (!socket_.is_open()) return;
  boost::system::error_code ec;
  fd_.reset(socket_.release(ec));  // epoll_ctl(DEL); no operation is pending on it (send())
}

result<void> timestamping_socket::listen_on(const udp::endpoint& local,
                                            const asio::ip::address* group) {
  const int fd = native_handle();
  if (!set_int_option(fd, SOL_SOCKET, SO_REUSEADDR, 1)) return last_error();
  if (::bind(fd, local.data(), static_cast<socklen_t>(local.size())) != 0) return last_error();
  if (group) {
    const udp protocol = v6_ ? udp::v6() : udp::v4();
    const asio::ip::multicast::join_group join(*group);
    if (::setsockopt(fd, join.level(protocol), join.name(protocol), join.data(protocol),
                     static_cast<socklen_t>(join.size(protocol))) != 0) {
      return last_error();
    }
  }
  return {};
}

result<sent_datagram> timestamping_socket::send(std::span<const std::uint8_t> bytes,
                                                const udp::endpoint& to) {
  // The socket is out of the event loop's epoll set while it sends. In it, epoll has a
  // wait-queue entry on the socket, and when the kernel queues our transmit timestamp (T1) on
  // the error queue it runs epoll's wake-up callback for it, after taking T1 and before
  // passing the packet on: on loopback that was 0.9 us more in every measured delay
  // (docs/benchmarks.md). chronyd's client, which waits in select(), has no such entry while
  // it sends. receive() puts the socket back when it has to wait; a reply already queued by
  // then (a fast server) needs no epoll call at all.
  leave_event_loop();
  const int fd = native_handle();
  // Nothing but the clock read stands between T1 and the system call.
  const auto t1 = now_ns();
  const auto n = ::sendto(fd, bytes.data(), bytes.size(), 0, to.data(),
                          static_cast<socklen_t>(to.size()));
  if (n < 0) return last_error();
  return sent_datagram{t1, next_id_++};
}

void timestamping_socket::drain_error_queue() {
  for (;;) {
    alignas(cmsghdr) char control[512];
    std::uint8_t payload[128];
    sockaddr_storage name{};
    iovec iov{payload, sizeof payload};
    msghdr msg = receive_header(name, iov, control);
    if (::recvmsg(native_handle(), &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return;
    std::optional<proto::sys_nanoseconds> stamp;
    std::optional<std::uint32_t> id;
    for (auto* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING) {
        scm_timestamping ts;
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        if (ts.ts[0].tv_sec != 0 || ts.ts[0].tv_nsec != 0) stamp = from_timespec(ts.ts[0]);
      } else if (is_recverr(c)) {
        sock_extended_err ee;
        std::memcpy(&ee, CMSG_DATA(c), sizeof ee);
        if (ee.ee_origin == SO_EE_ORIGIN_TIMESTAMPING) {
          id = ee.ee_data;
        } else if (ee.ee_errno != 0) {
          icmp_error_ = std::error_code(static_cast<int>(ee.ee_errno), std::system_category());
        }
      }
    }
    if (stamp && id) {
      if (tx_times_.size() == max_tx_times) tx_times_.erase(tx_times_.begin());
      tx_times_.emplace_back(*id, *stamp);
    }
  }
}

result<received_datagram> timestamping_socket::try_receive(std::span<std::uint8_t> buffer) {
  alignas(cmsghdr) char control[256];
  sockaddr_storage name{};
  iovec iov{buffer.data(), buffer.size()};
  msghdr msg = receive_header(name, iov, control);
  const auto n = ::recvmsg(native_handle(), &msg, MSG_DONTWAIT);
  const auto user_time = now_ns();
  if (n < 0) return last_error();
  received_datagram d;
  d.size = static_cast<std::size_t>(n);
  d.truncated = (msg.msg_flags & MSG_TRUNC) != 0;
  d.time = user_time;
  const std::size_t name_size = std::min<std::size_t>(msg.msg_namelen, d.from.capacity());
  std::memcpy(d.from.data(), &name, name_size);
  d.from.resize(name_size);
  for (auto* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET) continue;
    if (c->cmsg_type == SCM_TIMESTAMPING) {
      scm_timestamping ts;
      std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
      if (ts.ts[0].tv_sec != 0 || ts.ts[0].tv_nsec != 0) {
        d.time = from_timespec(ts.ts[0]);
        d.source = proto::time_source::kernel;
      }
    } else if (c->cmsg_type == SCM_TIMESTAMPNS) {
      timespec ts;
      std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
      d.time = from_timespec(ts);
      d.source = proto::time_source::kernel;
    }
  }
  return d;
}

asio::awaitable<result<received_datagram>> timestamping_socket::receive(
    std::span<std::uint8_t> buffer, std::chrono::steady_clock::time_point deadline) {
  // Datagrams queued before the deadline are still handed out after it (we may have been busy
  // elsewhere), but only so many: a peer that keeps the socket non-empty (a flood faster than
  // we read) must not hold a caller that loops on receive() past its deadline.
  if (std::chrono::steady_clock::now() < deadline) {
    late_reads_ = 0;
  } else if (++late_reads_ > max_reads_after_deadline) {
    co_return std::make_error_code(std::errc::timed_out);
  }
  const auto executor = co_await asio::this_coro::executor;
  if (++reads_ % reads_between_yields == 0) co_await asio::post(executor, asio::use_awaitable);
  asio::steady_timer timer(executor, deadline);
  for (bool last_look = false;; ) {
    // Epoll is edge-triggered and an async_wait is never speculative: always look before
    // waiting, and drain the error queue so that a pending timestamp does not wake us forever.
    drain_error_queue();
    if (icmp_error_) co_return std::exchange(icmp_error_, {});
    auto got = try_receive(buffer);
    if (got || got.error() != std::errc::resource_unavailable_try_again) co_return got;
    if (last_look || std::chrono::steady_clock::now() >= deadline) {
      co_return std::make_error_code(std::errc::timed_out);
    }
    if (auto in = enter_event_loop(); !in) co_return in.error();
    auto done = co_await (socket_.async_wait(udp::socket::wait_read, use_tuple) ||
                          timer.async_wait(use_tuple));
    if (done.index() == 1) {
      last_look = true;  // a datagram may have raced the timer
      continue;
    }
    auto [ec] = std::get<0>(done);
    if (ec) co_return std::error_code(ec);
  }
}

std::optional<proto::sys_nanoseconds> timestamping_socket::transmit_time(std::uint32_t id) {
  if (!tx_kernel_) return std::nullopt;
  const auto known = [&]() -> std::optional<proto::sys_nanoseconds> {
    for (const auto& [sent_id, when] : tx_times_) {
      if (sent_id == id) return when;
    }
    return std::nullopt;
  };
  // Usually read already while waiting for the reply; look at the error queue only if not.
  if (auto when = known()) return when;
  drain_error_queue();
  return known();
}

std::int8_t local_precision() {
  static const std::int8_t precision = [] {
    long best = 1'000'000'000;
    timespec a{}, b{};
    for (int i = 0; i < 64; ++i) {
      ::clock_gettime(CLOCK_REALTIME, &a);
      do {
        ::clock_gettime(CLOCK_REALTIME, &b);
      } while (b.tv_sec == a.tv_sec && b.tv_nsec == a.tv_nsec);
      const long step = (b.tv_sec - a.tv_sec) * 1'000'000'000L + (b.tv_nsec - a.tv_nsec);
      if (step > 0) best = std::min(best, step);
    }
    // ceil(log2(best ns / 1e9)), in integers (std::log2 would make programs load libm): the
    // smallest p with 2^p >= best / 1e9, i.e. -q for the largest q with best * 2^q <= 1e9.
    int q = 0;
    while ((best << (q + 1)) <= 1'000'000'000L) ++q;
    return static_cast<std::int8_t>(-q);
  }();
  return precision;
}

std::uint64_t random_bits() {
  // Taken from the kernel 32 values at a time (one getrandom per 32 requests, not one each);
  // each value is used once.
  constexpr std::size_t pool_size = 32;
  thread_local std::array<std::uint64_t, pool_size> pool;
  thread_local std::size_t left = 0;
  if (left == 0) {
    auto* p = reinterpret_cast<unsigned char*>(pool.data());
    std::size_t got = 0;
    while (got < sizeof pool) {
      const auto n = ::getrandom(p + got, sizeof pool - got, 0);
      if (n > 0) got += static_cast<std::size_t>(n);
    }
    left = pool_size;
  }
  const auto v = pool[--left];
  pool[left] = 0;
  return v;
}

}  // namespace ntpkit::net
