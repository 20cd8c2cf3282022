#pragma once

// Many small models trained through one call. Models of one architecture the batched kernels
// cover train at once: their parameters stacked into one set of tensors, forward and
// hand-derived backward (on the CPU one fused, vectorized loop per model; on CUDA ATen's
// batched kernels), and the optimizer update for all of them. Each follows the numbers its own
// train() run would, up to the order in which the batched kernels sum (the batch contract in the
// README's Performance section). Any other model (a user's own module) runs through train()
// itself, one after another, in the same call.

#include <fitreel/data.hpp>
#include <fitreel/model_ref.hpp>
#include <fitreel/snapshot.hpp>
#include <fitreel/trainer.hpp>

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace fitreel {

/// What to train and how: TrainOptions for a batch, with one learning rate per model.
struct BatchedOptions {
  int64_t epochs = 1;             ///< full-batch steps to run (>= 1)
  std::vector<double> lrs{0.01};  ///< one per model, or one for all (each > 0, finite)
  OptimizerKind optimizer = OptimizerKind::adagrad;
  torch::Device device = torch::kCPU;      ///< where the stacked parameters and data live
  std::vector<int64_t> snapshot_epochs{};  ///< ascending epochs that get a Snapshot per model
  torch::Tensor curve_x{};                 ///< (M, 1) inputs for Snapshot::curve; empty = none
  /// On the CPU, one fused, vectorized loop per model on `threads` threads (fastest); false:
  /// ATen's batched kernels, as on CUDA. Both meet the same contract.
  bool fused_cpu_kernels = true;
  /// On CUDA, replay one captured epoch (Adagrad/SGD) until a model diverges, as train() does.
  bool cuda_graphs = true;
  /// TrainPath::exact or Gradients::autograd: no batch; every model trains alone through
  /// train() with these settings, number for number with its Python run.
  TrainPath path = TrainPath::fastest;
  Gradients gradients = Gradients::automatic;
  /// Threads for the fused CPU kernels (>= 0): 0 = one per CPU this process may run on. A
  /// batch too small to share runs on fewer; the numbers do not depend on how many run.
  int threads = 0;
  /// The most memory one batch's models may take while they train, in bytes: models of one
  /// architecture that do not fit it together train in several batches, one after another (the
  /// numbers do not change). 0: half of what this process may still take (ulimit -v, the
  /// machine's available memory; host memory, also for CUDA), at most 1 GB.
  double batch_memory_bytes = 0.0;
};

/// What the caller hears while the models train. Every member may be left empty.
struct BatchedCallbacks {
  /// At snapshot epochs, for each model still running (index in the order given), and once at
  /// the end for a model whose run ended early (diverged, interrupted or never started).
  std::function<void(int64_t model, const Snapshot&)> on_snapshot{};
  /// Polled after every epoch of every run. Once it returns true, the run it polled ends there
  /// and no later run starts (each of those is reported interrupted after 0 epochs).
  std::function<bool()> should_stop{};
};

/// How the training went.
struct BatchedResult {
  /// One per model, in the order given, as train() would report it. A batched run's `seconds`
  /// is its batch's wall time divided by the batch's models; a run not started (should_stop)
  /// has epochs_run 0, interrupted, no losses, and final_params equal to initial_params.
  std::vector<TrainResult> runs{};
  std::vector<ModelRef> models{};  ///< the models trained, in the order of `runs`
  int64_t models_batched = 0;  ///< how many went through the batched kernels (the rest: train())
  int64_t epochs_run = 0;      ///< the longest run's epochs
  bool interrupted = false;    ///< should_stop() ended a run early or kept one from starting
  /// The memory ran out in a run (std::bad_alloc, or LibTorch's allocator): that run's batch and
  /// every run after it did not train (each a TrainResult{}: no epochs, losses or parameters);
  /// the runs before keep what they trained. The modules of the batch that ran out are left as
  /// they were then (moved to the device, perhaps partly trained; snapshots of it may have been
  /// delivered); the later ones are untouched.
  bool out_of_memory = false;
  int64_t batch_size = 0;  ///< the most models planned into one batch (0: none batched)
  double seconds = 0.0;    ///< wall time of all the training
};

/// Whether train_batched() can train `model`: a Sequential of Linear layers (with bias) and
/// sigmoid/tanh/relu, taking one input and giving one output, with float32 parameters.
bool supports_batched_training(const ModelRef& model);

/// Trains model k on data[k] (or every model on data[0] when `data` holds one Dataset) with
/// full-batch MSE and options.lrs[k] (or lrs[0] for all), each starting from its own parameters
/// and ending with the trained ones (moved to options.device, as train() does). Models with one
/// architecture supports_batched_training() accepts and datasets of one training size train
/// together (runs[k].used_analytic_gradients true), in batches as large as
/// options.batch_memory_bytes allows, even a batch of one; every other model (every model,
/// with path exact or gradients autograd) trains alone through train() with TrainOptions of
/// these options (its defaults otherwise), exactly as a train() call would. Runs start in the order
/// of each batch's first model. A model whose loss turns non-finite is marked (diverged_at_epoch),
/// keeps the parameters of that epoch's step and trains no further; the others go on. When the
/// memory runs out, the runs trained before are kept and the result says so
/// (BatchedResult::out_of_memory) instead of a throw. Throws InputError (one line), before anything
/// trains, for no models, the same module twice, counts of `data` or options.lrs that fit neither
/// rule, a bad rate, epochs < 1 or a negative memory budget, and what check_training_inputs()
/// refuses for a model ("model k: ..."); fitreel::Error for a LibTorch failure.
BatchedResult train_batched(const std::vector<ModelRef>& models, const std::vector<Dataset>& data,
                            const BatchedOptions& options, const BatchedCallbacks& callbacks = {});

/// Makes `count` models with make_model(0), make_model(1), ... in that order (seed inside it for
/// each model's draw), then trains them as above; result.models holds them. Throws InputError
/// for count < 1 or an empty make_model.
BatchedResult train_batched(const std::function<ModelRef(int64_t k)>& make_model, int64_t count,
                            const std::vector<Dataset>& data, const BatchedOptions& options,
                            const BatchedCallbacks& callbacks = {});

}  // namespace fitreel
