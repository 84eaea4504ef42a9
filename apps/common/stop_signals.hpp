#pragma once

// SIGINT and SIGTERM recorded rather than fatal, for interrupt.hpp's run_until_signal (this
// header and stop_signals.cpp stay free of Asio, whose headers give every file that includes
// them static initialisation work at start).

namespace ntpkit::apps {

/// Installs handlers for SIGINT and SIGTERM that only record the signal (async-signal-safe);
/// a second signal of the same kind kills the process as usual.
void catch_stop_signals() noexcept;

/// The signal recorded since catch_stop_signals(), or 0.
int stop_signal() noexcept;

}  // namespace ntpkit::apps
