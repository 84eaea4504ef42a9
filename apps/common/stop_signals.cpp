#include "stop_signals.hpp"

#include <csignal>
#include <cstring>

namespace ntpkit::apps {
namespace {

volatile std::sig_atomic_t caught = 0;

extern "C" void record_signal(int signal) { caught = signal; }

}  // namespace

void catch_stop_signals() noexcept {
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_handler = record_signal;  // sa_mask empty: zeroed above
  action.sa_flags = SA_RESETHAND;  // no SA_RESTART: the signal ends the event loop's wait
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

int stop_signal() noexcept { return caught; }

}  // namespace ntpkit::apps
