#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace fitreel {

/// How frame epochs are spread over a run.
enum class Schedule {
  linear,  ///< evenly in epochs: suits a fit that moves at a steady pace (the net demo)
  log,     ///< dense early, sparse late: suits a fit that moves most at first (the line demo)
};

/// "linear" or "log".
std::string_view schedule_name(Schedule schedule);
/// The schedule called `name`, or nothing.
std::optional<Schedule> schedule_from_name(std::string_view name);

/// min(frames, epochs) distinct epochs in [0, epochs), ascending, always the first and the
/// last. Where log spacing would repeat an epoch, the next unused one is taken, so the count
/// is exact. Needs epochs >= 1 and frames >= 2 (or epochs == 1).
std::vector<int64_t> frame_epochs(int64_t epochs, int64_t frames, Schedule schedule);

}  // namespace fitreel
