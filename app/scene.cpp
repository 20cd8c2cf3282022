#include "scene.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <iterator>

namespace fitreel::app {

namespace {

std::vector<std::string> parameter_names(const std::string& demo, torch::nn::Sequential& model) {
  if (demo == "line") {
    return {"slope w", "intercept b"};
  }
  std::vector<std::string> names;
  int layer = 0;
  for (const auto& child : model->children()) {
    if (child->as<torch::nn::Linear>() != nullptr) {
      ++layer;
      names.push_back("fc" + std::to_string(layer) + " weight");
      names.push_back("fc" + std::to_string(layer) + " bias");
    }
  }
  return names;
}

}  // namespace

render::FitScene demo_scene(const DemoSetup& setup, const torch::Tensor& curve_x,
                            torch::nn::Sequential& model) {
  render::FitScene scene;
  scene.title = setup.demo + " demo";
  scene.train = {values_of(setup.data.x_train), values_of(setup.data.y_train)};
  scene.test = {values_of(setup.data.x_test), values_of(setup.data.y_test)};
  if (setup.truth) {
    scene.truth = *setup.truth;
  }
  scene.truth_label = setup.truth_label;
  scene.curve_x = values_of(curve_x);
  scene.param_names = parameter_names(setup.demo, model);
  scene.epochs = setup.epochs;
  scene.epoch_scale =
      setup.schedule == Schedule::log ? render::Scale::log1p : render::Scale::linear;
  return scene;
}

torch::Tensor curve_inputs(const Dataset& data, int64_t count) {
  const torch::Tensor all_x = torch::cat({data.x_train, data.x_test});
  return torch::linspace(all_x.min().item<double>(), all_x.max().item<double>(), count)
      .view({-1, 1});
}

std::vector<render::LossPoint> loss_points(const LossHistory& losses, Schedule schedule,
                                           int64_t count) {
  std::vector<render::LossPoint> points;
  const std::vector<EpochLoss> kept = losses.points();
  if (kept.empty()) {
    return points;
  }
  // At each epoch the schedule picks, the loss of the latest kept epoch at or before it.
  for (int64_t e : frame_epochs(losses.count(), std::max<int64_t>(2, count), schedule)) {
    const auto after =
        std::upper_bound(kept.begin(), kept.end(), e,
                         [](int64_t epoch, const EpochLoss& point) { return epoch < point.epoch; });
    const EpochLoss& at = after == kept.begin() ? kept.front() : *std::prev(after);
    if (points.empty() || points.back().epoch != at.epoch) {
      points.push_back({at.epoch, at.loss});
    }
  }
  return points;
}

}  // namespace fitreel::app
