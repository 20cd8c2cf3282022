#pragma once

// Filming a training run: the library's one call that joins training (fitreel::core) and
// drawing (fitreel::render). Make a Film from an output path, hand it to train(), and it writes
// the video as the run goes, then the picture after training, the loss CSV and a summary.
//
//   fitreel::Film film("out/cubic.mp4", {.truth = [](double x) { return x * x * x - 2 * x; }});
//   fitreel::train(net, {x, y}, {.epochs = 3000, .lr = 0.01}, film);
//   // out/cubic.mp4, out/cubic.png, out/cubic.loss.csv, out/cubic.json

#include <fitreel/data.hpp>
#include <fitreel/files/folder.hpp>
#include <fitreel/loss_history.hpp>
#include <fitreel/model_ref.hpp>
#include <fitreel/render/fit_plot.hpp>
#include <fitreel/render/video.hpp>
#include <fitreel/schedule.hpp>
#include <fitreel/trainer.hpp>

#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fitreel {

/// Where a Film writes. An empty path is not written.
struct FilmFiles {
  /// The video: its extension picks the format (.mp4 .webm .avi .gif); a name without an
  /// extension is a folder of PNG frames (frame_00000.png, ...).
  std::filesystem::path video{};
  std::filesystem::path still{};     ///< PNG: the fit after training, with the loss history
  std::filesystem::path loss_csv{};  ///< "epoch,loss", then every epoch's loss (%.9g)
  /// "epoch,test_loss": the held-out MSE at each frame's epoch (written when the data hold
  /// points out: Dataset::x_test).
  std::filesystem::path test_loss_csv{};
  std::filesystem::path summary{};  ///< JSON: settings, sampled losses, parameters, timings

  /// `video` and, beside it, STEM.png, STEM.loss.csv, STEM.test_loss.csv and STEM.json, where
  /// STEM is the video's name without its extension: out/cubic.mp4 -> out/cubic.png,
  /// out/cubic.loss.csv, ... (a frames folder out/frames -> out/frames.png, ...).
  static FilmFiles beside(const std::filesystem::path& video);
};

/// How a Film looks and is encoded. Every member has a default.
struct FilmOptions {
  // What the frames show.
  std::string title{};                     ///< the title's first words; default: the video's stem
  render::Curve truth{};                   ///< the true curve, when known: any y = f(x)
  std::string truth_label = "truth";       ///< its legend text
  std::vector<std::string> param_names{};  ///< one per parameter tensor; default: their names
  std::optional<render::StraightLine> least_squares{};  ///< dashed in the last frame and still
  int64_t curve_points = 200;  ///< where the model's curve is drawn, across the data's x range
  /// How many units of the last hidden layer are drawn, each as its share of the output, faint
  /// behind the model (with the output bias they add up to it); 0 = none. For a Sequential
  /// ending in Linear(H, 1) after a hidden layer (make_net's nets); other models show none.
  int64_t hidden_units = 8;
  // How many frames, when, and how they are encoded.
  int64_t frames = 150;  ///< frames in the video (>= 2)
  /// Which epochs become frames: adaptive (where the fit moves: the run is trained twice from
  /// the same start, the first pass unfilmed), log (dense early) or linear (even).
  Schedule schedule = Schedule::adaptive;
  /// Frame size in pixels: at least 2x2 for PNG frames; a video's within
  /// render::video_limits (even, 64 to 7680).
  int width = 1280;
  int height = 720;
  int fps = 30;                      ///< frames per second of the video: 1 to 240, gif 1 to 50
  std::string preset = "ultrafast";  ///< x264 preset for .mp4 (see render::VideoSettings)
  std::string encoder{};             ///< an FFmpeg encoder instead of the format's own
  bool show = false;                 ///< also show the frames in a window (needs a display)
};

