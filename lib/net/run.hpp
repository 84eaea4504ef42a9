#pragma once

// Internal helpers shared by the net layer's coroutine front ends (ntp_client.cpp,
// broadcast.cpp).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <utility>

namespace ntpkit::net::detail {

/// "1.5 s": a duration as the timeout messages print it.
inline std::string seconds_text(std::chrono::milliseconds ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", static_cast<double>(ms.count()) / 1000.0);
  return buf;
}

/// Runs `task` on an io_context of its own until it ends; returns its value or rethrows what
/// it threw. The *_blocking functions are this around their coroutine.
template <typename T>
T run_blocking(boost::asio::awaitable<T> task) {
  boost::asio::io_context io;
  T out{};
  std::exception_ptr failure;
  boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
    failure = e;
    out = std::move(value);
  });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return out;
}

}  // namespace ntpkit::net::detail
