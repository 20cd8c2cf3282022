#include <fitreel/reel/film.hpp>

#include "film_place.hpp"
#include "film_summary.hpp"
#include "loss_csv.hpp"
#include "motion_pass.hpp"

#include <fitreel/checkpoint.hpp>
#include <fitreel/error.hpp>
#include <fitreel/evaluate.hpp>
#include <fitreel/files/atomic_file.hpp>
#include <fitreel/model.hpp>
#include <fitreel/render/frame_sink.hpp>
#include <fitreel/render/live_window.hpp>
#include <fitreel/render/pipeline.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <exception>
#include <iterator>
#include <set>
#include <system_error>

namespace fitreel {

namespace fs = std::filesystem;

FilmFiles FilmFiles::beside(const fs::path& video) {
  FilmFiles files;
  files.video = detail::without_trailing_slash(video);
  const fs::path stem = files.video.parent_path() / files.video.stem();
  files.still = fs::path(stem).concat(".png");
  files.loss_csv = fs::path(stem).concat(".loss.csv");
  files.test_loss_csv = fs::path(stem).concat(".test_loss.csv");
  files.summary = fs::path(stem).concat(".json");
  return files;
}

struct Film::State {
  detail::FilmPlace place;
  FilmFiles files;
  FilmOptions options;
  std::unique_ptr<render::FrameSink> sink;  // the open video, until a run's pipeline takes it
  std::string warning, codec;
  render::FrameMailbox mailbox;
  std::optional<render::LiveWindow> window;
  std::optional<render::RenderPipeline> pipeline;
  detail::StillSteps still;
  bool used = false;

