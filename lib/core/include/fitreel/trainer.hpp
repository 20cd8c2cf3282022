#pragma once

#include <fitreel/data.hpp>
#include <fitreel/loss_history.hpp>
#include <fitreel/snapshot.hpp>

#include <torch/types.h>
#include <fitreel/model_ref.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

namespace fitreel {

/// The optimizer that updates the parameters (the seed uses Adagrad, though its comment says SGD).
enum class OptimizerKind { adagrad, sgd, adam };

/// "adagrad", "sgd" or "adam".
std::string_view optimizer_name(OptimizerKind kind);
/// The optimizer called `name`, or nothing.
std::optional<OptimizerKind> optimizer_from_name(std::string_view name);

/// How the gradients of each step are computed. Both give the same numbers.
enum class Gradients {
  automatic,  ///< hand-derived when the model is a Linear/activation stack, else autograd
  autograd,   ///< loss.backward(): the textbook loop
  analytic,   ///< the chain rule written out (throws if the model has other layers)
};

/// What to train and how.
struct TrainOptions {
  int64_t epochs = 1;  ///< full-batch steps to run (>= 1)
  double lr = 0.01;    ///< learning rate (> 0, finite)
  OptimizerKind optimizer = OptimizerKind::adagrad;
  torch::Device device = torch::kCPU;  ///< where model and data live while training
  std::vector<int64_t>
      snapshot_epochs{};    ///< ascending epochs that get a Snapshot (and a test loss)
  torch::Tensor curve_x{};  ///< (M, 1) inputs for Snapshot::curve; empty = none
  int64_t unit_curves =
      0;  ///< each Snapshot carries this many hidden units' curves (see UnitCurves)
  Gradients gradients = Gradients::automatic;
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
  /// Held-out MSE (Dataset::x_test, y_test) at each snapshot epoch, before its step; empty
  /// when nothing is held out. Measured only there, so it costs nothing per epoch.
  std::vector<EpochLoss> test_losses{};
};

/// The checks train() makes before its first epoch, for a caller that wants to fail early:
/// x_train and y_train shaped (N, 1), float32, the same number of rows (at least 1), finite;
/// curve_x shaped (M, 1); the model's parameters float32; the device usable here; epochs >= 1;
/// lr finite and > 0; snapshot_epochs ascending. Throws InputError (ShapeError, DeviceError)
/// naming what is wrong, the values and the fix.
void check_training_inputs(const ModelRef& model, const Dataset& data, const TrainOptions& options);

/// Trains `model` (any module: see ModelRef; the caller's own is trained) on data.x_train/y_train
/// with full-batch MSE loss: each epoch zeroes the gradients, runs forward, computes the loss,
/// backpropagates and steps the optimizer. The loss recorded for epoch e is the one computed in
/// epoch e, before its step (as the Python seed). The model is moved to options.device and stays
/// there. Stops at the first non-finite loss (diverged_at_epoch) or when callbacks.should_stop()
/// says so (interrupted). Throws what check_training_inputs() throws, and fitreel::Error with
/// LibTorch's own one-line reason when the model's forward fails (layers that do not fit).
TrainResult train(const ModelRef& model, const Dataset& data, const TrainOptions& options,
                  const TrainCallbacks& callbacks = {});

}  // namespace fitreel
