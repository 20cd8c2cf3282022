#pragma once

// How the demos look: the scene every frame of a demo shares.

#include "setup.hpp"

#include <fitreel/loss_history.hpp>
#include <fitreel/render/fit_plot.hpp>

#include <torch/nn/modules/container/sequential.h>

#include <vector>

namespace fitreel::app {

/// The scene of a demo: its data, its truth (if known), the curve points, parameter names.
render::FitScene demo_scene(const DemoSetup& setup, const torch::Tensor& curve_x,
                            torch::nn::Sequential& model);

/// `count` evenly spaced inputs, shape (count, 1), across the x range of all the data.
torch::Tensor curve_inputs(const Dataset& data, int64_t count = 200);

/// About `count` of the losses, spread as `schedule` spreads frames, for a loss chart.
std::vector<render::LossPoint> loss_points(const LossHistory& losses, Schedule schedule,
                                           int64_t count = 1000);

}  // namespace fitreel::app
