#include "setup.hpp"

#include "story.hpp"

#include <fitreel/device.hpp>

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <chrono>

namespace fitreel::app {

std::shared_ptr<const XyPoints> read_data_file(const RunOptions& options) {
  if (!options.data) {
    return nullptr;
  }
  try {
    const auto start = std::chrono::steady_clock::now();
    auto points = std::make_shared<const XyPoints>(read_xy_csv(*options.data));
    spdlog::info("read {} points from {} in {:.2f} s", points->x.size(0), *options.data,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return points;
  } catch (const CsvError& error) {
    throw UsageError(std::string("--data ") + error.what());
  }
}

DemoSetup make_setup(const std::string& demo, const RunOptions& options, const XyPoints* file) {
  DemoSetup setup;
  setup.demo = demo;
  setup.line = demo == "line";
  setup.epochs = options.epochs.value_or(setup.line ? 30000 : 10000);  // the seed's
  setup.lr = options.lr.value_or(setup.line ? 0.01 : 0.1);
  setup.schedule = options.schedule ? *schedule_from_name(*options.schedule)
                                    : (setup.line ? Schedule::log : Schedule::linear);
  setup.device = resolve_device(options.device);
  setup.optimizer = *optimizer_from_name(options.optimizer);
  setup.net = NetSpec{options.hidden, *activation_from_name(options.activation)};
  setup.architecture = setup.line ? "Linear(1, 1)" : describe(setup.net);

  // Seed first, then the data; the caller makes the model next.
  torch::manual_seed(options.seed);
  if (file) {
    setup.data = setup.line ? split_train_test(file->x, file->y)
                            : Dataset{file->x, file->y, torch::empty({0, 1}), torch::empty({0, 1})};
  } else {
    setup.data = setup.line ? make_noisy_line(options.points) : make_identity(options.points);
  }
  if (options.truth) {
    setup.truth = render::StraightLine{options.truth->first, options.truth->second};
    setup.truth_label = "given line " + line_equation(setup.truth->slope, setup.truth->intercept);
  } else if (!file) {
    setup.truth = setup.line ? render::StraightLine{kTrueSlope, kTrueIntercept}
                             : render::StraightLine{1.0, 0.0};
    setup.truth_label = setup.line ? "true line y = -0.5x + 2" : "target y = x";
  }
  return setup;
}

torch::nn::Sequential make_model(const DemoSetup& setup) {
  return setup.line ? make_line_model() : make_net(setup.net);
}

TrainOptions train_options_for(const DemoSetup& setup, const RunOptions& options) {
  TrainOptions train_options;
  train_options.epochs = setup.epochs;
  train_options.lr = setup.lr;
  train_options.optimizer = setup.optimizer;
  train_options.device = setup.device;
  train_options.gradients = options.gradients == "autograd"   ? Gradients::autograd
                            : options.gradients == "analytic" ? Gradients::analytic
                                                              : Gradients::automatic;
  train_options.cuda_graphs = options.cuda_graphs;
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
