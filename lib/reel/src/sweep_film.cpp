#include <fitreel/reel/sweep_film.hpp>

#include "film_place.hpp"

#include <fitreel/error.hpp>
#include <fitreel/render/fit_plot.hpp>
#include <fitreel/render/frame_sink.hpp>
#include <fitreel/render/loss_chart.hpp>
#include <fitreel/schedule.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>

namespace fitreel {

namespace fs = std::filesystem;

namespace {

const Dataset& data_of(const std::vector<Dataset>& data, size_t k) {
  return data.size() == 1 ? data[0] : data[k];
}

bool trained(const TrainResult& run) { return run.epochs_run > 0; }

// NaN for a run that diverged or never trained: such runs rank last.
double final_loss(const TrainResult& run) {
  return trained(run) && !run.diverged_at_epoch ? run.losses.last() : NAN;
}

// All runs up to `most`; else `most` spread evenly over the runs ranked by final loss (best
// first, diverged last), so the grid shows the whole range of outcomes.
std::vector<size_t> shown_runs(const std::vector<TrainResult>& runs, size_t most) {
  std::vector<size_t> order(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    order[i] = i;
  }
  if (runs.size() <= most) {
    return order;
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const double la = final_loss(runs[a]);
    const double lb = final_loss(runs[b]);
    return std::isfinite(la) && (!std::isfinite(lb) || la < lb);
  });
  std::vector<size_t> shown;
  for (size_t i = 0; i < most; ++i) {
    shown.push_back(order[most == 1 ? 0 : i * (order.size() - 1) / (most - 1)]);
  }
  return shown;
}

// The snapshot a run shows at `epoch`: the last one at or before it (a run that diverged or
// stopped keeps showing where it ended).
const Snapshot* snapshot_at(const std::vector<Snapshot>& snapshots, int64_t epoch) {
  const Snapshot* shown = nullptr;
  for (const Snapshot& s : snapshots) {
    if (s.epoch > epoch) {
      break;
    }
    shown = &s;
  }
  return shown;
}

// What a panel needs of a snapshot: the parameters are not drawn in a sweep's panels, and
// 256 models' worth of them would be most of the memory.
Snapshot panel_snapshot(const Snapshot& full) {
  Snapshot kept;
  kept.epoch = full.epoch;
  kept.loss = full.loss;
  kept.curve = full.curve;
  kept.final = full.final;
  return kept;
}

// "training loss of 64 models, trained in one batch".
std::string chart_title(const std::string& first_words, const BatchedResult& result) {
  const size_t count = result.runs.size();
  std::string title = "training loss of " + std::to_string(count) + " models";
  if (result.models_batched == static_cast<int64_t>(count) &&
      result.batch_size == static_cast<int64_t>(count)) {
    title += ", trained in one batch";
  } else if (result.models_batched > 0) {
    title += ", trained in batches of up to " + std::to_string(result.batch_size);
  }
  return first_words.empty() ? title : first_words + ": " + title;
}

}  // namespace

SweepFilmFiles SweepFilmFiles::beside(const fs::path& video) {
  SweepFilmFiles files;
  files.video = detail::without_trailing_slash(video);
  files.loss_chart = (files.video.parent_path() / files.video.stem()).concat(".png");
  return files;
}

struct SweepFilm::State {
  detail::FilmPlace place;
  SweepFilmFiles files;
  SweepFilmOptions options;
  std::unique_ptr<render::FrameSink> sink;
  std::string warning;
  std::vector<size_t> shown;
  bool used = false;

  void open(SweepFilmFiles chosen, SweepFilmOptions chosen_options) {
    if (chosen_options.most_panels < 1) {
      throw InputError("SweepFilmOptions::most_panels is 0: show at least 1 panel");
    }
    detail::FilmVideo video = place.open(chosen.video, {&chosen.loss_chart}, chosen_options.look);
    sink = std::move(video.sink);
    warning = std::move(video.warning);
    if (chosen_options.look.title.empty() && !chosen.video.empty()) {
      chosen_options.look.title = chosen.video.stem().string();
    }
    files = std::move(chosen);
    options = std::move(chosen_options);
  }

