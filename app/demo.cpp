#include "demo.hpp"

#include "output.hpp"
#include "progress.hpp"
#include "results.hpp"
#include "scene.hpp"
#include "setup.hpp"
#include "signals.hpp"
#include "story.hpp"

#include <fitreel/checkpoint.hpp>
#include <fitreel/device.hpp>
#include <fitreel/evaluate.hpp>
#include <fitreel/files/atomic_file.hpp>
#include <fitreel/reel/film.hpp>
#include <fitreel/render/frame_sink.hpp>
#include <fitreel/runtime.hpp>
#include <fitreel/version.hpp>

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <optional>

namespace fitreel::app {

namespace {

constexpr double kLargeDataValue = 1e6;  // beyond this, divergence is the data's scale
// A model too large to list in summary.json keeps its final weights here, beside it.
constexpr const char* kParamsFile = "model.pt";

// What training produced for people to watch.
struct Watched {
  TrainResult result;
  int64_t frames = 0;
  std::optional<std::string> video;  // the name of the file (or folder) written
};

// What a demo's film writes in its staging folder: DEMO.mp4 (or frames/, or no video),
// after.png, loss.csv and test_loss.csv. summary.json is the CLI's own (it reports the command line
// too).
FilmFiles film_files_for(const std::string& demo, const RunOptions& options) {
  FilmFiles files;
  files.video = video_name_for(demo, options);
  files.still = "after.png";
  files.loss_csv = "loss.csv";
  files.test_loss_csv = "test_loss.csv";  // when points are held out
  return files;
}

// Trains through the library's Film: the frames go to the video (and the window) as the run
// goes; after.png and loss.csv follow it.
Watched train_and_film(torch::nn::Sequential& model, const DemoSetup& setup,
                       const RunOptions& options, Film& film,
                       const std::optional<TrainingState>& resume) {
  Watched watched;
  ProgressLine progress(setup.demo, !options.quiet);
  TrainCallbacks callbacks;
  callbacks.on_progress = [&](const Progress& p) { progress.update(p); };
  callbacks.should_stop = [] { return stop_signal() != 0; };

  TrainOptions train_options = train_options_for(setup, options);
  spdlog::info("training {}: {} epochs, {} lr {}{}, {} loss, {} on {}", setup.demo, setup.epochs,
               optimizer_name(setup.optimizer), setup.lr,
               train_options.lr_schedule.kind == LrSchedule::Kind::constant
                   ? ""
                   : " (" + std::string(schedule_name(train_options.lr_schedule)) + " schedule)",
               loss_name(train_options.loss),
               train_options.batch_size > 0
                   ? "mini-batches of " + std::to_string(train_options.batch_size)
                   : std::string("full batch"),
               device_name(setup.device));
  train_options.resume = resume;
  callbacks.on_warning = [](const std::string& warning) { spdlog::warn("{}", warning); };
  if (resume) {
    spdlog::info("{}: going on from epoch {}{}", setup.demo, resume->epochs_done,
                 resume->optimizer.empty() ? "" : " with " + resume->optimizer.name + "'s state");
  }
  watched.result = train(model, setup.data, train_options, film, callbacks);
  progress.finish();
  watched.frames = film.frames();
  if (!film.files().video.empty()) {
    watched.video = film.files().video.filename().string();
  }
  return watched;
}

Summary summarize(const DemoSetup& setup, const RunOptions& options, const Watched& watched,
                  const std::optional<Line>& optimum, double test_mse, const DemoOutput& output) {
  const TrainResult& result = watched.result;
  Summary summary;
  summary.demo = setup.demo;
  summary.seed = options.seed;
  summary.points = setup.data.x_train.size(0) + setup.data.x_test.size(0);
  summary.epochs = setup.epochs;
  summary.epochs_run = result.epochs_run;
  summary.lr = setup.lr;
  summary.device = device_name(setup.device);
  summary.model = setup.architecture;
  summary.optimizer = std::string(optimizer_name(setup.optimizer));
  summary.gradients = result.used_analytic_gradients ? "analytic" : "autograd";
  summary.kernels = result.used_fused_kernels ? "fused" : "exact";
  const TrainOptions trained = train_options_for(setup, options);
  summary.loss = std::string(loss_name(trained.loss));
  summary.batch_size = trained.batch_size;
  summary.lr_schedule = std::string(schedule_name(trained.lr_schedule));
  summary.resumed_at_epoch = result.state.epochs_done - result.epochs_run;
  summary.cuda_graph = result.used_cuda_graph;
  summary.test_losses = result.test_losses;
  for (const auto& tensor : result.final_params) {
    summary.parameters += static_cast<int64_t>(tensor.size());
  }
  if (summary.parameters <= kMostInlineParameters) {
    summary.initial_params = result.initial_params;
    summary.final_params = result.final_params;
  } else {
    summary.params_file = output.final_path(kParamsFile).string();
  }
  if (optimum) {
    summary.test_mse = test_mse;
    summary.least_squares = std::array<double, 2>{optimum->slope, optimum->intercept};
  }
  summary.train_seconds = result.seconds;
  summary.interrupted = result.interrupted;
  summary.diverged_at_epoch = result.diverged_at_epoch;
  if (watched.video) {
    summary.video = output.final_path(*watched.video).string();
  }
  summary.frames = watched.frames;
  summary.data = options.data;
  summary.loaded_model = options.load_model;
  summary.saved_model = options.save_model;
  summary.fitreel_version = kVersion;
  summary.torch_version = TORCH_VERSION;
  summary.command = options.command_line;
  return summary;
}

// Loads a --load-model file into `model` and returns the training state it holds; a file that
// does not fit the model is a usage error.
TrainingState load_checkpoint_into(torch::nn::Sequential& model, const std::string& architecture,
                                   const std::string& path) {
  try {
    return load_checkpoint(model, architecture, path);
  } catch (const CheckpointError& error) {
    throw UsageError(std::string("--load-model: ") + error.what());
  }
}

// Values far from 1 make squared errors overflow float32 whatever the learning rate.
std::string divergence_advice(const Dataset& data) {
  double largest = 0.0;
  for (const torch::Tensor& values : {data.x_train, data.y_train, data.x_test, data.y_test}) {
    if (values.numel() > 0) {
      largest = std::max(largest, values.abs().max().item<double>());
    }
  }
  if (largest > kLargeDataValue) {
    return fmt::format(
        "the data reach {:.3g}, and their squares overflow float32: scale the data to around 1, "
        "e.g. divide x and y by {:.0e}, rather than lowering --lr",
        largest, std::pow(10.0, std::floor(std::log10(largest))));
  }
  return "a smaller --lr helps";
}

}  // namespace

std::shared_ptr<const XyPoints> check_inputs(const RunOptions& options) {
  // One count for LibTorch and a sweep: --threads, or one per CPU this process may use.
  set_threads(options.threads.value_or(0));
  try {
    resolve_device(options.device);
  } catch (const DeviceError& error) {
    throw UsageError(std::string("--device: ") + error.what());
  }
  std::shared_ptr<const XyPoints> file = read_data_file(options);
  if (options.load_model) {
    const DemoSetup setup =
        make_setup(demos_of(options.command, options.sweep_demo).front(), options, file.get());
    torch::nn::Sequential model = make_model(setup);
    load_checkpoint_into(model, setup.architecture, *options.load_model);
  }
  return file;
}

DemoOutcome run_demo(Demo demo, const RunOptions& options, const XyPoints* file,
                     DemoOutput& output) {
  // Seed, data, model: the order of random draws is the parity contract.
  const DemoSetup setup = make_setup(demo, options, file);
  torch::nn::Sequential model = make_model(setup);
  std::optional<TrainingState> resume;
  if (options.load_model) {
    resume = load_checkpoint_into(model, setup.architecture, *options.load_model);
    if (resume->optimizer.empty() && resume->epochs_done == 0) {
      resume.reset();  // weights alone (a state_dict): a fresh optimizer
    } else if (!resume->optimizer.empty() &&
               resume->optimizer.name != optimizer_name(setup.optimizer)) {
      throw UsageError("--load-model " + *options.load_model + " holds " + resume->optimizer.name +
                       "'s state, but this run trains with " +
                       std::string(optimizer_name(setup.optimizer)) + ": give --optimizer " +
                       resume->optimizer.name);
    }
  }
  tell_data(setup.demo, describe_data(setup, options), setup.data, options.seed);
  tell_model(setup.line, model, options.load_model);
  if (setup.line) {
    tell_shape_lesson(model, setup.data);
  }

  // The line demo compares with the closed-form optimum, drawn dashed at the end.
  const std::optional<Line> optimum =
      setup.line ? std::optional(least_squares(setup.data.x_train, setup.data.y_train))
                 : std::nullopt;
  FilmOptions look = film_options_for(setup, options, model);
  if (optimum) {
    look.least_squares = render::StraightLine{optimum->slope, optimum->intercept};
  }
  Film film(output.staging(), film_files_for(setup.demo, options), look);
  if (!film.warning().empty()) {
    spdlog::warn("{}", film.warning());
  }

  // The seed's plots before training, in the film's scene.
  const torch::Tensor curve_x = curve_inputs(setup.data, look.curve_points);
  const render::FitPlot plot(film_scene(model, setup.data, curve_x, setup.epochs, look),
                             {options.width, options.height});
  const render::FitFrame before =
      film_frame(model, setup.data, curve_x, 0, "before training", look.hidden_units);
  if (setup.line) {
    render::write_png(output.staging(), "data.png",
                      plot.draw(before, render::Layer::train | render::Layer::test));
    render::write_png(output.staging(), "truth.png",
                      plot.draw(before, render::Layer::train | render::Layer::truth));
  }
  render::write_png(output.staging(), "before.png",
                    plot.draw(before, render::Layers::all().without(render::Layer::side_panel)));

  const Watched watched = train_and_film(model, setup, options, film, resume);
  const TrainResult& result = watched.result;

  const double test_mse = mse(model, setup.data.x_test, setup.data.y_test);
  if (optimum) {
    tell_line_result(result, *optimum, setup, test_mse);
  } else {
    tell_net_result(result);
  }
  if (result.diverged_at_epoch) {
    spdlog::error("{} diverged: the loss of epoch {} is not finite; training stopped there ({})",
                  setup.demo, *result.diverged_at_epoch, divergence_advice(setup.data));
  }
  if (result.interrupted) {
    spdlog::warn(
        "{} interrupted after {} of {} epochs; writing its results so far (a second signal "
        "quits without them)",
        setup.demo, result.epochs_run, setup.epochs);
  }
  // A model that cannot be saved (a full disk) costs the model alone: the results are still
  // published, then the error is reported.
  std::exception_ptr save_failed;
  if (options.save_model) {
    try {
      save_checkpoint(model, result.state, *options.save_model, setup.architecture);
      spdlog::info("saved the model to {}", *options.save_model);
    } catch (const files::WriteError&) {
      save_failed = std::current_exception();
    }
  }
  output.choose_destination();
  const Summary summary = summarize(setup, options, watched, optimum, test_mse, output);
  if (summary.params_file) {
    save_checkpoint(model, setup.architecture, output.staging(), kParamsFile);
  }
  files::write_file_atomically(output.staging(), "summary.json",
                               summary_json(summary, result.losses));
  output.publish();
  spdlog::info("wrote {}/ ({} frames{})", output.final_dir().string(), watched.frames,
               watched.video ? ", " + *watched.video : "");
  if (save_failed) {
    std::rethrow_exception(save_failed);
  }
  if (result.diverged_at_epoch) {
    return DemoOutcome::diverged;
  }
  return result.interrupted ? DemoOutcome::interrupted : DemoOutcome::completed;
}

}  // namespace fitreel::app
