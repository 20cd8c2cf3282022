#include <fitreel/error.hpp>
#include <fitreel/schedule.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace fitreel {

std::string_view schedule_name(Schedule schedule) {
  return schedule == Schedule::log ? "log" : "linear";
}

std::optional<Schedule> schedule_from_name(std::string_view name) {
  if (name == "log") {
    return Schedule::log;
  }
  if (name == "linear") {
    return Schedule::linear;
  }
  return std::nullopt;
}

std::vector<int64_t> frame_epochs(int64_t epochs, int64_t frames, Schedule schedule) {
  if (epochs < 1 || (frames < 2 && epochs > 1)) {
    throw InputError("frame_epochs needs epochs >= 1 and frames >= 2");
  }
  const int64_t count = std::min(frames, epochs);
  const int64_t last = epochs - 1;
  std::vector<int64_t> picked;
  picked.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const double t = count == 1 ? 0.0 : static_cast<double>(i) / static_cast<double>(count - 1);
    // log: evenly spaced in log(1 + epoch), so 0 and the last epoch are both reachable.
    const double ideal = schedule == Schedule::log
                             ? std::expm1(t * std::log1p(static_cast<double>(last)))
                             : t * static_cast<double>(last);
    auto epoch = static_cast<int64_t>(std::llround(ideal));
    // Distinct and ascending (take the next unused epoch), but leave room for the rest.
    const int64_t lowest = picked.empty() ? 0 : picked.back() + 1;
    const int64_t highest = last - (count - 1 - i);
    picked.push_back(std::clamp(epoch, lowest, highest));
  }
  return picked;
}

}  // namespace fitreel