  std::string label(size_t k) const {
    return options.labels.empty() ? "model " + std::to_string(k) : options.labels[k];
  }

  void write_video(const std::vector<ModelRef>& models, const std::vector<Dataset>& data,
                   const torch::Tensor& curve_x, int64_t epochs, const BatchedResult& result,
                   const std::vector<std::vector<Snapshot>>& snapshots,
                   const std::vector<int64_t>& frame_at);
  void write_loss_chart(const BatchedResult& result, int64_t epochs) const;
};

void SweepFilm::State::write_video(const std::vector<ModelRef>& models,
                                   const std::vector<Dataset>& data, const torch::Tensor& curve_x,
                                   int64_t epochs, const BatchedResult& result,
                                   const std::vector<std::vector<Snapshot>>& snapshots,
                                   const std::vector<int64_t>& frame_at) {
  const FilmOptions& look = options.look;
  const cv::Size size(look.width, look.height);
  const render::GridLayout layout = render::grid_layout(shown.size(), size);
  const render::Layers panel_layers = render::Layers::all().without(render::Layer::side_panel);
  std::vector<render::FitPlot> panels;
  for (size_t k : shown) {
    render::FitScene scene = film_scene(models[k], data_of(data, k), curve_x, epochs, look);
    scene.title = label(k);
    panels.emplace_back(std::move(scene), layout.cell, panel_layers);
  }
  std::vector<cv::Mat> images(shown.size());
  cv::Mat frame;
  for (int64_t epoch : frame_at) {
    for (size_t p = 0; p < shown.size(); ++p) {
      const size_t k = shown[p];
      const TrainResult& run = result.runs[k];
      render::FitFrame drawn;
      const Snapshot* s = trained(run) ? snapshot_at(snapshots[k], epoch) : nullptr;
      if (s) {  // (an untrained run's snapshots, from a batch that ran out of memory, are not)
        drawn = {s->epoch, s->loss, {}, s->curve};
      }
      if (run.diverged_at_epoch && epoch >= *run.diverged_at_epoch) {
        drawn.note = "diverged at epoch " + std::to_string(*run.diverged_at_epoch);
      } else if (!trained(run)) {
        drawn.note = run_outcome(result, k);
      }
      panels[p].draw(drawn, images[p], panel_layers);
    }
    render::tile(images, layout, size, frame);
    sink->write(frame);
  }
  sink->finish();
}

void SweepFilm::State::write_loss_chart(const BatchedResult& result, int64_t epochs) const {
  const FilmOptions& look = options.look;
  const size_t count = result.runs.size();
  const bool labelled = count <= options.most_panels;
  const int64_t points_per_curve = labelled ? 1000 : 200;  // bounded drawing for 256 curves
  std::vector<render::LossSeries> series;
  for (size_t k = 0; k < count; ++k) {
    const TrainResult& run = result.runs[k];
    render::LossSeries curve{
        labelled ? label(k) + (run.diverged_at_epoch ? " (diverged)" : "") : std::string(),
        render::series_color(k), loss_points(run.losses, look.schedule, points_per_curve)};
    series.push_back(std::move(curve));
  }
  place.write_png(
      files.loss_chart,
      render::draw_loss_figure(
          {look.width, look.height}, chart_title(look.title, result), epochs,
          look.schedule == Schedule::log ? render::Scale::log1p : render::Scale::linear, series));
}

SweepFilm::SweepFilm(const fs::path& video, SweepFilmOptions options)
    : SweepFilm(SweepFilmFiles::beside(video), std::move(options)) {}

SweepFilm::SweepFilm(SweepFilmFiles files, SweepFilmOptions options)
    : state_(std::make_unique<State>()) {
  state_->open(std::move(files), std::move(options));
}

