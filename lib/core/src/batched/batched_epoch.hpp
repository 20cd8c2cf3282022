#pragma once

// Internal: the stacked parameters and the batched epoch behind train_batched() (and, as a batch
// of one, the fused single run). Not installed.

#include "batched/cpu/epoch.hpp"
#include "sequential_plan.hpp"

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

/// The plan's layers as the fused CPU kernels read them; offset_of(j) is where parameter j's
/// block starts in the flat parameter array.
std::vector<CpuLayer> cpu_layers_of(const SequentialPlan& plan,
                                    const std::function<int64_t(size_t param)>& offset_of);
CpuOptimizer cpu_optimizer_of(OptimizerKind optimizer);

/// What the fused kernels read and write in one epoch: the flat `params` and optimizer states
/// (undefined: the optimizer has none) in their layout, x and y as rows, the per-model steps,
/// and where the losses go. Every tensor float32, contiguous, on the CPU.
CpuEpochData cpu_epoch_data(const torch::Tensor& params, const torch::Tensor& state1,
                            const torch::Tensor& state2, const torch::Tensor& x,
                            const torch::Tensor& y, const float* steps, float adam_sqrt_correction2,
                            const torch::Tensor& losses);

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

/// One full-batch epoch of K stacked models: forward, MSE loss per model, the chain rule written
/// out, and the optimizer update, every buffer allocated once. Two implementations behind
/// make_batched_epoch(): the fused CPU loop (a CpuBatchedEpoch) and ATen's batched kernels.
class BatchedEpoch {
 public:
  virtual ~BatchedEpoch() = default;
  /// Runs one epoch; returns each model's loss before the step, [K] (overwritten next call).
  virtual const torch::Tensor& run() = 0;
  /// Keeps model k's current parameters from the next update on (a diverged model).
  virtual void freeze(int64_t k) = 0;
};

/// The epoch of `params` (updated in place) on x, y [K, 1, N] (samples innermost) at one rate
/// per model: on the CPU by default the fused loop on up to `threads` threads; on CUDA, or with
/// `fused` false, ATen's batched kernels.
std::unique_ptr<BatchedEpoch> make_batched_epoch(const SequentialPlan& plan,
                                                 StackedParameters& params, torch::Tensor x,
                                                 torch::Tensor y, OptimizerKind optimizer,
                                                 const std::vector<double>& lrs, bool fused,
                                                 int threads);

/// The models' outputs [K, 1, M] for inputs [K, 1, M] (allocates; for snapshots).
torch::Tensor predict_batched(const SequentialPlan& plan, const StackedParameters& params,
                              const torch::Tensor& x);

}  // namespace fitreel::detail
