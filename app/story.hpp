#pragma once

// The seed notebook's narrative, told on stderr as the demos run.

#include <fitreel/data.hpp>
#include <fitreel/evaluate.hpp>
#include <fitreel/trainer.hpp>

#include <torch/nn/modules/container/sequential.h>

#include <cstdint>
#include <optional>
#include <string>

namespace fitreel::app {

/// The data: what was drawn and how it was split.
void tell_data(const std::string& demo, const Dataset& data, uint64_t seed);
/// The model as LibTorch prints it, and its starting parameters (random, or `loaded_from`).
void tell_model(const std::string& demo, torch::nn::Sequential& model,
                const std::optional<std::string>& loaded_from);
/// The seed's "tensors are tricky": the real LibTorch error on a 1-D input, then the reshape.
void tell_shape_lesson(torch::nn::Sequential& model, const Dataset& data);
/// What the line demo learned next to the truth and the least-squares optimum, and why.
void tell_line_result(const TrainResult& result, const Line& optimum, double lr, double test_mse,
                      int64_t test_points);
/// What the net demo learned.
void tell_net_result(const TrainResult& result);

}  // namespace fitreel::app
