#include <fitreel/reel/demo_look.hpp>

#include <fitreel/demos.hpp>

#include <torch/torch.h>

namespace fitreel::demos {

namespace {

constexpr int64_t kUnitsShown = 8;  // more would hide the model behind them

}  // namespace

FilmOptions line_look() {
  FilmOptions look;
  look.title = "line demo";
  look.truth = render::StraightLine{kTrueSlope, kTrueIntercept};
  look.truth_label = "true line y = -0.5x + 2";
  look.param_names = {"slope w", "intercept b"};
  return look;
}

FilmOptions net_look(const torch::nn::Sequential& model) {
  FilmOptions look;
  look.title = "net demo";
  look.truth = render::StraightLine{1.0, 0.0};
  look.truth_label = "target y = x";
  int layer = 0;
  for (const auto& child : model->children()) {
    if (child->as<torch::nn::Linear>() != nullptr) {
      ++layer;
      look.param_names.push_back("fc" + std::to_string(layer) + " weight");
      look.param_names.push_back("fc" + std::to_string(layer) + " bias");
    }
  }
  look.hidden_units = kUnitsShown;
  return look;
}

}  // namespace fitreel::demos
