#pragma once

// Internal: one epoch of K stacked models on the CPU as one fused loop per model: forward, MSE,
// backward and the optimizer update run while that model's few hundred values sit in L1, in
// vectorized loops over the samples (batched/cpu/kernels.inc). No LibTorch here (plain
// floats; only c10's warning for the kernel choice), so these files compile fast, with their own
// vectorization flags. Not installed.

#include "batched/parallel_choice.hpp"
#include "layer_kind.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace fitreel::detail {

class EpochWorkers;

enum class CpuOptimizer { adagrad, sgd, adam };

/// One layer. A Linear's weight [K, out, in] and bias [K, out] are blocks of the flat
/// parameter array starting at these offsets (model k's own at offset + k * size).
struct CpuLayer {
  LayerKind kind = LayerKind::linear;
  int64_t in = 0, out = 0;                     // linear only
  int64_t weight_offset = 0, bias_offset = 0;  // linear only
};

/// Where an epoch reads and writes. Every flat array has the parameters' layout.
struct CpuEpochData {
  float* params = nullptr;
  float* state1 = nullptr;      // Adagrad: sum of squares; Adam: exp_avg
  float* state2 = nullptr;      // Adam: exp_avg_sq
  const float* x = nullptr;     // [K, N]
  const float* y = nullptr;     // [K, N]
  const float* step = nullptr;  // [K]: -lr (Adam: -lr / bias correction 1)
  float adam_sqrt_correction2 = 1.0F;
  float* losses = nullptr;  // [K], written for the active models
  /// Adam's exp_avg moves by lerp (PyTorch 2.x's torch.optim.Adam) instead of mul, then add.
  bool adam_lerp = false;
};

/// One model's epoch worked out once: where layer i's output, and the gradient of the loss
/// with respect to it, sit in the scratch (value_at[i], width[i] x rows floats), where a
/// Linear layer's weight and bias gradients go (grad_at[i]), and each parameter block.
struct CpuEpochPlan {
  struct Param {
    int64_t offset = 0, size = 0, scratch = 0;  // block offset, values per model, its gradient
  };
  std::vector<CpuLayer> layers;
  int64_t rows = 0;
  CpuOptimizer optimizer = CpuOptimizer::adagrad;
  std::vector<int64_t> value_at, width, grad_at;
  size_t first_linear = 0;
  std::vector<Param> params;
  int64_t values = 0, param_grads = 0;  // scratch sizes
  std::vector<float> ones;              // rows of 1: a bias gradient is a sum of products with it
};

/// The plan as the kernels read it: plain pointers into a CpuEpochPlan. The kernels are compiled
/// once per instruction set, so they call no inline library function (std::vector's included):
/// the linker keeps one copy of such a function, and it must not be the AVX2 one.
struct CpuEpochView {
  const CpuLayer* layers = nullptr;
  size_t layer_count = 0, first_linear = 0;
  const int64_t *value_at = nullptr, *width = nullptr, *grad_at = nullptr;
  int64_t rows = 0;
  CpuOptimizer optimizer = CpuOptimizer::adagrad;
  const CpuEpochPlan::Param* params = nullptr;
  size_t param_count = 0;
  const float* ones = nullptr;
};

/// An epoch's update scalars for one model as torch::optim computes them, in double and rounded
/// to float once: `step` is -lr (Adam: -lr / bias correction 1 of `adam_step`, counted from 1).
/// The sweep and the single fused run both take them from here, so a model's numbers do not
/// depend on which of the two trains it.
struct CpuStepScalars {
  float step = 0.0F;
  float adam_sqrt_correction2 = 1.0F;
};
CpuStepScalars cpu_step_scalars(CpuOptimizer optimizer, double lr, int64_t adam_step);

/// Model k's epoch (forward, MSE, backward, update); returns its loss before the update.
using CpuModelEpoch = float (*)(const CpuEpochView& plan, int64_t k, float* values, float* grads,
                                float* param_grads, const CpuEpochData& data);
namespace cpu_baseline {
float model_epoch(const CpuEpochView&, int64_t, float*, float*, float*, const CpuEpochData&);
}
namespace cpu_avx2 {  // built on x86-64 with GCC or Clang (FITREEL_CPU_AVX2)
float model_epoch(const CpuEpochView&, int64_t, float*, float*, float*, const CpuEpochData&);
}

/// K models' epochs, split over up to `threads` threads (fewer when each would get too little
/// work to pay for the hand-over), or run on the calling thread alone while that is faster (a
/// busy machine: ParallelChoice). Each model is computed alone, start to end, so the numbers
/// do not depend on how many threads run.
class CpuBatchedEpoch {
 public:
  CpuBatchedEpoch(std::vector<CpuLayer> layers, int64_t models, int64_t rows,
                  CpuOptimizer optimizer, int threads);
  ~CpuBatchedEpoch();

  /// One epoch of every model still active; writes their losses.
  void run(const CpuEpochData& data);
  /// Model k trains no further (a diverged model keeps its parameters).
  void freeze(int64_t k) { active_[k] = 0; }
  /// How many threads an epoch runs on.
  int threads() const;

 private:
  struct Scratch {
    std::vector<float> values, grads, param_grads;
  };
  void run_models(int64_t begin, int64_t end, Scratch& scratch, const CpuEpochData& data);
  void run_on_workers(const CpuEpochData& data);

  CpuEpochPlan plan_;
  CpuEpochView view_;
  int64_t models_;
  CpuModelEpoch model_epoch_ = nullptr;
  std::vector<Scratch> scratch_;  // one per share of the models
  std::unique_ptr<EpochWorkers> workers_;
  ParallelChoice parallel_choice_;
  std::vector<unsigned char> active_;
};

}  // namespace fitreel::detail
