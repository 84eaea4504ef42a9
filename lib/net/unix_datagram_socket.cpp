#include "ntpkit/net/unix_datagram_socket.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <utility>

namespace ntpkit::net {
namespace {

using namespace asio::experimental::awaitable_operators;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

proto::sys_nanoseconds now_ns() {
  return std::chrono::time_point_cast<std::chrono::nanoseconds>(
      std::chrono::system_clock::now());
}

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

unix_datagram_socket::unix_datagram_socket(local::datagram_protocol::socket s, std::string path)
    : socket_(std::move(s)), path_(std::move(path)) {}

unix_datagram_socket::unix_datagram_socket(unix_datagram_socket&& o) noexcept
    : socket_(std::move(o.socket_)), path_(std::exchange(o.path_, {})), next_id_(o.next_id_) {}

unix_datagram_socket& unix_datagram_socket::operator=(unix_datagram_socket&& o) noexcept {
  if (this != &o) {
    close();
    socket_ = std::move(o.socket_);
    path_ = std::exchange(o.path_, {});
    next_id_ = o.next_id_;
  }
  return *this;
}

unix_datagram_socket::~unix_datagram_socket() { close(); }

void unix_datagram_socket::close() noexcept {
  boost::system::error_code ignored;
  socket_.close(ignored);
  if (!path_.empty()) ::unlink(path_.c_str());
  path_.clear();
}

result<unix_datagram_socket> unix_datagram_socket::open(const asio::any_io_executor& ex,
                                                        const std::string& server_path) {
  // Several sockets of one process (and several processes) need distinct paths.
  static std::atomic<unsigned> serial{0};
  const std::string path = directory_of(server_path) + "/ntpkit." +
                           std::to_string(::getpid()) + "." + std::to_string(serial++) + ".sock";
  if (path.size() >= sizeof(sockaddr_un::sun_path) ||
      server_path.size() >= sizeof(sockaddr_un::sun_path)) {
    return std::make_error_code(std::errc::filename_too_long);
  }
  local::datagram_protocol::socket s(ex);
  boost::system::error_code ec;
  s.open(local::datagram_protocol(), ec);
  if (ec) return std::error_code(ec);
  ::unlink(path.c_str());  // a stale one of a process that had our PID and died
  s.bind(endpoint_type(path), ec);
  if (ec) return std::error_code(ec);
  // chronyd answers as the user it dropped to: let it write to our socket.
  ::chmod(path.c_str(), 0666);
  s.non_blocking(true, ec);
  if (ec) {
    ::unlink(path.c_str());
    return std::error_code(ec);
  }
  return unix_datagram_socket(std::move(s), path);
}

result<sent_datagram> unix_datagram_socket::send(std::span<const std::uint8_t> bytes,
                                                 const endpoint_type& to) {
  sent_datagram d;
  d.user_time = now_ns();
  d.id = next_id_++;
  boost::system::error_code ec;
  socket_.send_to(asio::buffer(bytes.data(), bytes.size()), to, 0, ec);
  if (ec) return std::error_code(ec);
  return d;
}

asio::awaitable<result<local_datagram>> unix_datagram_socket::receive(
    std::span<std::uint8_t> buffer, std::chrono::steady_clock::time_point deadline) {
  const auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor, deadline);
  for (bool last_look = false;;) {
    // MSG_TRUNC: recvfrom returns the datagram's real length, so truncation shows.
    sockaddr_un from{};
    socklen_t from_len = sizeof from;
    const auto n = ::recvfrom(socket_.native_handle(), buffer.data(), buffer.size(),
                              MSG_TRUNC | MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from),
                              &from_len);
    if (n >= 0) {
      local_datagram d;
      d.size = std::min(static_cast<std::size_t>(n), buffer.size());
      d.truncated = static_cast<std::size_t>(n) > buffer.size();
      if (from_len > offsetof(sockaddr_un, sun_path) && from.sun_path[0] != '\0') {
        d.from = endpoint_type(std::string(from.sun_path));
      }
      d.time = now_ns();
      co_return d;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      co_return std::error_code(errno, std::system_category());
    }
    if (last_look || std::chrono::steady_clock::now() >= deadline) {
      co_return std::make_error_code(std::errc::timed_out);
    }
    auto done = co_await (socket_.async_wait(local::datagram_protocol::socket::wait_read,
                                             use_tuple) ||
                          timer.async_wait(use_tuple));
    if (done.index() == 1) {
      last_look = true;  // a datagram may have raced the timer
      continue;
    }
    auto [ec] = std::get<0>(done);
    if (ec) co_return std::error_code(ec);
  }
}

}  // namespace ntpkit::net
