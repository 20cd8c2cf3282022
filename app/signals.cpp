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
    // Asked twice: leave now (async-signal-safe), and say what that costs.
    constexpr char kQuit[] =
        "\nfitreel: quitting at once: this demo's results are not written (what an earlier run "
        "left in its folder stays as it was)\n";
    [[maybe_unused]] const ssize_t ignored = ::write(STDERR_FILENO, kQuit, sizeof kQuit - 1);
    ::_exit(128 + signal);
  }
  constexpr char kMessage[] =
      "\nfitreel: stopping after this epoch, then writing the results so far; signal again to "
      "quit at once without writing them\n";
  [[maybe_unused]] const ssize_t ignored = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
}

}  // namespace

void install_stop_handlers() {
  struct sigaction action{};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int stop_signal() { return requested.load(std::memory_order_relaxed); }

}  // namespace fitreel::app
