#pragma once

// How the demos look: the film options every frame and still of a demo shares.

#include "options.hpp"
#include "setup.hpp"

#include <fitreel/reel/film.hpp>

#include <torch/nn/modules/container/sequential.h>

namespace fitreel::app {

/// How a demo is filmed as the command line asks: its title, truth, parameter names ("slope w",
/// "fc1 weight"), frames and schedule, frame size, encoding and window.
FilmOptions film_options_for(const DemoSetup& setup, const RunOptions& options,
                             torch::nn::Sequential& model);

}  // namespace fitreel::app
