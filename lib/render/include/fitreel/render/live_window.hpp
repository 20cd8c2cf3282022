#pragma once

#include <opencv2/core.hpp>

#include <optional>
#include <string>

namespace fitreel::render {

/// Why a window cannot open here (no display), or nothing when it can. Check this before
/// making a LiveWindow: Debian's HighGUI (Qt) aborts the process without a display.
std::optional<std::string> live_window_unavailable();

/// A HighGUI window that shows frames as they come. Use it from one thread (the main one).
class LiveWindow {
 public:
  /// Opens a window called `title` (check live_window_unavailable() first).
  explicit LiveWindow(std::string title);
  /// Closes the window.
  ~LiveWindow();
  LiveWindow(const LiveWindow&) = delete;
  LiveWindow& operator=(const LiveWindow&) = delete;

  /// Shows `frame` and lets the window process its events for `wait_ms` milliseconds.
  void show(const cv::Mat& frame, int wait_ms = 1);

 private:
  std::string title_;
};

}  // namespace fitreel::render
