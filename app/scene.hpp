#pragma once

// How the demos look: the scene every frame of a demo shares.

#include <fitreel/data.hpp>
#include <fitreel/render/fit_plot.hpp>
#include <fitreel/schedule.hpp>

#include <torch/nn/modules/container/sequential.h>

#include <string>

namespace fitreel::app {

/// The scene of demo "line" or "net": its data, truth, curve points and parameter names.
render::FitScene demo_scene(const std::string& demo, const Dataset& data,
                            const torch::Tensor& curve_x, torch::nn::Sequential& model,
                            int64_t epochs, Schedule schedule);

/// `count` evenly spaced inputs, shape (count, 1), across the x range of all the data.
torch::Tensor curve_inputs(const Dataset& data, int64_t count = 200);

}  // namespace fitreel::app
