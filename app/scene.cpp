#include "scene.hpp"

#include <torch/torch.h>

namespace fitreel::app {

namespace {

constexpr int64_t kUnitsShown = 8;  // more would hide the model behind them

std::vector<std::string> parameter_names(bool line, torch::nn::Sequential& model) {
  if (line) {
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

FilmOptions film_options_for(const DemoSetup& setup, const RunOptions& options,
                             torch::nn::Sequential& model) {
  FilmOptions film;
  film.title = setup.demo + " demo";
  if (setup.truth) {
    film.truth = *setup.truth;
  }
  film.truth_label = setup.truth_label;
  film.param_names = parameter_names(setup.line, model);
  film.frames = options.frames;
  film.schedule = setup.schedule;
  film.width = options.width;
  film.height = options.height;
  film.fps = options.fps;
  film.preset = options.preset;
  film.show = options.show;
  film.hidden_units = options.units ? kUnitsShown : 0;
  return film;
}

}  // namespace fitreel::app
