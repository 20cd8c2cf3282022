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
#include <fitreel/render/live_window.hpp>
#include <fitreel/render/pipeline.hpp>
#include <fitreel/version.hpp>

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <optional>

namespace fitreel::app {

namespace {

constexpr double kLargeDataValue = 1e6;  // beyond this, divergence is the data's scale

// The model as it is now, as a picture's frame.
render::FitFrame current_frame(torch::nn::Sequential& model, const DemoSetup& setup,
                               const torch::Tensor& curve_x, int64_t epoch, std::string note) {
  render::FitFrame frame;
  frame.epoch = epoch;
  frame.params = flat_parameters(*model);
  frame.curve = predict(model, curve_x);
  frame.loss = mse(model, setup.data.x_train, setup.data.y_train);
  frame.note = std::move(note);
  return frame;
}

// What training produced for people to watch.
struct Watched {
  TrainResult result;
  int64_t frames = 0;
  std::optional<std::string> video;  // the file (or folder) written
};

// Trains with the frames going to the video (and the window) as the run goes.
Watched train_and_film(torch::nn::Sequential& model, const DemoSetup& setup,
                       const RunOptions& options, const render::FitPlot& plot,
                       const torch::Tensor& curve_x, const DemoOutput& output,
                       const std::optional<render::StraightLine>& optimum,
                       LossCsvWriter& loss_csv) {
  Watched watched;
  std::vector<std::unique_ptr<render::FrameSink>> sinks;
  if (auto sink = open_frame_sink(options, output, setup.demo, watched.video)) {
    sinks.push_back(std::move(sink));
  }
  std::optional<render::LiveWindow> window;
  render::FrameMailbox mailbox;
  if (options.show) {
    window.emplace("fitreel " + setup.demo);
  }
  // Frames are drawn and encoded on the pipeline's threads while training runs here.
  std::optional<render::RenderPipeline> pipeline;
  if (!sinks.empty() || window) {
    pipeline.emplace(plot, std::move(sinks), window ? &mailbox : nullptr);
  }
  cv::Mat shown;
  const auto refresh_window = [&] {
    if (window && mailbox.take(shown)) {
      window->show(shown);
    }
  };

  TrainOptions train_options = train_options_for(setup, options);
  train_options.curve_x = curve_x;
  if (pipeline) {
    train_options.snapshot_epochs = frame_epochs(setup.epochs, options.frames, setup.schedule);
  }
  ProgressLine progress(setup.demo, !options.quiet);
  TrainCallbacks callbacks;
  if (pipeline) {
    callbacks.on_snapshot = [&](const Snapshot& s) {
      render::FitFrame frame{s.epoch, s.loss, s.params, s.curve};
      if (s.final) {
        frame.least_squares = optimum;  // the line demo's last frame shows the optimum
      }
      pipeline->push(std::move(frame));
      refresh_window();
    };
  }
  callbacks.on_progress = [&](const Progress& p) {
    progress.update(p);
    refresh_window();
  };
  callbacks.should_stop = [] { return stop_signal() != 0; };
  callbacks.on_loss = [&](int64_t epoch, float loss) { loss_csv.add(epoch, loss); };

  spdlog::info("training {}: {} epochs, {} lr {}, full batch on {}", setup.demo, setup.epochs,
               optimizer_name(setup.optimizer), setup.lr, device_name(setup.device));
  watched.result = train(model, setup.data, train_options, callbacks);
  progress.finish();
  if (pipeline) {
    pipeline->finish();  // the video is complete and playable from here on
    watched.frames = pipeline->frames();
    spdlog::debug("{} frames: drawing took {:.2f} s, writing {:.2f} s (on their threads)",
                  watched.frames, pipeline->draw_seconds(), pipeline->write_seconds());
    refresh_window();
  }
  return watched;
}

Summary summarize(const DemoSetup& setup, const RunOptions& options, const Watched& watched,
                  const std::optional<Line>& optimum, double test_mse) {
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
  summary.cuda_graph = result.used_cuda_graph;
  summary.initial_params = result.initial_params;
  summary.final_params = result.final_params;
  if (optimum) {
    summary.test_mse = test_mse;
    summary.least_squares = std::array<double, 2>{optimum->slope, optimum->intercept};
  }
  summary.train_seconds = result.seconds;
  summary.interrupted = result.interrupted;
  summary.diverged_at_epoch = result.diverged_at_epoch;
  summary.video = watched.video;
  summary.frames = watched.frames;
  summary.data = options.data;
  summary.loaded_model = options.load_model;
  summary.saved_model = options.save_model;
  summary.fitreel_version = kVersion;
  summary.torch_version = TORCH_VERSION;
  summary.command = options.command_line;
  return summary;
}

// Loads a --load-model file into `model`; a file that does not fit it is a usage error.
void load_checkpoint_into(torch::nn::Sequential& model, const std::string& architecture,
                          const std::string& path) {
  try {
    load_checkpoint(model, architecture, path);
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
  if (options.threads) {
    torch::set_num_threads(*options.threads);
  }
  try {
    resolve_device(options.device);
  } catch (const DeviceError& error) {
    throw UsageError(std::string("--device: ") + error.what());
  }
  std::shared_ptr<const XyPoints> file = read_data_file(options);
  if (options.load_model) {
    const DemoSetup setup = make_setup(options.command, options, file.get());
    torch::nn::Sequential model = make_model(setup);
    load_checkpoint_into(model, setup.architecture, *options.load_model);
  }
  return file;
}

DemoOutcome run_demo(const std::string& demo, const RunOptions& options, const XyPoints* file,
                     DemoOutput& output) {
  // Seed, data, model: the order of random draws is the parity contract.
  const DemoSetup setup = make_setup(demo, options, file);
  torch::nn::Sequential model = make_model(setup);
  if (options.load_model) {
    load_checkpoint_into(model, setup.architecture, *options.load_model);
  }
  tell_data(setup.demo, describe_data(setup, options), setup.data, options.seed);
  tell_model(setup.demo, model, options.load_model);
  if (setup.line) {
    tell_shape_lesson(model, setup.data);
  }

  const torch::Tensor curve_x = curve_inputs(setup.data);
  // The line demo compares with the closed-form optimum, drawn dashed at the end.
  const std::optional<Line> optimum =
      setup.line ? std::optional(least_squares(setup.data.x_train, setup.data.y_train))
                 : std::nullopt;
  const std::optional<render::StraightLine> optimum_drawn =
      optimum ? std::optional(render::StraightLine{optimum->slope, optimum->intercept})
              : std::nullopt;
  const render::FitPlot plot(demo_scene(setup, curve_x, model), {options.width, options.height});

  // The seed's plots before training.
  const render::FitFrame before = current_frame(model, setup, curve_x, 0, "before training");
  if (setup.line) {
    write_png(output.staging() / "data.png",
              plot.draw(before, render::Layer::train | render::Layer::test));
    write_png(output.staging() / "truth.png",
              plot.draw(before, render::Layer::train | render::Layer::truth));
  }
  write_png(output.staging() / "before.png",
            plot.draw(before, render::Layers::all().without(render::Layer::side_panel)));

  LossCsvWriter loss_csv(output.staging() / "loss.csv");  // streamed as training runs
  const Watched watched =
      train_and_film(model, setup, options, plot, curve_x, output, optimum_drawn, loss_csv);
  const TrainResult& result = watched.result;

  // The seed's plot after training, with the loss history and the least-squares line.
  render::FitFrame after = current_frame(model, setup, curve_x, result.epochs_run,
                                         result.diverged_at_epoch ? "diverged"
                                         : result.interrupted     ? "interrupted"
                                                                  : "after training");
  after.loss_curve = loss_points(result.losses, setup.schedule);
  after.least_squares = optimum_drawn;
  write_png(output.staging() / "after.png", plot.draw(after));

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
  if (options.save_model) {
    save_checkpoint(model, setup.architecture, *options.save_model);
    spdlog::info("saved the model to {}", *options.save_model);
  }
  const Summary summary = summarize(setup, options, watched, optimum, test_mse);
  loss_csv.commit();
  files::write_file_atomically(output.staging() / "summary.json",
                               summary_json(summary, result.losses));
  output.publish();
  spdlog::info(
      "wrote {}/ ({} frames{})", output.final_dir().string(), watched.frames,
      watched.video ? ", " + std::filesystem::path(*watched.video).filename().string() : "");
  if (result.diverged_at_epoch) {
    return DemoOutcome::diverged;
  }
  return result.interrupted ? DemoOutcome::interrupted : DemoOutcome::completed;
}

}  // namespace fitreel::app
