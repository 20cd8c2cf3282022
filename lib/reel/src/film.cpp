#include <fitreel/reel/film.hpp>

#include "film_summary.hpp"
#include "loss_csv.hpp"

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

namespace {

// "out/frames/" names the folder "out/frames".
fs::path without_trailing_slash(const fs::path& path) {
  return path.has_filename() || !path.has_parent_path() ? path : path.parent_path();
}

std::string size_text(int width, int height) {
  return std::to_string(width) + "x" + std::to_string(height);
}

render::VideoSettings video_settings(const FilmOptions& options) {
  render::VideoSettings settings;
  settings.size = {options.width, options.height};
  settings.fps = options.fps;
  settings.preset = options.preset;
  settings.encoder = options.encoder;
  return settings;
}

// `format`: the video's, when the film encodes one (not PNG frames).
void check_options(const FilmOptions& options, std::optional<render::VideoFormat> format) {
  const bool encodes_video = format.has_value();
  if (options.frames < 2) {
    throw InputError("FilmOptions::frames is " + std::to_string(options.frames) +
                     ": a film needs at least 2 frames");
  }
  if (options.curve_points < 2) {
    throw InputError("FilmOptions::curve_points is " + std::to_string(options.curve_points) +
                     ": a curve needs at least 2 points");
  }
  if (encodes_video) {
    // The limits open_video applies, checked before any folder or file is made.
    render::check_video_settings(*format, video_settings(options));
  } else if (options.width < 2 || options.height < 2) {
    throw InputError("FilmOptions::width x height is " + size_text(options.width, options.height) +
                     ": frames need at least 2x2 pixels (e.g. 1280x720)");
  } else if (options.fps < 1) {
    throw InputError("FilmOptions::fps is " + std::to_string(options.fps) +
                     ": a video needs at least 1 frame per second");
  }
  if (encodes_video && !render::is_x264_preset(options.preset)) {
    throw InputError("FilmOptions::preset '" + options.preset +
                     "' is not an x264 preset: use ultrafast, superfast, veryfast, faster, fast, "
                     "medium, slow, slower or veryslow");
  }
  if (options.show) {
    if (const std::optional<std::string> why = render::live_window_unavailable()) {
      throw InputError("FilmOptions::show: " + *why);
    }
  }
}

// Makes the folder a file will go into; a file where a folder should be, or a folder where the
// file should be, is named now rather than after training.
void prepare_folder_for(const fs::path& file, bool is_folder) {
  const fs::path folder = is_folder ? file : file.parent_path();
  std::error_code error;
  if (!folder.empty()) {
    fs::create_directories(folder, error);
    if (error) {
      throw files::WriteError("cannot create the folder " + folder.string() + ": " +
                              error.message());
    }
  }
  if (!is_folder && fs::is_directory(file)) {
    throw InputError(file.string() + " is a folder: name a file to write there");
  }
}

// Film(into, ...): each file is a plain relative name beneath the held folder, in a folder that
// is there (checked now, not after training).
void check_name_inside(const files::Folder& base, const fs::path& path) {
  const fs::path folder = path.parent_path();
  try {
    if (path.is_absolute()) {
      throw files::FileError(path.string() + " is absolute");
    }
    if (!folder.empty()) {
      base.open_folder(folder.string());
    }
    if (base.type_of(path.string()) == files::EntryType::folder) {
      throw InputError(base.path_of(path.string()).string() +
                       " is a folder: name a file to write there");
    }
  } catch (const files::FileError& error) {
    throw InputError(std::string("the film cannot write ") + path.string() + " in " +
                     base.path().string() + ": " + error.what());
  }
}

}  // namespace

FilmFiles FilmFiles::beside(const fs::path& video) {
  FilmFiles files;
  files.video = without_trailing_slash(video);
  const fs::path stem = files.video.parent_path() / files.video.stem();
  files.still = fs::path(stem).concat(".png");
  files.loss_csv = fs::path(stem).concat(".loss.csv");
  files.test_loss_csv = fs::path(stem).concat(".test_loss.csv");
  files.summary = fs::path(stem).concat(".json");
  return files;
}

struct Film::State {
  std::optional<files::Folder> base;  // Film(into, ...): the files are names beneath it
  FilmFiles files;
  FilmOptions options;
  std::unique_ptr<render::FrameSink> sink;  // the open video, until a run's pipeline takes it
  std::string warning, codec;
  render::FrameMailbox mailbox;
  std::optional<render::LiveWindow> window;
  std::optional<render::RenderPipeline> pipeline;
  bool used = false;

