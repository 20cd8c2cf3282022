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
  /// where the fit moves: a first pass measures the drawn curve at motion_probe_epochs(), then
  /// frame_epochs_by_motion() places frames so each moves it about as much as the next (a Film
  /// trains twice from the same start, filming the second, identical run)
  adaptive,
};

/// "linear", "log" or "adaptive".
std::string_view schedule_name(Schedule schedule);
/// The schedule called `name`, or nothing.
std::optional<Schedule> schedule_from_name(std::string_view name);

/// min(frames, epochs) distinct epochs in [0, epochs), ascending, always the first and the
/// last. Where log spacing would repeat an epoch, the next unused one is taken, so the count
/// is exact. Needs epochs >= 1 and frames >= 2 (or epochs == 1). Schedule::adaptive has no
/// epochs before a run is measured: it throws InputError (see frame_epochs_by_motion()).
std::vector<int64_t> frame_epochs(int64_t epochs, int64_t frames, Schedule schedule);

/// The epochs at which a first pass measures the fit for Schedule::adaptive: every epoch of a
/// run of up to `count` epochs, else at most `count` of them (at least count / 2), half spread
/// evenly and half densely early (as Schedule::log), ascending. Needs epochs >= 1, count >= 4.
std::vector<int64_t> motion_probe_epochs(int64_t epochs, int64_t count = 2048);

/// min(frames, probes.size()) of the `probes` (ascending epochs, the first and the last always
/// in) at which each step of a film moves the drawn curve about as much as any other.
/// `rows[k]` is the curve at probes[k] as drawn, in pixel rows (render::FitPlot::curve_rows;
/// for a grid, every panel's rows one after another; NaN where not drawn). A step moves by the
/// largest change of any row, plus a little for the epochs it spans (a whole run counts as a
/// tenth of a pixel per frame), so a fit that stops moving still gets frames spread over time.
/// Throws InputError when rows and probes differ in count or frames < 2.
std::vector<int64_t> frame_epochs_by_motion(const std::vector<int64_t>& probes,
                                            const std::vector<std::vector<double>>& rows,
                                            int64_t frames);

}  // namespace fitreel
