#pragma once

// The named choices of a training run, as plain enums with their names: no LibTorch, so a
// command line, a config reader or the fused kernels can hold them without it. training.hpp,
// model.hpp and trainer.hpp use them; include those for what the choices mean.

#include <optional>
#include <string_view>

namespace fitreel {

/// The optimizer that updates the parameters (the seed uses Adagrad, though its comment says SGD).
enum class OptimizerKind { adagrad, sgd, adam };
/// "adagrad", "sgd" or "adam".
std::string_view optimizer_name(OptimizerKind kind);
/// The optimizer called `name`, or nothing.
std::optional<OptimizerKind> optimizer_from_name(std::string_view name);

/// Element-wise activation between the hidden layers of a net.
enum class Activation { sigmoid, tanh, relu };
/// "sigmoid", "tanh" or "relu".
std::string_view activation_name(Activation activation);
/// The activation called `name`, or nothing when no activation has that name.
std::optional<Activation> activation_from_name(std::string_view name);

/// A named loss (Loss::Kind): torch.nn's MSELoss, L1Loss, HuberLoss.
enum class LossKind { mse, l1, huber };

/// A named learning-rate schedule (LrSchedule::Kind): none, or StepLR, ExponentialLR,
/// CosineAnnealingLR.
enum class LrScheduleKind { constant, step, exponential, cosine };

/// How the gradients of each step are computed. Both give the same numbers.
enum class Gradients {
  automatic,  ///< hand-derived when the model is a Linear/activation stack, else autograd
  autograd,   ///< loss.backward(): the textbook loop
  analytic,   ///< the chain rule written out (throws if the model has other layers)
};

/// Whose arithmetic trains a model that the fused CPU kernels cover.
enum class TrainPath {
  /// The fused CPU kernels (as train_batched() runs them) where they cover the set-up: on the
  /// CPU, a Sequential of Linear and sigmoid/tanh/relu layers, the MSE loss, full batch or
  /// mini-batches, any schedule, and Adagrad, SGD or Adam with torch::optim's default settings
  /// (any Adagrad initial accumulator). A sweep's model equals its run through them bit for bit;
  /// against the exact path they meet the batch contract (README, Performance). Else: exact.
  fastest,
  /// LibTorch's own kernels, as PyTorch runs the loop: number for number with Python.
  exact,
};

}  // namespace fitreel
