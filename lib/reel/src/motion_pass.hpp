#pragma once

// Internal: Schedule::adaptive for a Film. A first pass, filmed by no one, measures where the
// drawn curve moves; the film then replays the same run from the same start. Not installed.

#include <fitreel/data.hpp>
#include <fitreel/model_ref.hpp>
#include <fitreel/render/fit_plot.hpp>
#include <fitreel/schedule.hpp>
#include <fitreel/trainer.hpp>

#include <cstdint>
#include <optional>
#include <vector>

namespace fitreel::detail {

/// Counts the steps of a film in which the drawn curve stood still: no point of it moved a
/// pixel (a point appearing or vanishing moves).
class StillSteps {
 public:
  /// The curve of the next frame, as drawn (render::FitPlot::curve_rows; a grid: all panels).
  void add(std::vector<double> rows);
  /// Steps so far in which nothing moved a pixel.
  int64_t count() const { return still_; }

 private:
  std::vector<double> last_;
  bool first_ = true;
  int64_t still_ = 0;
};

/// Log when half the frames come in the first fifth of the run, else linear: how a loss axis
/// and a loss chart suit `frames` (ascending epochs of a run of `epochs`).
Schedule spread_of(const std::vector<int64_t>& frames, int64_t epochs);

/// Pins where `options` start, so that every run with them starts alike: the resumed state,
/// or a fresh one, with the CPU generator's state as it is now when none is given.
void pin_start(TrainOptions& options);

/// What a first pass found.
struct MotionPass {
  std::vector<int64_t> frames{};  ///< the epochs to film (frame_epochs_by_motion)
  /// Set when `should_stop` said stop: after how many epochs, where the filmed pass stops too.
  std::optional<int64_t> stopped_after{};
};

/// Trains `model` as `options` say (their start pinned: pin_start), telling `callbacks`
/// nothing but progress (Progress::measuring) and asking should_stop, measuring its curve at
/// motion_probe_epochs() as `plot` draws it; then puts the model's parameters, buffers and
/// gradients back as they were. A run that diverges or is stopped gets its frames from the
/// epochs it reached.
MotionPass measure_motion(const ModelRef& model, const Dataset& data, const TrainOptions& options,
                          const render::FitPlot& plot, int64_t frames,
                          const TrainCallbacks& callbacks);

}  // namespace fitreel::detail
