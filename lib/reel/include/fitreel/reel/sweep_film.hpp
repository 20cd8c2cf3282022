#pragma once

// Filming many models trained together: train_batched() with a SweepFilm draws a grid video
// (one small fit panel per model, every panel at the same epoch) and a chart of every model's
// training loss, in the same few lines as a single run's Film.
//
//   fitreel::SweepFilm film("out/sweep.mp4", {.labels = {"lr 0.01", "lr 0.1", "lr 1"}});
//   fitreel::train_batched(models, {data}, {.epochs = 3000, .lrs = {0.01, 0.1, 1}}, film);
//   // out/sweep.mp4, out/sweep.png

#include <fitreel/batched.hpp>
#include <fitreel/files/folder.hpp>
#include <fitreel/reel/film.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace fitreel {

/// Where a SweepFilm writes. An empty path is not written.
struct SweepFilmFiles {
  /// The grid video: its extension picks the format (.mp4 .webm .avi .gif); a name without an
  /// extension is a folder of PNG frames.
  std::filesystem::path video{};
  std::filesystem::path loss_chart{};  ///< PNG: every model's training loss on one chart

  /// `video` and, beside it, STEM.png (out/sweep.mp4 -> out/sweep.png).
  static SweepFilmFiles beside(const std::filesystem::path& video);
};

/// How a SweepFilm looks.
struct SweepFilmOptions {
  /// Frames, schedule, size, encoding, the truth and its label, as a Film's (show is ignored:
  /// the grid is drawn after training; title: the loss chart's first words, default the
  /// video's stem).
  FilmOptions look{};
  /// One per model, in the order trained: its panel's title and its legend text on the loss
  /// chart. Default: "model 0", "model 1", ...
  std::vector<std::string> labels{};
  /// The most panels the grid shows (>= 1). With 2 to 8 learning rates, one column per rate
  /// (ascending left to right), each holding up to most_panels / rates of that rate's models;
  /// otherwise up to most_panels models. Where a column or the grid has more models than
  /// panels, the panels are spread evenly over them ranked by final loss (best first, diverged
  /// and untrained last).
  size_t most_panels = 16;
};

/// A film of a batch of runs. Made before training: it checks its options, creates missing
/// folders and opens the video (a bad path or size fails before any epoch). train_batched()
/// with it keeps each model's curve at the frame epochs, then, when the models are trained,
/// draws the grid video (one legend above all the panels) and the loss chart (each written
/// whole or not at all). The chart colours each model by its learning rate; where several
/// models share a rate it draws their median with a band from the lowest to the highest loss,
/// and it marks the best model (a dot) and the diverged ones (crosses). One batch per
/// SweepFilm.
class SweepFilm {
 public:
  /// Films into `video` with the loss chart beside it (SweepFilmFiles::beside).
  explicit SweepFilm(const std::filesystem::path& video, SweepFilmOptions options = {});
  /// Films into exactly the files named (empty paths are skipped).
  explicit SweepFilm(SweepFilmFiles files, SweepFilmOptions options = {});
  /// Films into the files named, each a relative name beneath `into` (a folder the caller
  /// holds, e.g. a files::ResultFolder's staging folder): no link there is followed.
  SweepFilm(const files::Folder& into, SweepFilmFiles files, SweepFilmOptions options = {});
  ~SweepFilm();
  SweepFilm(const SweepFilm&) = delete;
  SweepFilm& operator=(const SweepFilm&) = delete;

  /// The files as written: the video may have fallen back to AVI (see warning()).
  const SweepFilmFiles& files() const;
  const SweepFilmOptions& options() const;
  /// Why the video's format differs from the one asked for; empty when it does not.
  const std::string& warning() const;
  /// Frames written.
  int64_t frames() const;
  /// The epochs the video shows, one per frame (after train_batched).
  const std::vector<int64_t>& epochs() const;
  /// Steps from one frame to the next in which no shown panel's curve moved a pixel (see
  /// Film::still_steps).
  int64_t still_steps() const;
  /// The models the grid shows, by index, in panel order (after training).
  const std::vector<size_t>& shown() const;

  struct State;

 private:
  friend BatchedResult train_batched(const std::vector<ModelRef>& models,
                                     const std::vector<Dataset>& data,
                                     const BatchedOptions& options, SweepFilm& film,
                                     const BatchedCallbacks& callbacks);
  std::unique_ptr<State> state_;
};

/// Trains the models as train_batched() does and films them into `film`. Frames come at the
/// film's schedule unless options.snapshot_epochs names them; curves are drawn at
/// options.curve_x, or across data[0]'s x range. `callbacks` are called as usual. Throws as
/// train_batched() does, and InputError for a film that filmed a batch already or labels that
/// do not match the models; render::VideoError or files::WriteError for what the film could
/// not write (after the training, whose models keep what they learned).
BatchedResult train_batched(const std::vector<ModelRef>& models, const std::vector<Dataset>& data,
                            const BatchedOptions& options, SweepFilm& film,
                            const BatchedCallbacks& callbacks = {});

/// How model k of a batch ended, in words: "final loss 0.0123", "diverged at epoch 12", "not
/// trained (out of memory)", "final loss 0.5 (interrupted after 40 epochs)", ...
std::string run_outcome(const BatchedResult& result, size_t k);

}  // namespace fitreel