/// A film of one training run. Made before training: it checks its options, creates missing
/// folders and opens the video (so a bad path or size fails before any epoch runs). train()
/// with the film draws and encodes the frames on two threads of their own while the model
/// trains, then writes the still, the loss CSV and the summary, each atomically (whole or
/// absent). Destroyed early (an exception unwinding), it still finishes the video, so what was
/// filmed plays; the other files are written only after a run. One run per Film.
class Film {
 public:
  /// Films into `video` with the three companion files beside it (FilmFiles::beside).
  explicit Film(const std::filesystem::path& video, FilmOptions options = {});
  /// Films into exactly the files named (empty paths are skipped).
  explicit Film(FilmFiles files, FilmOptions options = {});
  /// Films into the files named, each a relative name beneath `into` (a folder the caller holds,
  /// e.g. a files::ResultFolder's staging folder): no link there is followed, and a frames
  /// folder is made fresh.
  Film(const files::Folder& into, FilmFiles files, FilmOptions options = {});
  ~Film();
  Film(const Film&) = delete;
  Film& operator=(const Film&) = delete;

  /// The files as written: the video may have fallen back to AVI (see warning()).
  const FilmFiles& files() const;
  const FilmOptions& options() const;
  /// Why the video's format differs from the one asked for; empty when it does not.
  const std::string& warning() const;
  /// The encoder in use ("libx264"); empty without a video.
  const std::string& codec() const;
  /// Frames written so far.
  int64_t frames() const;
  /// Steps from one frame to the next in which the model's curve stood still (no point of it
  /// moved a pixel): how much of the video shows nothing happening (Schedule::adaptive keeps it
  /// low).
  int64_t still_steps() const;

  struct State;

 private:
  void open(FilmFiles files, FilmOptions options);
  friend TrainResult train(const ModelRef& model, const Dataset& data, const TrainOptions& options,
                           Film& film, const TrainCallbacks& callbacks);
  std::unique_ptr<State> state_;
};

/// Trains `model` on `data` (see the other train()) and films the run into `film`. The frames
/// come at the film's schedule unless options.snapshot_epochs names them; the curve is drawn
/// at options.curve_x, or across the data's x range. `callbacks` are called as usual; with
/// Schedule::adaptive (the default) the run is trained twice from the same start, which takes
/// about twice the training time: the first pass, unfilmed, tells only on_progress (with
/// Progress::measuring) and asks should_stop (a stop there ends the filmed pass at the same
/// epoch); the second is the run returned, the same numbers bit for bit on the CPU. Throws
/// fitreel::Error (InputError for bad arguments or a film that filmed a run already,
/// render::VideoError, files::WriteError).
TrainResult train(const ModelRef& model, const Dataset& data, const TrainOptions& options,
                  Film& film, const TrainCallbacks& callbacks = {});

/// `count` evenly spaced inputs, shape (count, 1), across the x range of the training and the
/// held-out data.
torch::Tensor curve_inputs(const Dataset& data, int64_t count = 200);

/// The scene a Film draws for `data` trained `epochs` epochs: the data, the truth, the curve's
/// x (`curve_x`, shape (M, 1)), parameter names (options, or the module's own) and the title.
render::FitScene film_scene(const ModelRef& model, const Dataset& data,
                            const torch::Tensor& curve_x, int64_t epochs,
                            const FilmOptions& options);

/// The model as it is now, as a frame of such a scene: its parameters, its curve at `curve_x`,
/// its loss on the training data and held out, and its first `hidden_units` units' curves.
render::FitFrame film_frame(const ModelRef& model, const Dataset& data,
                            const torch::Tensor& curve_x, int64_t epoch, std::string note = {},
                            int64_t hidden_units = 0);

/// About `count` of the losses, spread as `schedule` spreads frames (adaptive: evenly), for a
/// loss chart.
std::vector<render::LossPoint> loss_points(const LossHistory& losses, Schedule schedule,
                                           int64_t count = 1000);

}  // namespace fitreel
