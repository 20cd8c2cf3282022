#pragma once

// How the demos look: the film options every frame and still of a demo shares.

#include "options.hpp"
#include "setup.hpp"

#include <fitreel/reel/film.hpp>

#include <torch/nn/modules/container/sequential.h>

namespace fitreel::app {

/// How a demo is filmed as the command line asks: the library's look of the demo
/// (demos::line_look, net_look), with the truth given or none for --data, and the frames,
/// schedule, frame size, encoding, window and units asked for.
FilmOptions film_options_for(const DemoSetup& setup, const RunOptions& options,
                             const torch::nn::Sequential& model);

}  // namespace fitreel::app
