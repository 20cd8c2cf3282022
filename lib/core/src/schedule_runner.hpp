#pragma once

// Internal: a learning-rate schedule followed epoch by epoch, each rate computed from the one
// before as PyTorch's schedulers compute theirs (their chainable recurrence, in double).

#include <fitreel/training.hpp>

#include <cstdint>

namespace fitreel::detail {

class ScheduleRunner {
 public:
  /// `epochs`: the whole run's (a cosine schedule's half period when t_max is 0). Throws
  /// InputError for bad settings.
  ScheduleRunner(const LrSchedule& schedule, double lr, int64_t epochs);
  /// Whether the rate ever changes (not a constant schedule).
  bool changes() const;
  /// The rate of `epoch` (0-based); epochs must come in increasing order.
  double rate(int64_t epoch);
  /// Moves to `epoch` without being asked for the rates before it (a resumed run).
  void skip_to(int64_t epoch) { rate(epoch); }

 private:
  const LrSchedule& schedule_;
  double lr_;
  double t_max_;
  int64_t epoch_ = 0;  // the epoch `rate_` is for
  double rate_;
};

/// InputError unless the schedule's settings are usable.
void check_schedule(const LrSchedule& schedule, const std::string& name);

}  // namespace fitreel::detail
