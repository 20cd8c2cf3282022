#include <fitreel/reel/film.hpp>

#include <fitreel/error.hpp>
#include <fitreel/evaluate.hpp>
#include <fitreel/model.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <iterator>

namespace fitreel {

namespace {

std::vector<std::string> parameter_names(const ModelRef& model) {
  std::vector<std::string> names;
  for (const auto& named : model.module().named_parameters()) {
    names.push_back(named.key());
  }
  return names;
}

}  // namespace

torch::Tensor curve_inputs(const Dataset& data, int64_t count) {
  if (count < 2) {
    throw InputError("curve_inputs: count is " + std::to_string(count) + ", at least 2 are needed");
  }
  torch::Tensor all_x = data.x_train;
  if (data.holds_out()) {
    all_x = torch::cat({data.x_train, data.x_test});
  }
  if (!all_x.defined() || all_x.numel() == 0) {
    throw InputError("curve_inputs: the dataset has no x values");
  }
  return torch::linspace(all_x.min().item<double>(), all_x.max().item<double>(), count)
      .view({-1, 1});
}

render::FitScene film_scene(const ModelRef& model, const Dataset& data,
                            const torch::Tensor& curve_x, int64_t epochs,
                            const FilmOptions& options) {
  render::FitScene scene;
  scene.title = options.title;
  scene.train = {values_of(data.x_train), values_of(data.y_train)};
  if (data.holds_out()) {
    scene.test = {values_of(data.x_test), values_of(data.y_test)};
  }
  scene.truth = options.truth;
  scene.truth_label = options.truth_label;
  scene.curve_x = values_of(curve_x);
  scene.param_names = options.param_names.empty() ? parameter_names(model) : options.param_names;
  scene.epochs = epochs;
  scene.epoch_scale =
      options.schedule == Schedule::log ? render::Scale::log1p : render::Scale::linear;
  return scene;
}

render::FitFrame film_frame(const ModelRef& model, const Dataset& data,
                            const torch::Tensor& curve_x, int64_t epoch, std::string note,
                            int64_t hidden_units) {
  render::FitFrame frame;
  frame.epoch = epoch;
  frame.params = flat_parameters(model.module());
  frame.curve = predict(model, curve_x);
  frame.loss = mse(model, data.x_train, data.y_train);
  frame.note = std::move(note);
  if (data.holds_out()) {
    frame.test_loss = mse(model, data.x_test, data.y_test);
  }
  const UnitCurves units = hidden_unit_curves(model, curve_x, hidden_units);
  frame.units = units.units;
  frame.unit_bias = units.bias;
  frame.units_total = units.total;
  return frame;
}

std::vector<render::LossPoint> loss_points(const LossHistory& losses, Schedule schedule,
                                           int64_t count) {
  std::vector<render::LossPoint> points;
  const std::vector<EpochLoss> kept = losses.points();
  if (kept.empty()) {
    return points;
  }
  // At each epoch the schedule picks, the loss of the latest kept epoch at or before it.
  const Schedule spread = schedule == Schedule::adaptive ? Schedule::linear : schedule;
  for (int64_t e : frame_epochs(losses.count(), std::max<int64_t>(2, count), spread)) {
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

}  // namespace fitreel
