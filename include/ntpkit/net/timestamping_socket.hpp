#pragma once

// A UDP socket that reports when the kernel sent and received each datagram (SO_TIMESTAMPING
// software timestamps, falling back to user-space clock reads), and ICMP errors (IP_RECVERR)
// for an unconnected socket. All Linux socket-option handling lives in timestamping_socket.cpp, as
// chrony keeps it in ntp_io_linux.c.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "ntpkit/export.hpp"
#include "ntpkit/proto/timestamp.hpp"
#include "ntpkit/proto/session.hpp"
#include "ntpkit/result.hpp"

namespace ntpkit::net {

namespace asio = boost::asio;
using udp = asio::ip::udp;

/// A datagram we sent.
struct sent_datagram {
  proto::sys_nanoseconds user_time;  ///< system clock read just before the send
  std::uint32_t id = 0;              ///< sequence number of the send on this socket
};

/// A datagram we received.
struct received_datagram {
  std::size_t size = 0;      ///< bytes placed in the buffer
  bool truncated = false;    ///< the datagram was longer than the buffer
  udp::endpoint from;
  proto::sys_nanoseconds time;  ///< kernel receive time, or the system clock right after
  proto::time_source source = proto::time_source::user;
};

/// UDP socket with kernel timestamps.
class NTPKIT_API timestamping_socket {
 public:
  using endpoint_type = udp::endpoint;
  /// Opens an unbound socket of `protocol` (the kernel picks the port at the first send).
  static result<timestamping_socket> open(const asio::any_io_executor& ex,
                                          const udp& protocol);

  timestamping_socket(timestamping_socket&&) noexcept;
  timestamping_socket& operator=(timestamping_socket&&) noexcept;
  ~timestamping_socket();

  /// Binds to `local` (with SO_REUSEADDR, so that several listeners can share a broadcast
  /// port) and joins multicast `group` when given.
  result<void> listen_on(const udp::endpoint& local, const asio::ip::address* group);

  /// Sends `bytes` to `to`. The clock is read immediately before the system call. Not while a
  /// receive() on this socket is suspended: the socket leaves the event loop's epoll set for
  /// the send (see timestamping_socket.cpp).
  result<sent_datagram> send(std::span<const std::uint8_t> bytes, const udp::endpoint& to);

  /// Waits for the next datagram until `deadline` (steady clock). A datagram already queued is
  /// returned even when the deadline has passed, but for at most 64 such calls in a row; then
  /// it says timed_out although more are queued (a flood ends a caller's loop by its
  /// deadline). Errors: std::errc::timed_out,
  /// ICMP-reported errors (connection_refused = port unreachable, host_unreachable,
  /// network_unreachable), other socket errors.
  asio::awaitable<result<received_datagram>> receive(
      std::span<std::uint8_t> buffer, std::chrono::steady_clock::time_point deadline);

  /// The kernel's transmit time of send `id`, once the kernel has reported it.
  std::optional<proto::sys_nanoseconds> transmit_time(std::uint32_t id);

  /// True when the kernel timestamps received datagrams.
  bool kernel_receive_timestamps() const noexcept { return rx_kernel_; }

  /// The socket's descriptor.
  int native_handle() noexcept;

  /// True while the descriptor is in the event loop's epoll set (from a receive() that had to
  /// wait until the next send()).
  bool in_event_loop() const noexcept { return socket_.is_open(); }

 private:
  timestamping_socket(const asio::any_io_executor& ex, int fd, bool v6, bool rx_kernel,
                      bool tx_kernel);
  // Puts the descriptor into the event loop (socket_ owns it then), or takes it out (fd_).
  result<void> enter_event_loop();
  void leave_event_loop();
  // Reads the error queue: transmit timestamps and ICMP errors.
  void drain_error_queue();
  // One non-blocking read; std::errc::resource_unavailable_try_again when nothing is queued.
  result<received_datagram> try_receive(std::span<std::uint8_t> buffer);

  // A descriptor closed with its holder; a move leaves -1 behind.
  class owned_fd {
   public:
    owned_fd() = default;
    explicit owned_fd(int fd) noexcept : fd_(fd) {}
    owned_fd(owned_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    owned_fd& operator=(owned_fd&& o) noexcept {
      if (this != &o) reset(o.release());
      return *this;
    }
    ~owned_fd() { reset(); }
    int get() const noexcept { return fd_; }
    int release() noexcept { return std::exchange(fd_, -1); }
    void reset(int fd = -1) noexcept;  // closes the one held

   private:
    int fd_ = -1;
  };

  udp::socket socket_;  // owns the descriptor while it is in the event loop
  owned_fd fd_;         // owns it otherwise
  bool v6_ = false;
  bool rx_kernel_ = false;
  bool tx_kernel_ = false;
  std::uint32_t next_id_ = 0;
  unsigned late_reads_ = 0;  // receive() calls past their deadline, in a row
  unsigned reads_ = 0;       // receive() calls, to let other coroutines run under a flood
  std::vector<std::pair<std::uint32_t, proto::sys_nanoseconds>> tx_times_;
  std::error_code icmp_error_;
};

/// The system clock's resolution as an NTP precision (log2 seconds), measured once as the
/// shortest step between consecutive reads.
NTPKIT_API std::int8_t local_precision();

/// 64 bits from the kernel's CSPRNG (getrandom), for transmit timestamps.
NTPKIT_API std::uint64_t random_bits();

}  // namespace ntpkit::net
