#pragma once

// summary.json, as the interface contract lists it.

#include <fitreel/loss_history.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace fitreel::app {

/// Everything summary.json reports about one demo run.
struct Summary {
  std::string demo;
  uint64_t seed = 0;
  int64_t points = 0;
  int64_t epochs = 0;      ///< requested
  int64_t epochs_run = 0;  ///< completed
  double lr = 0.0;
  std::string device;  ///< "cpu", "cuda:0"
  std::string model;   ///< e.g. "1-2-1 sigmoid"
  std::string optimizer;
  std::string gradients;  ///< "analytic" or "autograd"
  std::string kernels;    ///< "fused" or "exact"
  std::string loss = "mse";
  int64_t batch_size = 0;  ///< 0 = the full batch
  std::string lr_schedule = "constant";
  int64_t resumed_at_epoch = 0;  ///< --load-model's epochs done (0: a fresh start)
  bool cuda_graph = false;
  std::vector<std::vector<float>> initial_params, final_params;  ///< empty when params_file
  int64_t parameters = 0;                                        ///< values in all tensors
  /// A model with more than kMostInlineParameters values: its final weights are in this
  /// checkpoint instead of the summary.
  std::optional<std::string> params_file;
  std::vector<EpochLoss> test_losses;  ///< held-out MSE at the frames' epochs (line only)
  std::optional<double> test_mse;      ///< line only
  std::optional<std::array<double, 2>> least_squares;  ///< [w, b], line only
  double train_seconds = 0.0;
  bool interrupted = false;
  std::optional<int64_t> diverged_at_epoch;
  std::optional<std::string> video;                      ///< the file written, or null
  std::optional<std::string> data;                       ///< --data, or null (the seed's)
  std::optional<std::string> loaded_model, saved_model;  ///< --load-model / --save-model
  int64_t frames = 0;
  std::string fitreel_version, torch_version, command;
};

/// summary.json's text. Non-finite losses become null (JSON has no inf or NaN).
std::string summary_json(const Summary& summary, const LossHistory& losses);

}  // namespace fitreel::app
