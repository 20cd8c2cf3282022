#include "progress.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace fitreel::app {

namespace {

constexpr auto kPlainPeriod = std::chrono::seconds(5);

std::string describe(const std::string& demo, const Progress& p) {
  char text[224];
  // An adaptive film trains twice: first to see where the fit moves, then filming.
  const char* pass = p.measuring ? " (measuring, to place the frames)" : "";
  if (p.epoch == 0) {
    std::snprintf(text, sizeof text, "%s: epoch 0/%lld, training started%s", demo.c_str(),
                  static_cast<long long>(p.epochs), pass);
    return text;
  }
  const double rate =
      p.elapsed_seconds > 0.0 ? static_cast<double>(p.epoch) / p.elapsed_seconds : 0.0;
  const std::string eta =
      rate > 0.0 ? format_duration(static_cast<double>(p.epochs - p.epoch) / rate) : "?";
  std::snprintf(text, sizeof text, "%s: epoch %lld/%lld  loss %.6g  %.0f epochs/s  ETA %s%s",
                demo.c_str(), static_cast<long long>(p.epoch), static_cast<long long>(p.epochs),
                static_cast<double>(p.loss), rate, eta.c_str(), pass);
  return text;
}

}  // namespace

std::string format_duration(double seconds) {
  const auto total = static_cast<long long>(std::llround(std::max(0.0, seconds)));
  char text[32];
  if (total >= 3600) {
    std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", total / 3600, total / 60 % 60,
                  total % 60);
  } else {
    std::snprintf(text, sizeof text, "%lld:%02lld", total / 60, total % 60);
  }
  return text;
}

namespace {

// Redrawing in place needs escape codes: only on a terminal, and one that knows them.
bool stderr_takes_escape_codes() {
  const char* term = std::getenv("TERM");
  return ::isatty(STDERR_FILENO) == 1 && term != nullptr && *term != '\0' &&
         std::string_view(term) != "dumb";
}

}  // namespace

ProgressLine::ProgressLine(std::string demo, bool enabled)
    : demo_(std::move(demo)), enabled_(enabled), terminal_(stderr_takes_escape_codes()) {}

void ProgressLine::update(const Progress& progress) {
  if (!enabled_) {
    return;
  }
  if (terminal_) {
    std::fprintf(stderr, "\r\033[K%s", describe(demo_, progress).c_str());
    std::fflush(stderr);
    drawn_ = true;
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  const bool first = last_plain_ == std::chrono::steady_clock::time_point{};
  const bool filming_starts = progress.epoch == 0 && !progress.measuring;
  if (first || filming_starts || now - last_plain_ >= kPlainPeriod ||
      progress.epoch == progress.epochs) {
    last_plain_ = now;
    spdlog::info("{}", describe(demo_, progress));
  }
}

void ProgressLine::finish() {
  if (drawn_) {
    std::fputs("\n", stderr);
    drawn_ = false;
  }
}

}  // namespace fitreel::app