  void refresh_window() {
    cv::Mat shown;
    if (window && mailbox.take(shown)) {
      window->show(shown);
    }
  }
  // Ends the video: it plays from here on.
  void finish_video() {
    if (pipeline) {
      pipeline->finish();
      refresh_window();
    }
  }
};

Film::Film(const fs::path& video, FilmOptions options)
    : Film(FilmFiles::beside(video), std::move(options)) {}

Film::Film(FilmFiles files, FilmOptions options) : state_(std::make_unique<State>()) {
  open(std::move(files), std::move(options));
}

Film::Film(const files::Folder& into, FilmFiles files, FilmOptions options)
    : state_(std::make_unique<State>()) {
  state_->place = detail::FilmPlace(into);
  open(std::move(files), std::move(options));
}

void Film::open(FilmFiles files, FilmOptions options) {
  detail::FilmVideo video = state_->place.open(
      files.video, {&files.still, &files.loss_csv, &files.test_loss_csv, &files.summary}, options);
  state_->sink = std::move(video.sink);
  state_->codec = std::move(video.codec);
  state_->warning = std::move(video.warning);
  const bool has_video = !files.video.empty();
  if (options.title.empty() && has_video) {
    options.title = files.video.stem().string();
  }
  state_->files = std::move(files);
  state_->options = std::move(options);
}

Film::~Film() {
  try {
    if (state_) {
      state_->finish_video();
    }
  } catch (...) {  // a destructor must not throw; train() reports encoding errors
  }
}

const FilmFiles& Film::files() const { return state_->files; }
const FilmOptions& Film::options() const { return state_->options; }
const std::string& Film::warning() const { return state_->warning; }
const std::string& Film::codec() const { return state_->codec; }
int64_t Film::frames() const { return state_->pipeline ? state_->pipeline->frames() : 0; }
int64_t Film::still_steps() const { return state_->still.count(); }

TrainResult train(const ModelRef& model, const Dataset& data, const TrainOptions& options,
                  Film& film, const TrainCallbacks& callbacks) {
  Film::State& state = *film.state_;
  const FilmOptions& look = state.options;
  if (state.used) {
    throw InputError("this Film has filmed a run already: make a new Film for each run");
  }
  check_training_inputs(model, data, options);
  state.used = true;

  TrainOptions filmed = options;
  filmed.unit_curves = std::max(filmed.unit_curves, look.hidden_units);
  if (!filmed.curve_x.defined() || filmed.curve_x.numel() == 0) {
    filmed.curve_x = curve_inputs(data, look.curve_points);
  }
  // The loss axis and chart spread as the frames do; an adaptive film's frames are known after
  // its first pass, which draws nothing but reads where the curve is (the same for any spread).
  FilmOptions drawn = look;
  const auto plot_of = [&](const FilmOptions& spread) {
    return render::FitPlot(film_scene(model, data, filmed.curve_x, options.epochs, spread),
                           {look.width, look.height});
  };
  render::FitPlot plot = plot_of(drawn);
  // Frames, and the held-out losses, come at the film's schedule (also without a video).
  const bool filming = state.sink || look.show;
  TrainCallbacks told = callbacks;
  if (filmed.snapshot_epochs.empty() && (filming || data.holds_out())) {
    if (look.schedule == Schedule::adaptive && filming) {
      detail::pin_start(filmed);  // both passes start alike
      const detail::MotionPass pass =
          detail::measure_motion(model, data, filmed, plot, look.frames, callbacks);
      filmed.snapshot_epochs = pass.frames;
      if (pass.stopped_after) {  // stopped while measuring: film the epochs it reached
        told.should_stop = [epochs = int64_t{0}, last = *pass.stopped_after]() mutable {
          return ++epochs >= last;
        };
      }
    } else {
      filmed.snapshot_epochs =
          frame_epochs(options.epochs, look.frames,
                       look.schedule == Schedule::adaptive ? Schedule::linear : look.schedule);
    }
  }
  if (drawn.schedule == Schedule::adaptive) {
    drawn.schedule = detail::spread_of(filmed.snapshot_epochs, options.epochs);
    if (drawn.schedule == Schedule::log) {  // the plot above spread its loss axis linearly
      plot = plot_of(drawn);
    }
  }
  std::vector<std::unique_ptr<render::FrameSink>> sinks;
  if (state.sink) {
    sinks.push_back(std::move(state.sink));
  }
  if (look.show) {
    state.window.emplace(look.title.empty() ? "fitreel" : look.title);
  }
  if (!sinks.empty() || state.window) {
    state.pipeline.emplace(plot, std::move(sinks), state.window ? &state.mailbox : nullptr);
  }
  std::optional<detail::LossCsvWriter> loss_csv;
  if (!state.files.loss_csv.empty()) {
    if (const files::Folder* base = state.place.base()) {
      loss_csv.emplace(*base, state.files.loss_csv.string());
    } else {
      loss_csv.emplace(state.files.loss_csv);
    }
  }

  TrainCallbacks watched = told;
  watched.on_snapshot = [&](const Snapshot& snapshot) {
    if (state.pipeline) {
      render::FitFrame frame{snapshot.epoch, snapshot.loss, snapshot.params, snapshot.curve};
      frame.test_loss = snapshot.test_loss;
      frame.units = snapshot.units.units;
      frame.unit_bias = snapshot.units.bias;
      frame.units_total = snapshot.units.total;
      if (snapshot.final) {
        frame.least_squares = look.least_squares;
      }
      state.still.add(plot.curve_rows(snapshot.curve));
      state.pipeline->push(std::move(frame));
      state.refresh_window();
    }
    if (callbacks.on_snapshot) {
      callbacks.on_snapshot(snapshot);
    }
  };
  watched.on_loss = [&](int64_t epoch, float loss) {
    if (loss_csv) {
      loss_csv->add(epoch, loss);
    }
    if (callbacks.on_loss) {
      callbacks.on_loss(epoch, loss);
    }
  };
  watched.on_progress = [&](const Progress& progress) {
    state.refresh_window();
    if (callbacks.on_progress) {
      callbacks.on_progress(progress);
    }
  };

  TrainResult result;
  try {
    result = train(model, data, filmed, watched);
    state.finish_video();
  } catch (...) {
    try {
      state.finish_video();  // what was filmed plays
    } catch (...) {          // the first error is the one to report
    }
    throw;
  }

  detail::WritesEachOnItsOwn writes;
  if (loss_csv) {
    writes.attempt([&] { loss_csv->commit(); });
  }
  if (!state.files.test_loss_csv.empty() && !result.test_losses.empty()) {
    writes.attempt([&] {
      state.place.write(state.files.test_loss_csv, detail::test_loss_csv(result.test_losses));
    });
  }
  if (!state.files.still.empty()) {
    writes.attempt([&] {
      render::FitFrame after = film_frame(model, data, filmed.curve_x, result.epochs_run,
                                          result.diverged_at_epoch ? "diverged"
                                          : result.interrupted     ? "interrupted"
                                                                   : "after training",
                                          look.hidden_units);
      after.loss_curve = loss_points(result.losses, drawn.schedule);
      for (const EpochLoss& point : result.test_losses) {
        after.test_loss_curve.push_back({point.epoch, point.loss});
      }
      after.least_squares = look.least_squares;
      state.place.write_png(state.files.still, plot.draw(after));
    });
  }
  if (!state.files.summary.empty()) {
    writes.attempt([&] {
      // A large model's weights go to NAME.pt beside NAME.json, which names it.
      fs::path params_file;
      int64_t parameters = 0;
      for (const auto& tensor : result.final_params) {
        parameters += static_cast<int64_t>(tensor.size());
      }
      if (parameters > kMostInlineParameters) {
        params_file = fs::path(state.files.summary).replace_extension(".pt");
        if (const files::Folder* base = state.place.base()) {
          save_checkpoint(model, "", *base, params_file.string());
        } else {
          save_checkpoint(model, params_file.string());
        }
      }
      state.place.write(state.files.summary,
                        detail::film_summary_json(model, data, options, result, film,
                                                  plot.scene().param_names, params_file));
    });
  }
  writes.rethrow_first();
  return result;
}

}  // namespace fitreel
