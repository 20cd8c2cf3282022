#pragma once

// The seed notebook's two demos, as the parity contract draws them: the noisy line fitted by
// Linear(1, 1), and the 1-2-1 sigmoid net learning y = x. Seed the generator first
// (torch::manual_seed), then draw the data, then make the model: that order is the contract.

#include <fitreel/data.hpp>

#include <torch/nn/modules/container/sequential.h>

#include <cstdint>

namespace fitreel::demos {

/// Slope of the line demo's true line y = kTrueSlope * x + kTrueIntercept.
inline constexpr double kTrueSlope = -0.5;
/// Intercept of the line demo's true line.
inline constexpr double kTrueIntercept = 2.0;

/// The seed's settings for each demo (the CLI's defaults).
struct Defaults {
  int64_t points = 100;
  int64_t epochs = 0;
  double lr = 0.0;
};
/// Line: 100 points, 30000 epochs, Adagrad at lr 0.01.
inline constexpr Defaults kLine{100, 30000, 0.01};
/// Net: 100 points, 10000 epochs, Adagrad at lr 0.1.
inline constexpr Defaults kNet{100, 10000, 0.1};

/// The line demo's data: x = 0..N-1, y = -0.5 x + 2 + (rand(N) * 10 - 5), then
/// split_train_test(x, y). Throws InputError for fewer than kMinPoints points.
Dataset make_noisy_line(int64_t points);

/// The net demo's data: x = y = 0..N-1 as (N, 1), all of it for training. Draws nothing.
Dataset make_identity(int64_t points);

/// The line demo's model: Sequential(Linear(1, 1)). Draws its initial weight then bias from
/// the CPU generator, as Python's nn.Linear(1, 1) does.
torch::nn::Sequential make_line_model();

}  // namespace fitreel::demos
