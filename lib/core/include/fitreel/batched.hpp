#pragma once

// Many small models of one architecture trained at once: their parameters stacked into one set
// of tensors, forward and hand-derived backward (on the CPU one fused vectorized loop per model,
// on CUDA ATen's batched kernels), and the optimizer update for all of them. Each model follows the
// numbers its own train() run would, up to the order in which the batched kernels sum (see
// DESIGN.md's parity notes).

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
  /// On the CPU, one fused, vectorized loop per model over LibTorch's threads (fastest);
  /// false: ATen's batched kernels, as on CUDA. Both meet the same contract.
  bool fused_cpu_kernels = true;
};

/// What the caller hears while a batch trains. Every member may be left empty.
struct BatchedCallbacks {
  /// At snapshot epochs, for each model still running (index in the order given), and once at
  /// the end for a model whose run ended early (diverged or interrupted).
  std::function<void(int64_t model, const Snapshot&)> on_snapshot{};
  std::function<bool()> should_stop{};  ///< polled after every epoch
};

/// How a batch went.
struct BatchedResult {
  /// One per model, in the order given, as train() would report it; `seconds` is the batch's
  /// wall time divided by the number of models, used_analytic_gradients is true.
  std::vector<TrainResult> runs{};
  int64_t epochs_run = 0;    ///< epochs the batch ran (its longest run)
  bool interrupted = false;  ///< should_stop() ended it early
  double seconds = 0.0;      ///< wall time of the whole batch's training loop
};

/// Whether train_batched() can train `model`: a Sequential of Linear layers (with bias) and
/// sigmoid/tanh/relu, taking one input and giving one output, with float32 parameters.
bool supports_batched_training(const ModelRef& model);

/// Trains every model in `models` at once, model k on data[k] (or all on data[0] when `data`
/// holds one Dataset), with full-batch MSE and options.lrs[k] (or lrs[0] for all). Each model
/// starts from its own parameters and ends with the trained ones copied back into it (moved to
/// options.device, as train() does). A model whose loss turns non-finite is marked
/// (diverged_at_epoch), keeps the parameters of that epoch's step and trains no further; the
/// others go on. Throws InputError (one line) for models it cannot batch (see
/// supports_batched_training), models of different shapes, the same module twice, datasets of
/// different sizes, or options train() would refuse; fitreel::Error for a LibTorch failure.
BatchedResult train_batched(const std::vector<ModelRef>& models, const std::vector<Dataset>& data,
                            const BatchedOptions& options, const BatchedCallbacks& callbacks = {});

}  // namespace fitreel
