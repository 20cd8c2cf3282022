#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace fitreel {

/// Points to fit: float32 tensors of shape (n, 1) on the CPU; the test part may be empty (n = 0).
struct Dataset {
  torch::Tensor x_train, y_train;  ///< what the model is trained on
  torch::Tensor x_test, y_test;    ///< held out; only evaluated after training
};

/// Slope of the line demo's true line y = kTrueSlope * x + kTrueIntercept.
inline constexpr double kTrueSlope = -0.5;
/// Intercept of the line demo's true line.
inline constexpr double kTrueIntercept = 2.0;
/// Share of the points the line demo holds out for testing (int(0.2 * N) of them).
inline constexpr double kTestFraction = 0.2;
/// Fewest points a demo accepts: the 80/20 split needs both parts.
inline constexpr int64_t kMinPoints = 5;

/// Splits (N) tensors x, y into a training part and a held-out part, drawing one
/// torch::randperm(N) from the CPU generator: the first int(0.2 N) indices of the permutation
/// (in permutation order) are the test part, the rest (ascending) the training part.
Dataset split_train_test(const torch::Tensor& x, const torch::Tensor& y);

/// The line demo's data, drawn as the parity contract says (seed the generator first):
/// x = 0..N-1, y = -0.5 x + 2 + (rand(N) * 10 - 5), then split_train_test(x, y).
Dataset make_noisy_line(int64_t points);

/// The net demo's data: x = y = 0..N-1 as (N, 1), all of it for training. Draws nothing.
Dataset make_identity(int64_t points);

/// A tensor's values, flattened, as doubles on the host (e.g. for fitreel::render's points).
std::vector<double> values_of(const torch::Tensor& tensor);

}  // namespace fitreel
