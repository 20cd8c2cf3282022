#include "signals.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>

namespace fitreel::app {

namespace {

std::atomic<int> requested{0};

extern "C" void on_stop_signal(int signal) {
  int none = 0;
  if (!requested.compare_exchange_strong(none, signal)) {
    ::_exit(128 + signal);  // asked twice: leave now (async-signal-safe)
  }
  constexpr char kMessage[] =
      "\nfitreel: stopping after this epoch and finishing the outputs; signal again to quit at "
      "once\n";
  [[maybe_unused]] const ssize_t ignored = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
}

}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int stop_signal() { return requested.load(std::memory_order_relaxed); }

}  // namespace fitreel::app
