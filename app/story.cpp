#include "story.hpp"

#include <fitreel/model.hpp>
#include <fitreel/shape.hpp>

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <cmath>
#include <sstream>

namespace fitreel::app {

namespace {

std::string one_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  return line.size() > 200 ? line.substr(0, 200) + "..." : line;
}

std::string join(const std::vector<float>& values) {
  std::string text;
  for (size_t i = 0; i < values.size(); ++i) {
    text += (i == 0 ? "" : ", ") + fmt::format("{:.4f}", values[i]);
  }
  return text;
}

}  // namespace

std::string line_equation(double slope, double intercept) {
  return fmt::format("y = {:.4g}x {} {:.4g}", slope, intercept < 0 ? '-' : '+',
                     std::abs(intercept));
}

void tell_data(const std::string& demo, const std::string& description, const Dataset& data,
               uint64_t seed) {
  spdlog::info("{} demo: {} (seed {})", demo, description, seed);
  if (data.x_test.size(0) > 0) {
    spdlog::info("split: {} points to train on, {} held out to test the fit afterwards",
                 data.x_train.size(0), data.x_test.size(0));
  }
}

void tell_model(bool line_demo, torch::nn::Sequential& model,
                const std::optional<std::string>& loaded_from) {
  std::ostringstream printed;
  if (line_demo) {
    model->ptr(0)->pretty_print(printed);  // the Linear itself, as the seed prints it
  } else {
    printed << *model;
  }
  std::string text = printed.str();
  for (size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at + 1)) {
    text.replace(at, 1, " ");
  }
  spdlog::info("the model, as LibTorch prints it: {}", text);
  if (loaded_from) {
    spdlog::info("its parameters come from {} instead of the random start", *loaded_from);
  }
  const auto named = model->named_parameters();
  const std::vector<std::vector<float>> values = flat_parameters(*model);  // in the same order
  for (size_t i = 0; i < values.size(); ++i) {
    spdlog::info("  {} {:<9} {}", loaded_from ? "loaded" : "random start", named[i].key(),
                 join(values[i]));
  }
}

void tell_shape_lesson(torch::nn::Sequential& model, const Dataset& data) {
  torch::NoGradGuard no_grad;
  // The seed's mistake: the test x values as shape [20], not [20, 1]. (With one test point a
  // [1] happens to work, so then the training x values show it.)
  const bool use_test = data.x_test.size(0) >= 2;
  const torch::Tensor flat = (use_test ? data.x_test : data.x_train).flatten();
  spdlog::info("tensors are tricky: feed the {} {} x values as a 1-D tensor of shape [{}] ...",
               flat.size(0), use_test ? "test" : "training", flat.size(0));
  try {
    model->forward(flat);
    spdlog::warn("... and this LibTorch accepted it");
  } catch (const c10::Error& error) {
    spdlog::info("... and LibTorch refuses: \"{}\"", one_line(error.what_without_backtrace()));
  }
  try {
    require_column(flat, use_test ? "x_test" : "x_train");
  } catch (const ShapeError& error) {
    spdlog::info("why: {}", error.what());
  }
  const torch::Tensor column = flat.view({-1, 1});
  const torch::Tensor predictions = model->forward(column);
  spdlog::info("reshaped to [{}, 1] it works: {} predictions, e.g. x = {} -> {:.4f}",
               column.size(0), predictions.size(0), column[0][0].item<float>(),
               predictions[0][0].item<float>());
}

void tell_line_result(const TrainResult& result, const Line& optimum, const DemoSetup& setup,
                      double test_mse) {
  const float w = result.final_params[0][0];
  const float b = result.final_params[1][0];
  const std::string truth =
      setup.truth ? ", the truth is " + line_equation(setup.truth->slope, setup.truth->intercept)
                  : "";
  spdlog::info("learned {}{}, and the least-squares line through the training points is {}",
               line_equation(w, b), truth, line_equation(optimum.slope, optimum.intercept));
  if (setup.optimizer == OptimizerKind::adagrad && std::abs(b - optimum.intercept) > 0.1 &&
      std::abs(w - optimum.slope) < 0.1) {
    spdlog::info(
        "why the intercept lags: Adagrad divides each step by the root of that parameter's "
        "summed squared gradients. The first epochs' large errors filled the intercept's sum, so "
        "once the slope fits, its small remaining gradient moves it by a tiny fraction of lr = {} "
        "per epoch. More epochs or a larger --lr (try 1) reach the optimum.",
        setup.lr);
  }
  spdlog::info("test MSE on the {} held-out points: {:.4f} (training loss {:.4f})",
               setup.data.x_test.size(0), test_mse, result.losses.last());
}

void tell_net_result(const TrainResult& result) {
  spdlog::info(
      "final loss {:.4f} (started at {:.4f}). Two sigmoids can only bend the line into a soft "
      "step, so the net approximates y = x with an S-curve: it is (kind of) learning y = x.",
      result.losses.last(), result.losses.first());
}

}  // namespace fitreel::app
