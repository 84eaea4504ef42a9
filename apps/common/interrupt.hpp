#pragma once

// Running a program's work so that SIGINT and SIGTERM end it cleanly: the work stops, and the
// program writes what had finished, marks the rest interrupted and exits 128 + the signal.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <exception>
#include <optional>
#include <utility>

namespace ntpkit::apps {

/// How a run ended: its value, or the signal that stopped it.
template <class T>
struct run_outcome {
  std::optional<T> value;  ///< set when the work finished
  int signal = 0;          ///< SIGINT or SIGTERM when it was stopped
};

/// Runs `task` on an io_context of its own until it ends or SIGINT/SIGTERM arrives. On a
/// signal the work is abandoned: its coroutines are destroyed with the io_context (sockets
/// close, nothing more is sent), and the callbacks it made before stay made. Rethrows what the
/// task threw.
template <class T>
run_outcome<T> run_until_signal(boost::asio::awaitable<T> task) {
  boost::asio::io_context io;
  run_outcome<T> out;
  std::exception_ptr failure;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;  // cancelled: the work finished first
    out.signal = signal;
    io.stop();
  });
  boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
    failure = e;
    if (!e) out.value = std::move(value);
    signals.cancel();
  });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return out;
}

}  // namespace ntpkit::apps
