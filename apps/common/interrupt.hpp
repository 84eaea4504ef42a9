#pragma once

// Running a program's work so that SIGINT and SIGTERM end it cleanly: the work stops, and the
// program writes what had finished, marks the rest interrupted and exits 128 + the signal.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <csignal>
#include <exception>
#include <optional>
#include <utility>

#include "stop_signals.hpp"

namespace ntpkit::apps {

/// How a run ended: its value, or the signal that stopped it.
template <class T>
struct run_outcome {
  std::optional<T> value;  ///< set when the work finished
  int signal = 0;          ///< SIGINT or SIGTERM when it was stopped
};

/// Runs `task` on an io_context of its own until it ends or SIGINT/SIGTERM arrives. A signal
/// interrupts the event loop's wait; the loop looks at it at least every 100 ms. On a signal
/// the work is abandoned: its coroutines are destroyed with the io_context (sockets close,
/// nothing more is sent), and the callbacks it made before stay made. Rethrows what the task
/// threw. (Plain sigaction rather than asio::signal_set: one query runs in a millisecond, and
/// signal_set's service costs a tenth of the instructions of the whole query.)
template <class T>
run_outcome<T> run_until_signal(boost::asio::awaitable<T> task) {
  catch_stop_signals();
  boost::asio::io_context io;
  run_outcome<T> out;
  std::exception_ptr failure;
  bool done = false;
  boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
    failure = e;
    if (!e) out.value = std::move(value);
    done = true;
  });
  while (!done && (out.signal = stop_signal()) == 0) {
    io.run_for(std::chrono::milliseconds(100));
    if (io.stopped() && !done) io.restart();
  }
  if (done) out.signal = 0;
  if (failure) std::rethrow_exception(failure);
  return out;
}

}  // namespace ntpkit::apps
