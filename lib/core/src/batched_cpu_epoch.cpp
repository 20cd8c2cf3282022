// The fused CPU epoch's bookkeeping: the plan of one model's epoch, a scratch per worker, the
// models still training, and which compiled variant of the kernels this CPU runs.
#include "batched_cpu_epoch.hpp"

#include "epoch_workers.hpp"

#include <algorithm>

namespace fitreel::detail {

namespace {

// A thread pays for its hand-over (about a microsecond) once it gets this many unit-sample
// values of work an epoch, ~10 us (measured on 2 cores: the seed net gains from K = 16 on).
constexpr int64_t kWorkPerThread = 4096;

bool cpu_has_avx2_and_fma() {
#if defined(FITREEL_CPU_AVX2)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

}  // namespace

CpuBatchedEpoch::CpuBatchedEpoch(std::vector<CpuLayer> layers, int64_t models, int64_t rows,
                                 CpuOptimizer optimizer, int threads)
    : models_(models), active_(static_cast<size_t>(models), 1) {
  plan_.layers = std::move(layers);
  plan_.rows = rows;
  plan_.optimizer = optimizer;
  plan_.ones.assign(static_cast<size_t>(rows), 1.0F);
  int64_t width = 1;
  for (const CpuLayer& layer : plan_.layers) {
    if (layer.kind == CpuLayerKind::linear) {
      width = layer.out;
      const int64_t weights = layer.out * layer.in;
      plan_.params.push_back({layer.weight_offset, weights, plan_.param_grads});
      plan_.params.push_back({layer.bias_offset, layer.out, plan_.param_grads + weights});
      plan_.grad_at.push_back(plan_.param_grads);
      plan_.param_grads += weights + layer.out;
    } else {
      plan_.grad_at.push_back(0);
    }
    plan_.width.push_back(width);
    plan_.value_at.push_back(plan_.values);
    plan_.values += width * rows;
  }
  while (plan_.layers[plan_.first_linear].kind != CpuLayerKind::linear) {
    ++plan_.first_linear;
  }
  model_epoch_ = cpu_baseline::model_epoch;
#if defined(FITREEL_CPU_AVX2)
  if (cpu_has_avx2_and_fma()) {
    model_epoch_ = cpu_avx2::model_epoch;
  }
#endif
  int64_t units = 0;
  for (const CpuLayer& layer : plan_.layers) {
    units += layer.kind == CpuLayerKind::linear ? layer.out : 0;
  }
  const int64_t shares = std::clamp<int64_t>(models * rows * units / kWorkPerThread, 1,
                                             std::min<int64_t>(std::max(threads, 1), models));
  if (shares > 1) {
    workers_ = std::make_unique<EpochWorkers>(static_cast<int>(shares));
  }
  scratch_.resize(static_cast<size_t>(shares));
  for (Scratch& scratch : scratch_) {
    scratch.values.resize(static_cast<size_t>(plan_.values));
    scratch.grads.resize(static_cast<size_t>(plan_.values));
    scratch.param_grads.resize(static_cast<size_t>(plan_.param_grads));
  }
}

CpuBatchedEpoch::~CpuBatchedEpoch() = default;

int CpuBatchedEpoch::threads() const { return static_cast<int>(scratch_.size()); }

void CpuBatchedEpoch::run(const CpuEpochData& data) {
  if (!workers_) {
    run_models(0, models_, scratch_[0], data);
    return;
  }
  const auto shares = static_cast<int64_t>(scratch_.size());
  workers_->run([&](int share) {
    run_models(share * models_ / shares, (share + 1) * models_ / shares, scratch_[share], data);
  });
}

void CpuBatchedEpoch::run_models(int64_t begin, int64_t end, Scratch& scratch,
                                 const CpuEpochData& data) {
  for (int64_t k = begin; k < end; ++k) {
    if (active_[k] != 0) {
      data.losses[k] = model_epoch_(plan_, k, scratch.values.data(), scratch.grads.data(),
                                    scratch.param_grads.data(), data);
    }
  }
}

}  // namespace fitreel::detail