SweepFilm::SweepFilm(const files::Folder& into, SweepFilmFiles files, SweepFilmOptions options)
    : state_(std::make_unique<State>()) {
  state_->place = detail::FilmPlace(into);
  state_->open(std::move(files), std::move(options));
}

SweepFilm::~SweepFilm() {
  try {
    if (state_ && state_->sink) {
      state_->sink->finish();  // what was written plays
    }
  } catch (...) {  // a destructor must not throw; train_batched() reports encoding errors
  }
}

const SweepFilmFiles& SweepFilm::files() const { return state_->files; }
const SweepFilmOptions& SweepFilm::options() const { return state_->options; }
const std::string& SweepFilm::warning() const { return state_->warning; }
int64_t SweepFilm::frames() const { return state_->sink ? state_->sink->frames() : 0; }
const std::vector<size_t>& SweepFilm::shown() const { return state_->shown; }

BatchedResult train_batched(const std::vector<ModelRef>& models, const std::vector<Dataset>& data,
                            const BatchedOptions& options, SweepFilm& film,
                            const BatchedCallbacks& callbacks) {
  SweepFilm::State& state = *film.state_;
  const FilmOptions& look = state.options.look;
  if (state.used) {
    throw InputError("this SweepFilm has filmed a batch already: make a new one for each batch");
  }
  if (!state.options.labels.empty() && state.options.labels.size() != models.size()) {
    throw InputError("SweepFilmOptions::labels has " + std::to_string(state.options.labels.size()) +
                     " labels for " + std::to_string(models.size()) +
                     " models: give one per model, or none");
  }
  if (data.empty()) {
    throw InputError("train_batched got no datasets: pass one Dataset for all, or one per model");
  }
  state.used = true;

  BatchedOptions filmed = options;
  if (!filmed.curve_x.defined() || filmed.curve_x.numel() == 0) {
    filmed.curve_x = curve_inputs(data[0], look.curve_points);
  }
  if (state.sink && filmed.snapshot_epochs.empty()) {
    filmed.snapshot_epochs = frame_epochs(options.epochs, look.frames, look.schedule);
  }
  std::vector<std::vector<Snapshot>> snapshots(models.size());
  BatchedCallbacks watched = callbacks;
  watched.on_snapshot = [&](int64_t k, const Snapshot& snapshot) {
    if (state.sink) {
      snapshots.at(static_cast<size_t>(k)).push_back(panel_snapshot(snapshot));
    }
    if (callbacks.on_snapshot) {
      callbacks.on_snapshot(k, snapshot);
    }
  };
  BatchedResult result = train_batched(models, data, filmed, watched);
  state.shown = shown_runs(result.runs, state.options.most_panels);

  // Each file is written on its own: one that cannot be written costs that file alone, and the
  // first failure is reported after both.
  std::exception_ptr first_failure;
  const auto attempt = [&](const auto& write) {
    try {
      write();
    } catch (const Error&) {
      if (!first_failure) first_failure = std::current_exception();
    }
  };
  if (state.sink) {
    attempt([&] {
      state.write_video(models, data, filmed.curve_x, options.epochs, result, snapshots,
                        filmed.snapshot_epochs);
    });
  }
  if (!state.files.loss_chart.empty()) {
    attempt([&] { state.write_loss_chart(result, options.epochs); });
  }
  if (first_failure) {
    std::rethrow_exception(first_failure);
  }
  return result;
}

std::string run_outcome(const BatchedResult& result, size_t k) {
  const TrainResult& run = result.runs.at(k);
  if (!trained(run)) {
    return result.out_of_memory ? "not trained (out of memory)" : "not trained (interrupted)";
  }
  if (run.diverged_at_epoch) {
    return "diverged at epoch " + std::to_string(*run.diverged_at_epoch);
  }
  char loss[64];
  std::snprintf(loss, sizeof loss, "final loss %.6g", static_cast<double>(run.losses.last()));
  return run.interrupted ? std::string(loss) + " (interrupted after " +
                               std::to_string(run.epochs_run) + " epochs)"
                         : loss;
}

}  // namespace fitreel
