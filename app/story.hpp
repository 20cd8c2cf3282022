#pragma once

// The seed notebook's narrative, told on stderr as the demos run.

#include "setup.hpp"

#include <fitreel/data.hpp>
#include <fitreel/evaluate.hpp>
#include <fitreel/trainer.hpp>

#include <torch/nn/modules/container/sequential.h>

#include <cstdint>
#include <optional>
#include <string>

namespace fitreel::app {

/// "y = -0.4742x + 0.1653", "y = 3.0000x - 1.0000".
std::string line_equation(double slope, double intercept);

/// The data (`description`, e.g. "100 points on ...") and how it was split.
void tell_data(const std::string& demo, const std::string& description, const Dataset& data,
               uint64_t seed);
/// The model as LibTorch prints it (the line demo's: its Linear, as the seed prints it), and its
/// starting parameters (random, or `loaded_from`).
void tell_model(bool line_demo, torch::nn::Sequential& model,
                const std::optional<std::string>& loaded_from);
/// The seed's "tensors are tricky": the real LibTorch error on a 1-D input, then the reshape.
void tell_shape_lesson(torch::nn::Sequential& model, const Dataset& data);
/// What the line demo learned next to the truth (when known) and the least-squares optimum,
/// and why they differ.
void tell_line_result(const TrainResult& result, const Line& optimum, const DemoSetup& setup,
                      double test_mse);
/// What the net demo learned.
void tell_net_result(const TrainResult& result);

}  // namespace fitreel::app
