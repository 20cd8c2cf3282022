#include "scene.hpp"

#include <torch/torch.h>

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

render::FitScene demo_scene(const std::string& demo, const Dataset& data,
                            const torch::Tensor& curve_x, torch::nn::Sequential& model,
                            int64_t epochs, Schedule schedule) {
  const bool line = demo == "line";
  render::FitScene scene;
  scene.demo = demo;
  scene.train = {values_of(data.x_train), values_of(data.y_train)};
  scene.test = {values_of(data.x_test), values_of(data.y_test)};
  scene.truth =
      line ? render::StraightLine{kTrueSlope, kTrueIntercept} : render::StraightLine{1.0, 0.0};
  scene.truth_label = line ? "true line y = -0.5x + 2" : "target y = x";
  scene.curve_x = values_of(curve_x);
  scene.param_names = parameter_names(demo, model);
  scene.epochs = epochs;
  scene.epoch_scale = schedule == Schedule::log ? render::Scale::log1p : render::Scale::linear;
  return scene;
}

torch::Tensor curve_inputs(const Dataset& data, int64_t count) {
  const torch::Tensor all_x = torch::cat({data.x_train, data.x_test});
  return torch::linspace(all_x.min().item<double>(), all_x.max().item<double>(), count)
      .view({-1, 1});
}

}  // namespace fitreel::app
