#pragma once

// Internal: the ways one training epoch can be computed. Not installed.

#include <fitreel/trainer.hpp>

#include <torch/torch.h>

#include <memory>
#include <vector>

namespace fitreel::detail {

/// One full-batch epoch: zero the gradients, forward, MSE loss, gradients, optimizer step.
class TrainStep {
 public:
  virtual ~TrainStep() = default;
  /// Runs one epoch and returns its loss (a 0-dim tensor on the training device, computed
  /// before the step). The tensor may be overwritten by the next call.
  virtual torch::Tensor run() = 0;
};

/// What a step trains: the model (already on the training device), the optimizer to build
/// over its parameters, and the full batch (on the same device).
struct StepInputs {
  ModelRef model;
  OptimizerKind optimizer = OptimizerKind::adagrad;
  double lr = 0.01;
  torch::Tensor x, y;
};

/// The optimizer `kind` over `params` with learning rate `lr` and Python's other defaults.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(OptimizerKind kind,
                                                        std::vector<torch::Tensor> params,
                                                        double lr);

/// The textbook loop: loss.backward() through autograd.
std::unique_ptr<TrainStep> make_autograd_step(const StepInputs& inputs);

/// Whether `model` is a Sequential whose every layer is a Linear or an activation the analytic
/// step knows.
bool supports_analytic_gradients(const ModelRef& model);

/// The same epoch with the chain rule written out, skipping autograd's bookkeeping (which
/// costs more than the arithmetic for models this small). Same numbers as autograd.
/// While the step lives, the model's parameters are views of one flat tensor (see the source);
/// they get storage of their own back when it is destroyed.
std::unique_ptr<TrainStep> make_analytic_step(const StepInputs& inputs);

/// While alive, makes a fresh stream current on a CUDA `device` (graph capture cannot use the
/// default stream), after the default stream's work is done; waits for it on the way out.
/// Does nothing for the CPU or in a CPU-only build.
class SideStreamScope {
 public:
  explicit SideStreamScope(const torch::Device& device);
  ~SideStreamScope();
  SideStreamScope(const SideStreamScope&) = delete;
  SideStreamScope& operator=(const SideStreamScope&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Whether this build can capture CUDA graphs (a CUDA LibTorch).
bool cuda_graphs_compiled();

/// Runs `eager` a few times, then captures one call in a CUDA graph and replays it: one launch
/// per epoch instead of dozens. Valid only when a step's host-side values do not change between
/// epochs (Adagrad without lr decay, plain SGD); the caller checks. Needs a CUDA device and a
/// SideStreamScope alive around every call.
std::unique_ptr<TrainStep> make_cuda_graph_step(std::unique_ptr<TrainStep> eager);

}  // namespace fitreel::detail
