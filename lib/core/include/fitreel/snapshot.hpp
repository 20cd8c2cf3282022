#pragma once

#include <cstdint>
#include <vector>

// Plain data handed from training to whoever watches it (renderer, logger): no LibTorch types,
// so the receiving side need not include LibTorch.
namespace fitreel {

/// The model as it was at the start of one epoch, with the loss that epoch computed.
struct Snapshot {
  int64_t epoch = 0;                         ///< 0-based epoch
  float loss = 0.0F;                         ///< training MSE of this epoch, before its step
  std::vector<std::vector<float>> params{};  ///< parameters, flattened, in parameters() order
  std::vector<float> curve{};                ///< model outputs at TrainOptions::curve_x
  bool final = false;                        ///< the last snapshot of the run
};

/// A progress report, sent a few times a second while training runs.
struct Progress {
  int64_t epoch = 0;           ///< epochs completed so far
  int64_t epochs = 0;          ///< epochs requested
  float loss = 0.0F;           ///< loss of the latest completed epoch
  double elapsed_seconds = 0;  ///< time in the training loop so far
};

}  // namespace fitreel
