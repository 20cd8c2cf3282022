#pragma once

// What a demo trains and on what, from the command line: shared by single runs and sweeps.

#include "options.hpp"

#include <fitreel/csv.hpp>
#include <fitreel/data.hpp>
#include <fitreel/model.hpp>
#include <fitreel/render/fit_plot.hpp>
#include <fitreel/schedule.hpp>
#include <fitreel/trainer.hpp>

#include <memory>
#include <optional>
#include <string>

namespace fitreel::app {

/// A demo's settings with the defaults filled in, and its data.
struct DemoSetup {
  std::string demo;  ///< "line" or "net"
  bool line = true;
  int64_t epochs = 0;
  double lr = 0.0;
  Schedule schedule = Schedule::adaptive;
  torch::Device device = torch::kCPU;
  OptimizerKind optimizer = OptimizerKind::adagrad;
  NetSpec net;               ///< the net demo's layers
  std::string architecture;  ///< "Linear(1, 1)" or e.g. "1-2-1 sigmoid"
  Dataset data;
  std::optional<render::StraightLine> truth;  ///< the demo's, or --truth's
  std::string truth_label;                    ///< --truth's ("given line y = ..."), else empty
};

/// Reads --data (once, before any seeding); null when the demo draws its own data.
std::shared_ptr<const XyPoints> read_data_file(const RunOptions& options);

/// Seeds LibTorch's generator and draws (or splits) the data, in the parity contract's order.
/// Make the model with make_model() right after: its draws come next.
DemoSetup make_setup(Demo demo, const RunOptions& options, const XyPoints* file);

/// The demo's model, drawn from the generator now.
torch::nn::Sequential make_model(const DemoSetup& setup);

/// How to train the demo as the command line asks (epochs, rate, optimizer, device,
/// gradients, CUDA graphs); the caller adds the curve and the snapshot epochs it wants.
TrainOptions train_options_for(const DemoSetup& setup, const RunOptions& options);

/// A single-line description of the data for the story ("100 points ..." or "data.csv").
std::string describe_data(const DemoSetup& setup, const RunOptions& options);

}  // namespace fitreel::app
