#include "demo.hpp"

#include "output.hpp"
#include "progress.hpp"
#include "results.hpp"
#include "scene.hpp"
#include "signals.hpp"
#include "story.hpp"

#include <fitreel/checkpoint.hpp>
#include <fitreel/data.hpp>
#include <fitreel/device.hpp>
#include <fitreel/evaluate.hpp>
#include <fitreel/model.hpp>
#include <fitreel/render/fit_plot.hpp>
#include <fitreel/render/live_window.hpp>
#include <fitreel/render/pipeline.hpp>
#include <fitreel/render/video.hpp>
#include <fitreel/schedule.hpp>
#include <fitreel/trainer.hpp>
#include <fitreel/version.hpp>

#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <opencv2/imgcodecs.hpp>

#include <optional>

namespace fitreel::app {

namespace {

constexpr int64_t kCurvePoints = 200;       // where frames evaluate the model
constexpr int64_t kLossCurvePoints = 1000;  // loss samples drawn in after.png

// The settings of one demo after the defaults are filled in.
struct Plan {
  std::string demo;
  bool line = true;
  int64_t epochs = 0;
  double lr = 0.0;
  Schedule schedule = Schedule::linear;
  torch::Device device = torch::kCPU;
};

Plan plan_for(const std::string& demo, const RunOptions& options) {
  Plan plan;
  plan.demo = demo;
  plan.line = demo == "line";
  plan.epochs = options.epochs.value_or(plan.line ? 30000 : 10000);  // the seed's
  plan.lr = options.lr.value_or(plan.line ? 0.01 : 0.1);
  plan.schedule = options.schedule ? *schedule_from_name(*options.schedule)
                                   : (plan.line ? Schedule::log : Schedule::linear);
  plan.device = resolve_device(options.device);
  return plan;
}

void write_png(const std::filesystem::path& path, const cv::Mat& image) {
  if (!cv::imwrite(path.string(), image)) {
    throw std::runtime_error("cannot write " + path.string());
  }
}

render::FitFrame frame_of(const Snapshot& snapshot, std::optional<render::StraightLine> optimum) {
  render::FitFrame frame;
  frame.epoch = snapshot.epoch;
  frame.loss = snapshot.loss;
  frame.params = snapshot.params;
  frame.curve = snapshot.curve;
  if (snapshot.final) {
    frame.least_squares = optimum;
  }
  return frame;
}

// Opens what the frames go to, as --video asks. Returns the sinks and the path summary.json
// reports (the file actually written, which a fallback may change).
std::vector<std::unique_ptr<render::FrameSink>> open_sinks(const RunOptions& options,
                                                           const Plan& plan,
                                                           const DemoOutput& output,
                                                           std::optional<std::string>& reported) {
  std::vector<std::unique_ptr<render::FrameSink>> sinks;
  if (options.video == VideoChoice::none) {
    return sinks;
  }
  if (options.video == VideoChoice::png) {
    sinks.push_back(render::make_png_sequence((output.staging() / "frames").string()));
    reported = output.final_path("frames").string();
    return sinks;
  }
  const render::VideoFormat format = options.video == VideoChoice::webm  ? render::VideoFormat::webm
                                     : options.video == VideoChoice::avi ? render::VideoFormat::avi
                                     : options.video == VideoChoice::gif ? render::VideoFormat::gif
                                                                         : render::VideoFormat::mp4;
  render::VideoSettings settings;
  settings.size = {options.width, options.height};
  settings.fps = options.fps;
  settings.preset = options.preset;
  render::OpenedVideo video =
      render::open_video(output.staging().string(), plan.demo, format, settings);
  if (!video.warning.empty()) {
    spdlog::warn("{}", video.warning);
  }
  spdlog::debug("video: {} with {}", video.sink->path(), video.codec);
  reported =
      output.final_path(std::filesystem::path(video.sink->path()).filename().string()).string();
  sinks.push_back(std::move(video.sink));
  return sinks;
}

std::vector<render::LossPoint> sampled_losses(const std::vector<float>& losses, Schedule schedule) {
  std::vector<render::LossPoint> points;
  if (losses.empty()) {
    return points;
  }
  for (int64_t e : frame_epochs(static_cast<int64_t>(losses.size()),
                                std::max<int64_t>(2, kLossCurvePoints), schedule)) {
    points.push_back({e, losses[static_cast<size_t>(e)]});
  }
  return points;
}

}  // namespace

void prepare_torch(const RunOptions& options) {
  if (options.threads) {
    torch::set_num_threads(*options.threads);
  }
  try {
    resolve_device(options.device);
  } catch (const DeviceError& error) {
    throw UsageError(std::string("--device: ") + error.what());
  }
}

DemoOutcome run_demo(const std::string& demo, const RunOptions& options) {
  const Plan plan = plan_for(demo, options);

  // Data first, then the model: the order of random draws is the parity contract.
  torch::manual_seed(options.seed);
  const Dataset data = plan.line ? make_noisy_line(options.points) : make_identity(options.points);
  torch::nn::Sequential model = plan.line ? make_line_model() : make_net();
  const std::string architecture = plan.line ? "Linear(1, 1)" : describe(NetSpec{});
  if (options.load_model) {
    try {
      load_checkpoint(model, architecture, *options.load_model);
    } catch (const CheckpointError& error) {
      throw UsageError(std::string("--load-model: ") + error.what());
    }
  }
  tell_data(plan.demo, data, options.seed);
  tell_model(plan.demo, model, options.load_model);
  if (plan.line) {
    tell_shape_lesson(model, data);
  }

  DemoOutput output(options.out_dir, plan.demo);
  const torch::Tensor curve_x = curve_inputs(data);
  const Line optimum_line = least_squares(data.x_train, data.y_train);
  const std::optional<render::StraightLine> optimum =
      plan.line ? std::optional(render::StraightLine{optimum_line.slope, optimum_line.intercept})
                : std::nullopt;
  const cv::Size size(options.width, options.height);
  const render::FitPlot plot(
      demo_scene(plan.demo, data, curve_x, model, plan.epochs, plan.schedule), size);

  // The seed's plots before training.
  render::FitFrame before;
  before.params = flat_parameters(*model);
  before.curve = predict(model, curve_x);
  before.loss = mse(model, data.x_train, data.y_train);
  before.note = "before training";
  const render::Layers no_panel{true, true, true, true, false};
  if (plan.line) {
    write_png(output.staging() / "data.png", plot.draw(before, {true, true, false, false, false}));
    write_png(output.staging() / "truth.png", plot.draw(before, {true, false, true, false, false}));
  }
  write_png(output.staging() / "before.png", plot.draw(before, no_panel));

  // Frames are drawn and encoded on the pipeline's thread while training runs here.
  std::optional<std::string> video_path;
  auto sinks = open_sinks(options, plan, output, video_path);
  std::optional<render::LiveWindow> window;
  render::FrameMailbox mailbox;
  if (options.show) {
    window.emplace("fitreel " + plan.demo);
  }
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

  TrainOptions train_options;
  train_options.epochs = plan.epochs;
  train_options.lr = plan.lr;
  train_options.device = plan.device;
  train_options.curve_x = curve_x;
  train_options.gradients = options.gradients == "autograd"   ? Gradients::autograd
                            : options.gradients == "analytic" ? Gradients::analytic
                                                              : Gradients::automatic;
  train_options.cuda_graphs = options.cuda_graphs;
  if (pipeline) {
    train_options.snapshot_epochs = frame_epochs(plan.epochs, options.frames, plan.schedule);
  }
  ProgressLine progress(plan.demo, !options.quiet);
  TrainCallbacks callbacks;
  if (pipeline) {
    callbacks.on_snapshot = [&](const Snapshot& snapshot) {
      pipeline->push(frame_of(snapshot, optimum));
      refresh_window();
    };
  }
  callbacks.on_progress = [&](const Progress& p) {
    progress.update(p);
    refresh_window();
  };
  callbacks.should_stop = [] { return stop_signal() != 0; };

  spdlog::info("training {}: {} epochs, Adagrad lr {}, full batch on {}", plan.demo, plan.epochs,
               plan.lr, device_name(plan.device));
  const TrainResult result = train(model, data, train_options, callbacks);
  progress.finish();
  int64_t frames = 0;
  if (pipeline) {
    pipeline->finish();  // the video is complete and playable from here on
    frames = pipeline->frames();
    spdlog::debug("{} frames: drawing took {:.2f} s, writing {:.2f} s (on the render thread)",
                  frames, pipeline->draw_seconds(), pipeline->write_seconds());
    refresh_window();
  }
  window.reset();

  // The seed's plot after training, with the loss history and the least-squares line.
  render::FitFrame after;
  after.epoch = result.epochs_run;
  after.params = result.final_params;
  after.curve = predict(model, curve_x);
  after.loss = mse(model, data.x_train, data.y_train);
  after.loss_curve = sampled_losses(result.losses, plan.schedule);
  after.least_squares = optimum;
  after.note = result.diverged_at_epoch ? "diverged"
               : result.interrupted     ? "interrupted"
                                        : "after training";
  write_png(output.staging() / "after.png", plot.draw(after));

  const double test_mse = mse(model, data.x_test, data.y_test);
  if (plan.line) {
    tell_line_result(result, optimum_line, plan.lr, test_mse, data.x_test.size(0));
  } else {
    tell_net_result(result);
  }
  if (result.diverged_at_epoch) {
    spdlog::error(
        "{} diverged: the loss of epoch {} is not finite; training stopped there "
        "(a smaller --lr helps)",
        plan.demo, *result.diverged_at_epoch);
  }
  if (result.interrupted) {
    spdlog::warn("{} interrupted after {} of {} epochs; its results are written", plan.demo,
                 result.epochs_run, plan.epochs);
  }

  Summary summary;
  summary.demo = plan.demo;
  summary.seed = options.seed;
  summary.points = options.points;
  summary.epochs = plan.epochs;
  summary.epochs_run = result.epochs_run;
  summary.lr = plan.lr;
  summary.device = device_name(plan.device);
  summary.model = architecture;
  summary.loaded_model = options.load_model;
  if (options.save_model) {
    save_checkpoint(model, architecture, *options.save_model);
    summary.saved_model = options.save_model;
    spdlog::info("saved the model to {}", *options.save_model);
  }
  summary.optimizer = std::string(optimizer_name(train_options.optimizer));
  summary.gradients = result.used_analytic_gradients ? "analytic" : "autograd";
  summary.cuda_graph = result.used_cuda_graph;
  summary.initial_params = result.initial_params;
  summary.final_params = result.final_params;
  if (plan.line) {
    summary.test_mse = test_mse;
    summary.least_squares = std::array<double, 2>{optimum_line.slope, optimum_line.intercept};
  }
  summary.train_seconds = result.seconds;
  summary.interrupted = result.interrupted;
  summary.diverged_at_epoch = result.diverged_at_epoch;
  summary.video = video_path;
  summary.frames = frames;
  summary.fitreel_version = kVersion;
  summary.torch_version = TORCH_VERSION;
  summary.command = options.command_line;
  write_file_atomically(output.staging() / "loss.csv", loss_csv(result.losses));
  write_file_atomically(output.staging() / "summary.json", summary_json(summary, result.losses));
  output.publish();
  spdlog::info("wrote {}/ ({} frames{})", output.final_dir().string(), frames,
               video_path ? ", " + std::filesystem::path(*video_path).filename().string() : "");

  if (result.diverged_at_epoch) {
    return DemoOutcome::diverged;
  }
  return result.interrupted ? DemoOutcome::interrupted : DemoOutcome::completed;
}

}  // namespace fitreel::app
