#include "film_summary.hpp"

#include <fitreel/device.hpp>
#include <fitreel/evaluate.hpp>
#include <fitreel/reel/film.hpp>
#include <fitreel/version.hpp>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <cmath>

namespace fitreel::detail {

namespace {

using Json = nlohmann::ordered_json;

Json finite_or_null(double value) { return std::isfinite(value) ? Json(value) : Json(nullptr); }

Json params_json(const std::vector<std::vector<float>>& params) {
  Json list = Json::array();
  for (const auto& tensor : params) {
    Json values = Json::array();
    for (float v : tensor) {
      values.push_back(finite_or_null(v));
    }
    list.push_back(values);
  }
  return list;
}

Json path_or_null(const std::filesystem::path& path) {
  return path.empty() ? Json(nullptr) : Json(path.string());
}

}  // namespace

std::string film_summary_json(const ModelRef& model, const Dataset& data,
                              const TrainOptions& options, const TrainResult& result,
                              const Film& film, const std::vector<std::string>& param_names,
                              const std::filesystem::path& params_file) {
  Json loss_at_epoch = Json::object();
  for (int64_t e : LossHistory::landmark_epochs(result.losses.count())) {
    // The history keeps every landmark epoch (0, 1, 2, 10, ...) and the last one.
    loss_at_epoch[std::to_string(e)] = finite_or_null(result.losses.at(e).value_or(NAN));
  }
  Json test_loss_at_epoch = Json::object();  // at the frames' epochs
  for (const EpochLoss& point : result.test_losses) {
    test_loss_at_epoch[std::to_string(point.epoch)] = finite_or_null(point.loss);
  }
  const bool has_test = data.holds_out();
  const FilmFiles& files = film.files();
  const Json json = {
      {"fitreel_version", kVersion},
      {"torch_version", TORCH_VERSION},
      {"points", {{"train", data.x_train.size(0)}, {"test", has_test ? data.x_test.size(0) : 0}}},
      {"epochs", options.epochs},
      {"epochs_run", result.epochs_run},
      {"lr", options.lr},
      {"optimizer", std::string(optimizer_name(options.optimizer))},
      {"device", device_name(options.device)},
      {"gradients", result.used_analytic_gradients ? "analytic" : "autograd"},
      {"kernels", result.used_fused_kernels ? "fused" : "exact"},
      {"cuda_graph", result.used_cuda_graph},
      {"param_names", param_names},
      // A model past kMostInlineParameters keeps its final weights in params_file instead.
      {"initial_params", params_file.empty() ? params_json(result.initial_params) : Json(nullptr)},
      {"final_params", params_file.empty() ? params_json(result.final_params) : Json(nullptr)},
      {"params_file", path_or_null(params_file)},
      {"loss_at_epoch", loss_at_epoch},
      {"test_loss_at_epoch", test_loss_at_epoch},
      {"final_loss", finite_or_null(result.losses.count() > 0 ? result.losses.last() : NAN)},
      {"test_mse", has_test ? finite_or_null(mse(model, data.x_test, data.y_test)) : Json(nullptr)},
      {"train_seconds", result.seconds},
      {"interrupted", result.interrupted},
      {"diverged_at_epoch",
       result.diverged_at_epoch ? Json(*result.diverged_at_epoch) : Json(nullptr)},
      {"video", path_or_null(files.video)},
      {"codec", film.codec().empty() ? Json(nullptr) : Json(film.codec())},
      {"frames", film.frames()},
      {"still", path_or_null(files.still)},
      {"loss_csv", path_or_null(files.loss_csv)},
      {"test_loss_csv",
       result.test_losses.empty() ? Json(nullptr) : path_or_null(files.test_loss_csv)},
  };
  // Paths are bytes on Linux: an invalid UTF-8 byte is written as U+FFFD, not a failure.
  return json.dump(1, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace fitreel::detail
