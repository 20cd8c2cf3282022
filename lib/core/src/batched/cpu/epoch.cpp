// The fused CPU epoch's bookkeeping: the plan of one model's epoch, a scratch per worker, the
// models still training, and which compiled variant of the kernels this CPU runs.
#include "batched/cpu/epoch.hpp"

#include "batched/cpu/kernels_choice.hpp"

#include "batched/epoch_workers.hpp"
#include "optimizer_defaults.hpp"

#include <c10/util/Exception.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <string>

namespace fitreel::detail {

namespace {

// A thread pays for its hand-over (about a microsecond) once it gets this much work an epoch
// (multiply-adds and activations, ~10 us; on 2 cores the seed net at K = 64 went from 0.41 to
// 0.34 us per model-epoch, at K = 16 one thread was as fast).
constexpr int64_t kWorkPerThread = 8192;

bool avx2_and_fma_run() {
#if defined(FITREEL_CPU_AVX2)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

// -1: no variant forced (tests force one with force_cpu_kernels).
std::atomic<int> forced_kernels{-1};

}  // namespace

CpuKernelsChoice choose_cpu_kernels(const char* requested, bool avx2_runs) {
  const CpuKernels best = avx2_runs ? CpuKernels::avx2 : CpuKernels::baseline;
  const std::string asked = requested == nullptr ? "" : requested;
  if (asked.empty()) {
    return {best};
  }
  if (asked == "baseline") {
    return {CpuKernels::baseline};
  }
  if (asked == "avx2") {
    if (avx2_runs) {
      return {CpuKernels::avx2};
    }
    return {best,
            "FITREEL_CPU_KERNELS=avx2: this build or CPU has no AVX2 with FMA; the portable "
            "kernels run"};
  }
  return {best, "FITREEL_CPU_KERNELS='" + asked + "' is not baseline or avx2 (or unset); the " +
                    (best == CpuKernels::avx2 ? "avx2" : "portable") + " kernels run"};
}

CpuKernels cpu_kernels() {
  static const CpuKernels chosen = [] {
    const CpuKernelsChoice choice =
        choose_cpu_kernels(std::getenv("FITREEL_CPU_KERNELS"), avx2_and_fma_run());
    if (!choice.warning.empty()) {
      TORCH_WARN(choice.warning);
    }
    return choice.kernels;
  }();
  const int forced = forced_kernels.load(std::memory_order_relaxed);
  return forced < 0 ? chosen : static_cast<CpuKernels>(forced);
}

void force_cpu_kernels(std::optional<CpuKernels> kernels) {
  forced_kernels.store(kernels ? static_cast<int>(*kernels) : -1, std::memory_order_relaxed);
}

CpuStepScalars cpu_step_scalars(CpuOptimizer optimizer, double lr, int64_t adam_step) {
  if (optimizer != CpuOptimizer::adam) {
    return {static_cast<float>(-lr), 1.0F};
  }
  using namespace optimizer_defaults;  // the settings the fused kernels cover
  const double correction1 = 1 - std::pow(kAdamBeta1, static_cast<double>(adam_step));
  const double correction2 = 1 - std::pow(kAdamBeta2, static_cast<double>(adam_step));
  return {static_cast<float>(-(lr / correction1)), static_cast<float>(std::sqrt(correction2))};
}

CpuBatchedEpoch::CpuBatchedEpoch(std::vector<CpuLayer> layers, int64_t models, int64_t rows,
                                 CpuOptimizer optimizer, int threads)
    : models_(models), active_(static_cast<size_t>(models), 1) {
  plan_.layers = std::move(layers);
  plan_.rows = rows;
  plan_.optimizer = optimizer;
  plan_.ones.assign(static_cast<size_t>(rows), 1.0F);
  int64_t width = 1;
  for (const CpuLayer& layer : plan_.layers) {
    if (layer.kind == LayerKind::linear) {
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
  while (plan_.layers[plan_.first_linear].kind != LayerKind::linear) {
    ++plan_.first_linear;
  }
  view_ = {plan_.layers.data(), plan_.layers.size(),  plan_.first_linear, plan_.value_at.data(),
           plan_.width.data(),  plan_.grad_at.data(), plan_.rows,         plan_.optimizer,
           plan_.params.data(), plan_.params.size(),  plan_.ones.data()};
  model_epoch_ = cpu_baseline::model_epoch;
#if defined(FITREEL_CPU_AVX2)
  if (cpu_kernels() == CpuKernels::avx2) {
    model_epoch_ = cpu_avx2::model_epoch;
  }
#endif
  int64_t per_sample = 0;  // multiply-adds of a Linear, calls of an activation
  for (size_t i = 0; i < plan_.layers.size(); ++i) {
    const CpuLayer& layer = plan_.layers[i];
    per_sample += layer.kind == LayerKind::linear ? layer.out * (layer.in + 1) : plan_.width[i];
  }
  const int64_t shares = std::clamp<int64_t>(models * rows * per_sample / kWorkPerThread, 1,
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
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  if (!parallel_choice_.parallel_next()) {
    run_models(0, models_, scratch_[0], data);
  } else {
    run_on_workers(data);
  }
  const Clock::time_point end = Clock::now();
  parallel_choice_.record(std::chrono::duration<double>(end - start).count(),
                          std::chrono::duration<double>(end.time_since_epoch()).count());
}

void CpuBatchedEpoch::run_on_workers(const CpuEpochData& data) {
  struct Epoch {
    CpuBatchedEpoch* self;
    const CpuEpochData* data;
  } epoch{this, &data};
  workers_->run(
      [](void* context, int share) {
        const Epoch& e = *static_cast<const Epoch*>(context);
        const auto shares = static_cast<int64_t>(e.self->scratch_.size());
        const int64_t models = e.self->models_;
        e.self->run_models(share * models / shares, (share + 1) * models / shares,
                           e.self->scratch_[share], *e.data);
      },
      &epoch);
}

void CpuBatchedEpoch::run_models(int64_t begin, int64_t end, Scratch& scratch,
                                 const CpuEpochData& data) {
  for (int64_t k = begin; k < end; ++k) {
    if (active_[k] != 0) {
      data.losses[k] = model_epoch_(view_, k, scratch.values.data(), scratch.grads.data(),
                                    scratch.param_grads.data(), data);
    }
  }
}

}  // namespace fitreel::detail
