#pragma once

// Internal: the stacked parameters and the batched epoch behind train_batched(). Not installed.

#include "batched_cpu_epoch.hpp"

#include <fitreel/model_ref.hpp>
#include <fitreel/trainer.hpp>

#include <torch/types.h>
#include <torch/version.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fitreel::detail {

enum class BatchedLayerKind { linear, sigmoid, tanh, relu };

/// One layer of the shared architecture. A Linear's weight and bias are parameters
/// `weight_param` and `weight_param + 1` (parameters() order).
struct BatchedLayer {
  BatchedLayerKind kind = BatchedLayerKind::linear;
  int64_t in = 0, out = 0;  // linear only
  size_t weight_param = 0;  // linear only
  bool operator==(const BatchedLayer& other) const {
    return kind == other.kind && in == other.in && out == other.out;
  }
};

/// The architecture of a model train_batched() can train.
struct BatchedPlan {
  std::vector<BatchedLayer> layers;
  std::vector<std::vector<int64_t>> param_shapes;  // parameters() order
  /// "1-2-1 sigmoid"-like text for messages: widths, then the activations in order.
  std::string describe() const;
};

/// The plan of `model`, or the reason it cannot be batched (one line, no fix).
struct PlanOrReason {
  std::optional<BatchedPlan> plan;
  std::string reason;
};
PlanOrReason batched_plan_of(const ModelRef& model);

/// The plan's layers as the fused CPU kernels read them; offset_of(j) is where parameter j's
/// block starts in the flat parameter array.
std::vector<CpuLayer> cpu_layers_of(const BatchedPlan& plan,
                                    const std::function<int64_t(size_t param)>& offset_of);
CpuOptimizer cpu_optimizer_of(OptimizerKind optimizer);

/// Adam's exp_avg as the exact path moves it: by lerp from LibTorch 2.0 on (step_optimizer.cpp's
/// PythonAdam, as torch.optim.Adam 2.x), by mul, then add before.
inline constexpr bool kAdamLerp = TORCH_VERSION_MAJOR >= 2;

/// K models' parameters stacked parameter by parameter: parameter j of every model is one
/// contiguous block shaped [K, ...its shape], and the blocks follow each other in one flat
/// tensor, so an optimizer updates all of them with one kernel per operation while every
/// matrix product reads contiguous [K, out, in] weights.
class StackedParameters {
 public:
  StackedParameters(const std::vector<std::vector<int64_t>>& shapes, int64_t models,
                    const torch::TensorOptions& options);

  int64_t models() const { return models_; }
  /// Every value of every parameter of every model, in one flat tensor.
  const torch::Tensor& flat() const { return flat_; }
  /// Parameter j of all models, shaped [K, ...shape].
  const torch::Tensor& block(size_t j) const { return blocks_[j]; }
  /// A flat tensor of the same layout (gradients, optimizer state) and its parameter blocks.
  torch::Tensor like(float fill) const;
  std::vector<torch::Tensor> blocks_of(const torch::Tensor& flat) const;
  /// A flat tensor holding, at every position, `per_model[k]` for the model k it belongs to.
  torch::Tensor per_model(const torch::Tensor& per_model) const;
  /// Model k's parameters, flattened, parameters() order, on the host.
  std::vector<std::vector<float>> model_values(int64_t k) const;

 private:
  int64_t models_;
  std::vector<std::vector<int64_t>> shapes_;
  torch::Tensor flat_;
  std::vector<torch::Tensor> blocks_;
};

/// One full-batch epoch of K stacked models: forward, MSE loss per model, the chain rule
/// written out, and the optimizer update, every buffer allocated once. On the CPU by default
/// one fused loop per model (CpuBatchedEpoch) on up to `threads` threads; otherwise (CUDA, or
/// `fused` false) ATen's batched kernels.
class BatchedStep {
 public:
  /// x, y: [K, 1, N] (samples innermost); lrs: one per model. The parameters are updated in place.
  BatchedStep(BatchedPlan plan, StackedParameters& params, torch::Tensor x, torch::Tensor y,
              OptimizerKind optimizer, const std::vector<double>& lrs, bool fused, int threads);

  /// Runs one epoch; returns each model's loss before the step, [K] (overwritten next call).
  const torch::Tensor& run();
  /// Keeps model k's current parameters from the next update on (a diverged model).
  void freeze(int64_t k);
  /// The models' outputs [K, 1, M] for inputs [K, 1, M] (allocates; for snapshots).
  torch::Tensor predict(const torch::Tensor& x) const;

 private:
  std::vector<torch::Tensor> buffers_for(int64_t rows) const;
  void make_cpu_epoch(const std::vector<double>& lrs, int threads);
  void run_cpu_epoch();
  void forward(std::vector<torch::Tensor>& values) const;
  void backward();
  void update();

  BatchedPlan plan_;
  StackedParameters& params_;
  OptimizerKind optimizer_;
  torch::Tensor x_, y_;
  std::vector<torch::Tensor> values_;  // values_[i]: input of layer i, [K, width, N]
  std::vector<torch::Tensor> grads_;   // grads_[i]: d loss / d values_[i] (i >= 1)
  struct LinearViews {
    torch::Tensor bias_column;  // [K, out, 1]
    torch::Tensor weight_t;     // [K, in, out]
    torch::Tensor input_t;      // values_[i] as [K, N, in]
  };
  std::vector<LinearViews> views_;  // per layer; linear layers only
  size_t first_linear_ = 0;
  torch::Tensor squares_, losses_;
  torch::Tensor rows_, two_over_rows_, adagrad_eps_;  // 0-dim constants
  torch::Tensor param_grads_;                         // flat, the layout of params_.flat()
  std::vector<torch::Tensor> param_grad_blocks_;
  torch::Tensor neg_lr_;                          // flat: -lr of each value's model
  torch::Tensor state1_, state2_;                 // optimizer state
  torch::Tensor scratch1_, scratch2_, scratch3_;  // optimizer work
  int64_t steps_ = 0;
  torch::Tensor active_, kept_;  // once a model is frozen: which values update, and the kept

  std::unique_ptr<CpuBatchedEpoch> cpu_epoch_;  // set: the fused CPU path runs instead
  std::vector<double> lrs_;                     // the fused path's Adam step needs them
  std::vector<float> cpu_steps_;                // per model: -lr (Adam: -lr / correction 1)
};

}  // namespace fitreel::detail
