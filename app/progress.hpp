#pragma once

#include <fitreel/snapshot.hpp>

#include <chrono>
#include <string>

namespace fitreel::app {

/// Training progress on stderr: on a terminal one line redrawn in place (epoch, loss,
/// epochs/s, ETA); otherwise a plain line when training starts and then every few seconds.
class ProgressLine {
 public:
  /// `enabled` false prints nothing (--quiet).
  ProgressLine(std::string demo, bool enabled);
  void update(const Progress& progress);
  /// Ends the redrawn line so later logs start on a fresh one.
  void finish();

 private:
  std::string demo_;
  bool enabled_;
  bool terminal_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_plain_{};
};

/// "1:05" or "2:01:05" for a duration in seconds.
std::string format_duration(double seconds);

}  // namespace fitreel::app
