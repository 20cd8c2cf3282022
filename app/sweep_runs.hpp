#pragma once

// A sweep's models: one per (seed, learning rate), trained together in one batch where the
// batched trainer covers them, else one after another.

#include "options.hpp"
#include "setup.hpp"

#include <fitreel/snapshot.hpp>
#include <fitreel/trainer.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace fitreel::app {

/// One model of a sweep, and what its video panel needs of it.
struct SweepRun {
  uint64_t seed = 0;
  double lr = 0.0;
  DemoSetup setup;  ///< its data (line: its own per seed) and settings
  TrainResult result;
  bool trained = false;  ///< its batch ran (a signal or a lack of memory can stop a sweep first)
  std::vector<Snapshot> snapshots;  ///< at the frame epochs: epoch, loss and curve only
};

/// A sweep's models and how they were trained.
struct SweepTraining {
  std::vector<SweepRun> runs;                 ///< seeds outer, rates inner
  std::vector<torch::nn::Sequential> models;  ///< one per run, trained in place
  double seconds = 0.0;                       ///< wall time of all the training
  bool batched = false;        ///< in batches of the batched trainer (else one by one)
  int64_t batch_size = 0;      ///< models per batch (bounded so memory stays under its budget)
  bool out_of_memory = false;  ///< a batch ran out of memory: the runs after it are not trained
};

/// Draws every (seed, rate) model and its data as its single run would, untrained.
SweepTraining plan_sweep(Demo demo, const RunOptions& options, const XyPoints* file);

/// Trains the planned models; snapshots at `frame_at` (none when empty), curves at `curve_x`.
/// Stops early at a signal.
void train_sweep(SweepTraining& training, const RunOptions& options,
                 const std::vector<int64_t>& frame_at, const torch::Tensor& curve_x);

/// "seed 3, lr 0.1", naming only what the sweep varies ("lr 0.1" for rates alone).
std::string run_label(const SweepRun& run, const RunOptions& options);

/// How a run ended, in words: "final loss 0.0123", "diverged at epoch 12", "not trained
/// (interrupted)", ...
std::string run_outcome(const SweepRun& run, const SweepTraining& training);

/// The bytes a sweep holds per model of `setup`'s size while it trains (parameters, gradients,
/// optimizer state and copies, the data, activations, snapshots), and the budget all of a
/// batch's models may take here (at most 1 GB, less where the address space or the free
/// memory is smaller).
double bytes_per_model(const DemoSetup& setup, int64_t frames);
double batch_budget_bytes();

}  // namespace fitreel::app
