#pragma once

#include <cstdint>
#include <limits>
#include <vector>

// Plain data handed from training to whoever watches it (renderer, logger): no LibTorch types,
// so the receiving side need not include LibTorch.
namespace fitreel {

/// What each unit of a net's last hidden layer adds to its output, along some x: with output
/// y = b + sum_i w_i h_i(x), unit i's curve is w_i h_i(x) (for the seed's 1-2-1 net,
/// w2_i sigmoid(w1_i x + b1_i)). The curves and the bias add up to the model's curve.
struct UnitCurves {
  std::vector<std::vector<float>> units{};  ///< [unit][point]: the first units of the layer
  float bias = 0.0F;                        ///< the output layer's bias b
  int64_t total = 0;  ///< units in the layer (more than units.size() when capped); 0 = none
};

/// The model as it was at the start of one epoch, with the loss that epoch computed.
struct Snapshot {
  int64_t epoch = 0;                         ///< 0-based epoch
  float loss = 0.0F;                         ///< training MSE of this epoch, before its step
  std::vector<std::vector<float>> params{};  ///< parameters, flattened, in parameters() order
  std::vector<float> curve{};                ///< model outputs at TrainOptions::curve_x
  bool final = false;                        ///< the last snapshot of the run
  /// The last hidden layer's units at TrainOptions::curve_x (TrainOptions::unit_curves of them).
  UnitCurves units{};
  /// Held-out MSE of the model this snapshot shows (Dataset::x_test); NaN when none is held out.
  float test_loss = std::numeric_limits<float>::quiet_NaN();
};

/// A progress report, sent a few times a second while training runs.
struct Progress {
  int64_t epoch = 0;           ///< epochs completed so far
  int64_t epochs = 0;          ///< epochs requested
  float loss = 0.0F;           ///< loss of the latest completed epoch
  double elapsed_seconds = 0;  ///< time in the training loop so far
  /// An adaptive Film's first pass, which measures where the fit moves: the same epochs come
  /// again, filmed (FilmOptions::schedule).
  bool measuring = false;
};

}  // namespace fitreel
