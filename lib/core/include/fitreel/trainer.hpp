#pragma once

#include <fitreel/data.hpp>
#include <fitreel/loss_history.hpp>
#include <fitreel/snapshot.hpp>
#include <fitreel/training.hpp>

#include <torch/types.h>
#include <fitreel/model_ref.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fitreel {

/// What to train and how. The defaults are the seed's full-batch MSE loop with Adagrad.
struct TrainOptions {
  int64_t epochs = 1;  ///< epochs to run (>= 1)
  double lr = 0.01;    ///< learning rate (> 0, within float32's range)
  OptimizerKind optimizer = OptimizerKind::adagrad;
  OptimizerSettings optimizer_settings{};  ///< momentum, weight decay, betas, ...
  /// Your own optimizer instead of the named one (trained through autograd).
  OptimizerFactory make_optimizer{};
  Loss loss{};               ///< mse (default), l1, huber, or your own
  LrSchedule lr_schedule{};  ///< constant (default), step, exponential, cosine, or your own
  /// Samples per step: 0 (default) = the full batch, one step per epoch. Otherwise each epoch
  /// reshuffles the training points and steps once per batch of this many (the last one
  /// smaller), as `DataLoader(TensorDataset(x, y), batch_size, shuffle=True)` does: the same
  /// draws from the CPU generator in the same order, so a seeded run matches Python's. The
  /// epoch's loss is the mean of its batches' losses.
  int64_t batch_size = 0;
  /// Go on from a TrainResult::state (or a checkpoint's): the optimizer's state, the schedule's
  /// epoch and the generator's state are restored first. Empty: a fresh start.
  std::optional<TrainingState> resume{};
  torch::Device device = torch::kCPU;  ///< where model and data live while training
  std::vector<int64_t>
      snapshot_epochs{};    ///< ascending epochs that get a Snapshot (and a test loss)
  torch::Tensor curve_x{};  ///< (M, 1) inputs for Snapshot::curve; empty = none
  int64_t unit_curves =
      0;  ///< each Snapshot carries this many hidden units' curves (see UnitCurves)
  Gradients gradients = Gradients::automatic;  ///< autograd or analytic: the exact path
  TrainPath path = TrainPath::fastest;
  bool cuda_graphs = true;               ///< on CUDA, replay one captured step (Adagrad/SGD)
  int64_t divergence_check_every = 256;  ///< on CUDA, epochs between loss checks (CPU: each)
};

/// What the caller hears while training runs. Every member may be left empty.
struct TrainCallbacks {
  std::function<void(const Snapshot&)> on_snapshot{};  ///< at snapshot epochs, and once at the end
  std::function<void(const Progress&)> on_progress{};  ///< at the start, then a few times a second
  std::function<bool()> should_stop{};                 ///< polled after every epoch
  /// Every epoch's loss, in order, as it is known (on CUDA in batches): for a caller that
  /// streams them (TrainResult keeps only a bounded LossHistory).
  std::function<void(int64_t epoch, float loss)> on_loss{};
  /// LibTorch's warnings while training, each distinct one once (default: stderr, once).
  std::function<void(const std::string& warning)> on_warning{};
};

/// How a training run went.
struct TrainResult {
  LossHistory losses{};    ///< the losses, thinned to a fixed budget (TrainCallbacks::on_loss: all)
  int64_t epochs_run = 0;  ///< epochs completed
  bool interrupted = false;                          ///< should_stop() ended it early
  std::optional<int64_t> diverged_at_epoch{};        ///< first epoch with a non-finite loss
  double seconds = 0.0;                              ///< wall time of the training loop alone
  std::vector<std::vector<float>> initial_params{};  ///< flattened, parameters() order
  std::vector<std::vector<float>> final_params{};    ///< after the last step
  bool used_cuda_graph = false;                      ///< whether the step was replayed as a graph
  bool used_analytic_gradients = false;              ///< whether the chain rule was hand-derived
  bool used_fused_kernels = false;  ///< whether the fused CPU kernels ran (TrainPath::fastest)
  /// Held-out loss (Dataset::x_test, y_test; the training loss function, in eval mode) at each
  /// snapshot epoch, before its step; empty when nothing is held out. Measured only there, so
  /// it costs nothing per epoch.
  std::vector<EpochLoss> test_losses{};
  /// Where the run stands at its end, to go on later (TrainOptions::resume, save_checkpoint).
  TrainingState state{};
};

/// The checks train() makes before its first epoch, for a caller that wants to fail early:
/// x_train and y_train shaped (N, 1), float32, the same number of rows (at least 1), finite;
/// curve_x shaped (M, 1); the model's parameters float32; the device usable here; epochs >= 1;
/// lr finite and > 0; snapshot_epochs ascending. Throws InputError (ShapeError, DeviceError)
/// naming what is wrong, the values and the fix.
void check_training_inputs(const ModelRef& model, const Dataset& data, const TrainOptions& options);

/// Trains `model` (any module: see ModelRef; the caller's own is trained) on data.x_train/y_train
/// as a PyTorch loop does: each step zeroes the gradients, runs forward in train mode, computes
/// the loss, backpropagates and steps the optimizer; the schedule sets each epoch's rate. The
/// loss recorded for epoch e is the one computed in epoch e, before its step (as the Python
/// seed). Everything else (snapshots, test losses) is computed in eval mode without gradients,
/// and each module's own mode (train or eval) is put back when train() returns or throws. The
/// model is moved to options.device and stays there. Before epoch 0 the model's output is
/// checked to be one value per sample (N, 1): anything else is a ShapeError naming both
/// shapes. Stops at the first non-finite loss (diverged_at_epoch) or when
/// callbacks.should_stop() says so (interrupted). Throws what check_training_inputs() throws,
/// and fitreel::Error with LibTorch's own one-line reason when the model's forward fails.
TrainResult train(const ModelRef& model, const Dataset& data, const TrainOptions& options,
                  const TrainCallbacks& callbacks = {});

}  // namespace fitreel
