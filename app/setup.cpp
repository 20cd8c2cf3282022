#include "setup.hpp"

#include "story.hpp"

#include <fitreel/demos.hpp>
#include <fitreel/device.hpp>

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>

namespace fitreel::app {

namespace {

// A line through points that all share one x has no single slope: the line demo's optimum
// (least squares) does not exist and gradient descent picks an arbitrary one. The net just
// learns the mean y there, so it takes such data.
void refuse_constant_x_for_a_line(const RunOptions& options, const XyPoints& points) {
  const std::vector<Demo> demos = demos_of(options.command, options.sweep_demo);
  if (std::find(demos.begin(), demos.end(), Demo::line) == demos.end()) {
    return;
  }
  const std::string why =
      "; a line needs at least two different x values (with one x its "
      "slope is undetermined)";
  if ((points.x.max() == points.x.min()).item<bool>()) {
    throw UsageError(fmt::format("--data {}: all {} rows have x = {}{}", *options.data,
                                 points.x.size(0), points.x[0][0].item<float>(), why));
  }
  const DemoSetup setup = make_setup(Demo::line, options, &points);  // the rows it trains on
  const torch::Tensor& x = setup.data.x_train;
  if ((x.max() == x.min()).item<bool>()) {
    throw UsageError(fmt::format(
        "--data {}: the {} training rows (80%, drawn by --seed) all have x = {}{}; try another "
        "--seed or add rows",
        *options.data, x.size(0), x[0][0].item<float>(), why));
  }
}

}  // namespace

std::shared_ptr<const XyPoints> read_data_file(const RunOptions& options) {
  if (!options.data) {
    return nullptr;
  }
  std::shared_ptr<const XyPoints> points;
  const auto start = std::chrono::steady_clock::now();
  const auto column = [](const DataColumn& chosen) {
    return chosen.index ? CsvColumn::at(*chosen.index) : CsvColumn::named(chosen.name);
  };
  try {
    points = std::make_shared<const XyPoints>(
        options.columns ? read_xy_csv(*options.data, CsvColumns{column(options.columns->first),
                                                                column(options.columns->second)})
                        : read_xy_csv(*options.data));
  } catch (const CsvError& error) {
    throw UsageError(std::string("--data ") + error.what());
  }
  refuse_constant_x_for_a_line(options, *points);
  spdlog::info("read {} points from {} in {:.2f} s", points->x.size(0), *options.data,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return points;
}

DemoSetup make_setup(Demo demo, const RunOptions& options, const XyPoints* file) {
  DemoSetup setup;
  setup.demo = std::string(demo_name(demo));
  setup.line = demo == Demo::line;
  const demos::Defaults& seed = setup.line ? demos::kLine : demos::kNet;
  setup.epochs = options.epochs.value_or(seed.epochs);
  setup.lr = options.lr.value_or(seed.lr);
  setup.schedule = options.schedule.value_or(Schedule::adaptive);
  setup.device = resolve_device(options.device);
  setup.optimizer = options.optimizer;
  setup.net = NetSpec{options.hidden, options.activation};
  setup.architecture = setup.line ? "Linear(1, 1)" : describe(setup.net);

  // Seed first, then the data; the caller makes the model next.
  torch::manual_seed(options.seed);
  if (file) {
    setup.data = setup.line ? split_train_test(file->x, file->y)
                            : Dataset{file->x, file->y, torch::empty({0, 1}), torch::empty({0, 1})};
  } else {
    setup.data =
        setup.line ? demos::make_noisy_line(options.points) : demos::make_identity(options.points);
  }
  if (options.truth) {
    setup.truth = render::StraightLine{options.truth->first, options.truth->second};
    setup.truth_label = "given line " + line_equation(setup.truth->slope, setup.truth->intercept);
  } else if (!file) {
    setup.truth = setup.line ? render::StraightLine{demos::kTrueSlope, demos::kTrueIntercept}
                             : render::StraightLine{1.0, 0.0};  // labelled by the demo's look
  }
  return setup;
}

torch::nn::Sequential make_model(const DemoSetup& setup) {
  return setup.line ? demos::make_line_model() : make_net(setup.net);
}

TrainOptions train_options_for(const DemoSetup& setup, const RunOptions& options) {
  TrainOptions train_options;
  train_options.epochs = setup.epochs;
  train_options.lr = setup.lr;
  train_options.optimizer = setup.optimizer;
  train_options.device = setup.device;
  train_options.gradients = options.gradients;
  // The seed demos keep their bit-for-bit parity with Python unless fused kernels are asked for.
  train_options.path = options.kernels.value_or(TrainPath::exact);
  train_options.cuda_graphs = options.cuda_graphs;
  const TrainingChoices& t = options.training;
  train_options.loss.kind = t.loss;
  train_options.loss.huber_delta = t.huber_delta;
  train_options.batch_size = t.batch_size;
  train_options.optimizer_settings.momentum = t.momentum;
  train_options.optimizer_settings.weight_decay = t.weight_decay;
  switch (t.schedule) {
    case LrScheduleKind::constant:
      break;
    case LrScheduleKind::step:
      train_options.lr_schedule = LrSchedule::step(t.step_size, t.gamma);
      break;
    case LrScheduleKind::exponential:
      train_options.lr_schedule = LrSchedule::exponential(t.gamma);
      break;
    case LrScheduleKind::cosine:
      train_options.lr_schedule = LrSchedule::cosine(/*t_max=*/0, t.eta_min);
      break;
  }
  return train_options;
}

std::string describe_data(const DemoSetup& setup, const RunOptions& options) {
  const int64_t points = setup.data.x_train.size(0) + setup.data.x_test.size(0);
  if (options.data) {
    return std::to_string(points) + " points from " + *options.data;
  }
  return std::to_string(points) + (setup.line ? " points on y = -0.5x + 2 plus noise"
                                              : " points x = y = 0.." + std::to_string(points - 1));
}

}  // namespace fitreel::app
