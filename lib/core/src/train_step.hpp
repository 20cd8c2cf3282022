#pragma once

// Internal: the ways one training step can be computed, and the optimizer they step. Not
// installed.

#include <fitreel/trainer.hpp>

#include <torch/torch.h>

#include <memory>
#include <vector>

namespace fitreel::detail {

/// The optimizer a step builds, as TrainOptions asks for it.
struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::adagrad;
  double lr = 0.01;
  OptimizerSettings settings{};
  OptimizerFactory factory{};  ///< the user's own, instead of `kind`
};

/// Where one model parameter lives among the optimizer's tensors: the `index`-th one, from
/// element `offset`, shaped `shape` (the analytic step optimizes one flat tensor of them all).
struct ParamSlot {
  std::size_t index = 0;
  int64_t offset = 0;
  std::vector<int64_t> shape{};
};

/// The optimizer of a step, with what fitreel does to it between steps: set the epoch's rate,
/// read and restore its state in PyTorch's layout.
class StepOptimizer {
 public:
  StepOptimizer(const OptimizerConfig& config, std::vector<torch::Tensor> optimized,
                std::vector<ParamSlot> slots);
  void step() { optimizer_->step(); }
  void set_lr(double lr);
  double lr() const;
  /// What the fused CPU kernels update in place of step(), for a named optimizer over one
  /// tensor: its state tensors (Adagrad: sum; Adam: exp_avg, exp_avg_sq; SGD: none), made as
  /// torch::optim makes them at a first step when missing, and its step count, advanced by one.
  /// The state stays the optimizer's own, so state() and load() see what the kernels did.
  struct InPlaceStep {
    torch::Tensor first, second;
    int64_t step = 0;  ///< the step being taken, counted from 1
  };
  InPlaceStep begin_in_place_step();
  /// Its state per model parameter; empty for a user's own optimizer (not fitreel's to read).
  OptimizerState state() const;
  /// Restores a state saved by state() (or by PyTorch's optimizer.state_dict()). Throws
  /// InputError (one line) when it is another optimizer's or its shapes differ.
  void load(const OptimizerState& state);

 private:
  OptimizerConfig config_;
  std::vector<torch::Tensor> optimized_;
  std::vector<ParamSlot> slots_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  /// The state begin_in_place_step() steps, found once (its key, a string in LibTorch 1.13,
  /// costs an allocation per lookup); load() replaces the state and forgets it.
  torch::optim::OptimizerParamState* in_place_state_ = nullptr;
};

/// The parameters of a model as views of one flat tensor, with their gradients as views of
/// another, while it lives; each parameter gets storage of its own back when it is destroyed.
/// Adagrad, SGD and Adam update each number on its own, so one flat tensor steps as the
/// parameters one by one would, with a few kernels per step instead of a few per parameter.
class FlatParameters {
 public:
  explicit FlatParameters(std::vector<torch::Tensor> params);
  ~FlatParameters();
  FlatParameters(const FlatParameters&) = delete;
  FlatParameters& operator=(const FlatParameters&) = delete;

  const torch::Tensor& values() const { return values_; }
  const torch::Tensor& grad_view(size_t i) const { return grad_views_[i]; }
  /// Where each parameter lives in values(), for the optimizer's state.
  std::vector<ParamSlot> slots() const;

 private:
  std::vector<torch::Tensor> params_;
  torch::Tensor values_, grads_;
  std::vector<torch::Tensor> grad_views_;
};

/// One training step: zero the gradients, forward, loss, gradients, optimizer step.
class TrainStep {
 public:
  virtual ~TrainStep() = default;
  /// A step on the full batch (StepInputs::x, y). Returns its loss (a 0-dim tensor on the
  /// training device, computed before the step); the next call may overwrite it.
  virtual torch::Tensor run() = 0;
  /// A step on one mini-batch (rows of the same device and dtype).
  virtual torch::Tensor run(const torch::Tensor& x, const torch::Tensor& y) = 0;
  virtual StepOptimizer& optimizer() = 0;
};

/// What a step trains: the model (already on the training device), the optimizer to build over
/// its parameters, the loss, and the full batch (on the same device).
struct StepInputs {
  ModelRef model;
  OptimizerConfig optimizer{};
  Loss loss{};
  torch::Tensor x, y;
};

/// The loss `loss` of a prediction, averaged over the samples.
torch::Tensor loss_of(const Loss& loss, const torch::Tensor& prediction,
                      const torch::Tensor& target);

/// The textbook loop: loss.backward() through autograd. Any model, any loss, any optimizer.
std::unique_ptr<TrainStep> make_autograd_step(const StepInputs& inputs);

/// Whether `model` is a Sequential whose every layer is a Linear or an activation the analytic
/// step knows.
bool supports_analytic_gradients(const ModelRef& model);
/// Whether the analytic step covers this set-up: such a model, the MSE loss, a named optimizer.
bool supports_analytic_step(const StepInputs& inputs);

/// The same step with the chain rule written out, skipping autograd's bookkeeping (which
/// costs more than the arithmetic for models this small). Same numbers as autograd.
/// While the step lives, the model's parameters are views of one flat tensor (see the source);
/// they get storage of their own back when it is destroyed.
std::unique_ptr<TrainStep> make_analytic_step(const StepInputs& inputs);

/// Whether the fused CPU kernels (batched/cpu/kernels.inc, as a batch of one) cover this set-up:
/// on the CPU, a model train_batched() covers, the MSE loss, and a named optimizer with the
/// settings the kernels know (torch::optim's defaults, any Adagrad initial accumulator).
bool supports_fused_step(const StepInputs& inputs);

/// The step of a batch of one through the fused CPU kernels: the numbers a sweep gives this
/// model, bit for bit (train_batched() runs the same kernels and update scalars), within the
/// batch contract of the exact steps. The parameters are views of one flat tensor while it lives.
std::unique_ptr<TrainStep> make_fused_step(const StepInputs& inputs);

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

/// Runs `eager` a few times, then captures one full-batch call in a CUDA graph and replays it:
/// one launch per epoch instead of dozens. Valid only when a step's host-side values do not
/// change between epochs (Adagrad without lr decay, plain SGD, a constant rate); the caller
/// checks. Needs a CUDA device and a SideStreamScope alive around every call.
std::unique_ptr<TrainStep> make_cuda_graph_step(std::unique_ptr<TrainStep> eager);

}  // namespace fitreel::detail
