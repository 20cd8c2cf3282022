#include "results.hpp"

#include "json_text.hpp"

#include <nlohmann/json.hpp>

#include <cmath>

namespace fitreel::app {

namespace {

nlohmann::ordered_json finite_or_null(double value) {
  return std::isfinite(value) ? nlohmann::ordered_json(value) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json params_json(const std::vector<std::vector<float>>& params) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& tensor : params) {
    nlohmann::ordered_json values = nlohmann::ordered_json::array();
    for (float v : tensor) {
      values.push_back(finite_or_null(v));
    }
    list.push_back(values);
  }
  return list;
}

}  // namespace

std::string summary_json(const Summary& s, const LossHistory& losses) {
  nlohmann::ordered_json loss_at_epoch = nlohmann::ordered_json::object();
  for (int64_t e : LossHistory::landmark_epochs(losses.count())) {
    // The history keeps every landmark epoch (0, 1, 2, 10, ...) and the last one.
    loss_at_epoch[std::to_string(e)] = finite_or_null(losses.at(e).value_or(NAN));
  }
  nlohmann::ordered_json test_loss_at_epoch = nlohmann::ordered_json::object();
  for (const EpochLoss& point : s.test_losses) {
    test_loss_at_epoch[std::to_string(point.epoch)] = finite_or_null(point.loss);
  }
  nlohmann::ordered_json json = {
      {"demo", s.demo},
      {"seed", s.seed},
      {"points", s.points},
      {"epochs", s.epochs},
      {"epochs_run", s.epochs_run},
      {"lr", s.lr},
      {"device", s.device},
      {"model", s.model},
      {"optimizer", s.optimizer},
      {"gradients", s.gradients},
      {"kernels", s.kernels},
      {"loss", s.loss},
      {"batch_size", s.batch_size},
      {"lr_schedule", s.lr_schedule},
      {"resumed_at_epoch", s.resumed_at_epoch},
      {"cuda_graph", s.cuda_graph},
      {"parameters", s.parameters},
      {"initial_params",
       s.params_file ? nlohmann::ordered_json(nullptr) : params_json(s.initial_params)},
      {"final_params",
       s.params_file ? nlohmann::ordered_json(nullptr) : params_json(s.final_params)},
      {"params_file",
       s.params_file ? nlohmann::ordered_json(*s.params_file) : nlohmann::ordered_json(nullptr)},
      {"loss_at_epoch", loss_at_epoch},
      {"test_loss_at_epoch", test_loss_at_epoch},
      {"test_mse", s.test_mse ? finite_or_null(*s.test_mse) : nlohmann::ordered_json(nullptr)},
      {"least_squares", s.least_squares ? nlohmann::ordered_json(*s.least_squares)
                                        : nlohmann::ordered_json(nullptr)},
      {"train_seconds", s.train_seconds},
      {"interrupted", s.interrupted},
      {"diverged", s.diverged_at_epoch.has_value()},
      {"diverged_at_epoch", s.diverged_at_epoch ? nlohmann::ordered_json(*s.diverged_at_epoch)
                                                : nlohmann::ordered_json(nullptr)},
      {"video", s.video ? nlohmann::ordered_json(*s.video) : nlohmann::ordered_json(nullptr)},
      {"frames", s.frames},
      {"data", s.data ? nlohmann::ordered_json(*s.data) : nlohmann::ordered_json(nullptr)},
      {"loaded_model",
       s.loaded_model ? nlohmann::ordered_json(*s.loaded_model) : nlohmann::ordered_json(nullptr)},
      {"saved_model",
       s.saved_model ? nlohmann::ordered_json(*s.saved_model) : nlohmann::ordered_json(nullptr)},
      {"fitreel_version", s.fitreel_version},
      {"torch_version", s.torch_version},
      {"command", s.command},
  };
  return json_text(json);
}

}  // namespace fitreel::app