  void refresh_window() {
    cv::Mat shown;
    if (window && mailbox.take(shown)) {
      window->show(shown);
    }
  }
  // Writes `bytes` as the film's file `path` (beneath `base`, or at the path as given).
  void write(const fs::path& path, std::string_view bytes) const {
    if (base) {
      files::write_file_atomically(*base, path.string(), bytes);
    } else {
      files::write_file_atomically(path, bytes);
    }
  }
  void write_png(const fs::path& path, const cv::Mat& image) const {
    if (base) {
      render::write_png(*base, path.string(), image);
    } else {
      render::write_png(path, image);
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
  state_->base.emplace(into.duplicate());
  open(std::move(files), std::move(options));
}

void Film::open(FilmFiles files, FilmOptions options) {
  const std::optional<files::Folder>& base = state_->base;
  files.video = without_trailing_slash(files.video);
  const bool has_video = !files.video.empty();
  const bool frames_folder = has_video && !files.video.has_extension();
  std::optional<render::VideoFormat> format;
  if (has_video && !frames_folder) {
    format = render::video_format_of(files.video);
    if (!format) {
      throw InputError("cannot tell the video format of " + files.video.string() +
                       ": end the name with .mp4, .webm, .avi or .gif, or leave the extension "
                       "out for a folder of PNG frames");
    }
  }
  check_options(options, format);
  std::set<fs::path> seen;
  for (const fs::path* path :
       {&files.video, &files.still, &files.loss_csv, &files.test_loss_csv, &files.summary}) {
    if (path->empty()) {
      continue;
    }
    if (!seen.insert(path->lexically_normal()).second) {
      throw InputError("the film would write " + path->string() +
                       " twice: give the video, still, loss CSV and summary different names");
    }
    if (base) {
      check_name_inside(*base, *path);
    } else {
      prepare_folder_for(*path, frames_folder && path == &files.video);
    }
    // Every file written after training is proven writable now, by making and removing the
    // very temporary file its write will use: a read-only folder fails before any epoch.
    if (path != &files.video) {
      if (base) {
        files::check_writable(*base, path->string());
      } else {
        files::check_writable(*path);
      }
    }
  }
  if (frames_folder) {
    state_->sink = base ? render::make_png_sequence(base->make_folder(files.video.string()))
                        : render::make_png_sequence(files.video.string());
  } else if (format) {
    const render::VideoSettings settings = video_settings(options);
    const fs::path folder = files.video.parent_path();
    render::OpenedVideo opened =
        !base ? render::open_video(folder.string(), files.video.stem().string(), *format, settings)
        : folder.empty() ? render::open_video(*base, files.video.stem().string(), *format, settings)
                         : render::open_video(base->open_folder(folder.string()),
                                              files.video.stem().string(), *format, settings);
    // Another extension when it fell back to AVI.
    files.video = folder / fs::path(opened.sink->path()).filename();
    state_->sink = std::move(opened.sink);
    state_->codec = opened.codec;
    state_->warning = opened.warning;
  }
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
  const render::FitPlot plot(film_scene(model, data, filmed.curve_x, options.epochs, look),
                             {look.width, look.height});
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
  // Frames, and the held-out losses, come at the film's schedule (also without a video).
  if (filmed.snapshot_epochs.empty() && (state.pipeline || data.holds_out())) {
    filmed.snapshot_epochs = frame_epochs(options.epochs, look.frames, look.schedule);
  }
  std::optional<detail::LossCsvWriter> loss_csv;
  if (!state.files.loss_csv.empty()) {
    if (state.base) {
      loss_csv.emplace(*state.base, state.files.loss_csv.string());
    } else {
      loss_csv.emplace(state.files.loss_csv);
    }
  }

  TrainCallbacks watched = callbacks;
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

  // Each file is written on its own: one that cannot be written (a full disk) costs that file
  // alone, the others are still made, and the first failure is reported after them.
  std::exception_ptr first_failure;
  const auto attempt = [&](const auto& write) {
    try {
      write();
    } catch (const Error&) {
      if (!first_failure) first_failure = std::current_exception();
    }
  };
  if (loss_csv) {
    attempt([&] { loss_csv->commit(); });
  }
  if (!state.files.test_loss_csv.empty() && !result.test_losses.empty()) {
    attempt(
        [&] { state.write(state.files.test_loss_csv, detail::test_loss_csv(result.test_losses)); });
  }
  if (!state.files.still.empty()) {
    attempt([&] {
      render::FitFrame after = film_frame(model, data, filmed.curve_x, result.epochs_run,
                                          result.diverged_at_epoch ? "diverged"
                                          : result.interrupted     ? "interrupted"
                                                                   : "after training",
                                          look.hidden_units);
      after.loss_curve = loss_points(result.losses, look.schedule);
      for (const EpochLoss& point : result.test_losses) {
        after.test_loss_curve.push_back({point.epoch, point.loss});
      }
      after.least_squares = look.least_squares;
      state.write_png(state.files.still, plot.draw(after));
    });
  }
  if (!state.files.summary.empty()) {
    attempt([&] {
      // A large model's weights go to NAME.pt beside NAME.json, which names it.
      fs::path params_file;
      int64_t parameters = 0;
      for (const auto& tensor : result.final_params) {
        parameters += static_cast<int64_t>(tensor.size());
      }
      if (parameters > kMostInlineParameters) {
        params_file = fs::path(state.files.summary).replace_extension(".pt");
        if (state.base) {
          save_checkpoint(model, "", *state.base, params_file.string());
        } else {
          save_checkpoint(model, params_file.string());
        }
      }
      state.write(state.files.summary,
                  detail::film_summary_json(model, data, options, result, film,
                                            plot.scene().param_names, params_file));
    });
  }
  if (first_failure) {
    std::rethrow_exception(first_failure);
  }
  return result;
}

}  // namespace fitreel
