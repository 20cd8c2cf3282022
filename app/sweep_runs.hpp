#pragma once

// A sweep's models: one per (seed, learning rate), each drawn as its single run would be, and
// the library options that train them together.

#include "options.hpp"
#include "setup.hpp"

#include <fitreel/batched.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace fitreel::app {

/// One model of a sweep.
struct SweepRun {
  uint64_t seed = 0;
  double lr = 0.0;
  DemoSetup setup;  ///< its data (line: its own per seed) and settings
};

/// A sweep's models as train_batched() takes them.
struct SweepPlan {
  std::vector<SweepRun> runs;                 ///< seeds outer, rates inner
  std::vector<torch::nn::Sequential> models;  ///< one per run, untrained
  std::vector<ModelRef> model_refs() const;
  std::vector<Dataset> datasets() const;
};

/// Draws every (seed, rate) model and its data as its single run would, untrained.
SweepPlan plan_sweep(Demo demo, const RunOptions& options, const XyPoints* file);

/// How the command line trains the planned models: one rate each, the fused kernels unless
/// --kernels exact or --gradients autograd ask for one model at a time.
BatchedOptions batched_options_for(const SweepPlan& plan, const RunOptions& options);

/// "seed 3, lr 0.1", naming only what the sweep varies ("lr 0.1" for rates alone).
std::string run_label(const SweepRun& run, const RunOptions& options);

}  // namespace fitreel::app
