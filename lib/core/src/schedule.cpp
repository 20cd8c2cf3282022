#include <fitreel/error.hpp>
#include <fitreel/schedule.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace fitreel {

std::string_view schedule_name(Schedule schedule) {
  switch (schedule) {
    case Schedule::log:
      return "log";
    case Schedule::adaptive:
      return "adaptive";
    case Schedule::linear:
      break;
  }
  return "linear";
}

std::optional<Schedule> schedule_from_name(std::string_view name) {
  if (name == "log") {
    return Schedule::log;
  }
  if (name == "linear") {
    return Schedule::linear;
  }
  if (name == "adaptive") {
    return Schedule::adaptive;
  }
  return std::nullopt;
}

std::vector<int64_t> frame_epochs(int64_t epochs, int64_t frames, Schedule schedule) {
  if (epochs < 1 || (frames < 2 && epochs > 1)) {
    throw InputError("frame_epochs needs epochs >= 1 and frames >= 2");
  }
  if (schedule == Schedule::adaptive) {
    throw InputError(
        "Schedule::adaptive places frames where a measured run moves: frame_epochs has no "
        "run to measure (a Film does it; or see frame_epochs_by_motion)");
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

std::vector<int64_t> motion_probe_epochs(int64_t epochs, int64_t count) {
  if (epochs < 1 || count < 4) {
    throw InputError("motion_probe_epochs needs epochs >= 1 and count >= 4");
  }
  if (epochs <= count) {
    std::vector<int64_t> every(static_cast<size_t>(epochs));
    std::iota(every.begin(), every.end(), int64_t{0});
    return every;
  }
  std::vector<int64_t> probes = frame_epochs(epochs, count / 2, Schedule::linear);
  const std::vector<int64_t> early = frame_epochs(epochs, count - count / 2, Schedule::log);
  probes.insert(probes.end(), early.begin(), early.end());
  std::sort(probes.begin(), probes.end());
  probes.erase(std::unique(probes.begin(), probes.end()), probes.end());
  return probes;
}

namespace {

// How far the drawn curve moves from rows `a` to rows `b`: its largest change of any row; a
// point that appears or vanishes (NaN on one side) counts as a jump across the picture.
double largest_move(const std::vector<double>& a, const std::vector<double>& b) {
  constexpr double kAppears = 1e4;
  double most = 0.0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    const bool seen_a = std::isfinite(a[i]);
    const bool seen_b = std::isfinite(b[i]);
    if (seen_a != seen_b) {
      return kAppears;
    }
    if (seen_a) {
      most = std::max(most, std::abs(a[i] - b[i]));
    }
  }
  return most;
}

// The probes a film takes when each step must move at least `step`: the first, every probe
// that moved that far from the last one taken, and the last.
std::vector<size_t> taken_at_least(const std::vector<int64_t>& probes,
                                   const std::vector<std::vector<double>>& rows, double per_epoch,
                                   double step) {
  std::vector<size_t> taken{0};
  for (size_t k = 1; k + 1 < probes.size(); ++k) {
    const size_t last = taken.back();
    const double moved = largest_move(rows[last], rows[k]) +
                         per_epoch * static_cast<double>(probes[k] - probes[last]);
    if (moved >= step) {
      taken.push_back(k);
    }
  }
  taken.push_back(probes.size() - 1);
  return taken;
}

}  // namespace

std::vector<int64_t> frame_epochs_by_motion(const std::vector<int64_t>& probes,
                                            const std::vector<std::vector<double>>& rows,
                                            int64_t frames) {
  if (rows.size() != probes.size() || frames < 2) {
    throw InputError("frame_epochs_by_motion needs one row set per probe (got " +
                     std::to_string(rows.size()) + " for " + std::to_string(probes.size()) +
                     ") and frames >= 2 (got " + std::to_string(frames) + ")");
  }
  const auto wanted = static_cast<size_t>(frames);
  if (probes.size() <= wanted) {
    return probes;
  }
  const double span = static_cast<double>(std::max<int64_t>(1, probes.back() - probes.front()));
  const double per_epoch = 0.1 * static_cast<double>(frames) / span;
  // The largest step that still gives enough frames (taking fewer as the step grows).
  double enough = 0.0;
  double too_large = 0.0;
  for (size_t k = 1; k < probes.size(); ++k) {
    too_large += largest_move(rows[k - 1], rows[k]);
  }
  too_large += per_epoch * span + 1.0;
  for (int i = 0; i < 50 && too_large - enough > 1e-3; ++i) {
    const double step = 0.5 * (enough + too_large);
    (taken_at_least(probes, rows, per_epoch, step).size() >= wanted ? enough : too_large) = step;
  }
  // Where the step still gives a few too many, every n-th of them, first and last kept.
  const std::vector<size_t> taken = taken_at_least(probes, rows, per_epoch, enough);
  std::vector<int64_t> epochs;
  epochs.reserve(wanted);
  for (size_t i = 0; i < wanted; ++i) {
    epochs.push_back(probes[taken[i * (taken.size() - 1) / (wanted - 1)]]);
  }
  return epochs;
}

}  // namespace fitreel
