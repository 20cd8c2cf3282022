#pragma once

// How the seed's two demos are filmed, for a program that films them as `fitreel line` and
// `fitreel net` do (the CLI starts from these too).

#include <fitreel/reel/film.hpp>

#include <torch/nn/modules/container/sequential.h>

namespace fitreel::demos {

/// The line demo's look: title "line demo", the true line y = -0.5x + 2 ("true line y = -0.5x +
/// 2"), parameters "slope w" and "intercept b" (frames: the adaptive default).
FilmOptions line_look();

/// The net demo's look for `model` (a make_net() net): title "net demo", the target y = x,
/// parameters "fc1 weight", "fc1 bias", ... one pair per Linear layer, and 8 hidden units drawn
/// behind the model (frames: the adaptive default).
FilmOptions net_look(const torch::nn::Sequential& model);

}  // namespace fitreel::demos
