// One epoch of K stacked models, two ways: the fused CPU loop (batched/cpu/epoch.hpp), and
// batched ATen kernels. The arithmetic is the single analytic step's (analytic_step.cpp) and
// torch::optim's, model by model; only the order in which the batched kernels sum differs.
// Every buffer is allocated once: each ATen kernel writes into one (the *_out and in-place
// forms), so an epoch allocates nothing.
//
// Layout: a layer's values are [K, width, N], the transpose of the single path's (N, width),
// so the samples are the innermost, contiguous dimension. Widths are tiny (the seed's net has
// 2) and N is not: elementwise kernels then run long vectorized loops with the weights and
// biases as broadcast scalars, where [K, N, 2] gave them inner loops of 2 (measured: the
// first layer's addcmul took ~7x longer that way).
#include "batched/batched_epoch.hpp"

#include "optimizer_defaults.hpp"

#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <cmath>

namespace fitreel::detail {

namespace {

using namespace optimizer_defaults;  // torch::optim's, which the single path uses

// Adam's bias corrections 1 - beta^step, in double as torch::optim computes them.
struct AdamCorrections {
  double first, second;
};
AdamCorrections adam_corrections(int64_t step) {
  return {1 - std::pow(kAdamBeta1, static_cast<double>(step)),
          1 - std::pow(kAdamBeta2, static_cast<double>(step))};
}

// -lr of each model, rounded to float as torch::optim casts its step.
std::vector<float> negated(const std::vector<double>& lrs) {
  std::vector<float> values(lrs.size());
  for (size_t k = 0; k < lrs.size(); ++k) {
    values[k] = static_cast<float>(-lrs[k]);
  }
  return values;
}

constexpr int64_t kSampleDims[] = {2};
constexpr int64_t kSampleAndOutputDims[] = {1, 2};

}  // namespace

std::vector<CpuLayer> cpu_layers_of(const SequentialPlan& plan,
                                    const std::function<int64_t(size_t param)>& offset_of) {
  std::vector<CpuLayer> layers;
  for (const PlanLayer& layer : plan.layers) {
    CpuLayer cpu;
    cpu.kind = layer.kind;
    if (layer.kind == LayerKind::linear) {
      cpu = {layer.kind, layer.in, layer.out, offset_of(layer.weight_param),
             offset_of(layer.weight_param + 1)};
    }
    layers.push_back(cpu);
  }
  return layers;
}

CpuEpochData cpu_epoch_data(const torch::Tensor& params, const torch::Tensor& state1,
                            const torch::Tensor& state2, const torch::Tensor& x,
                            const torch::Tensor& y, const float* steps, float adam_sqrt_correction2,
                            const torch::Tensor& losses) {
  const auto values = [](const torch::Tensor& tensor) {
    return tensor.defined() ? tensor.data_ptr<float>() : nullptr;
  };
  return {values(params), values(state1),        values(state2), values(x), values(y),
          steps,          adam_sqrt_correction2, values(losses), kAdamLerp};
}

CpuOptimizer cpu_optimizer_of(OptimizerKind optimizer) {
  switch (optimizer) {
    case OptimizerKind::adagrad:
      return CpuOptimizer::adagrad;
    case OptimizerKind::sgd:
      return CpuOptimizer::sgd;
    case OptimizerKind::adam:
      return CpuOptimizer::adam;
  }
  return CpuOptimizer::adagrad;
}

namespace {

// A layer's buffers [K, width, rows] for values (or their gradients), input first (unset).
std::vector<torch::Tensor> buffers_for(const SequentialPlan& plan, int64_t models, int64_t rows,
                                       const torch::TensorOptions& options) {
  std::vector<torch::Tensor> buffers(plan.layers.size() + 1);
  int64_t width = 1;
  for (size_t i = 0; i < plan.layers.size(); ++i) {
    if (plan.layers[i].kind == LayerKind::linear) {
      width = plan.layers[i].out;
    }
    buffers[i + 1] = torch::empty({models, width, rows}, options);
  }
  return buffers;
}

// Each Linear layer's bias as a column [K, out, 1] (undefined for the other layers).
std::vector<torch::Tensor> bias_columns_of(const SequentialPlan& plan,
                                           const StackedParameters& params) {
  std::vector<torch::Tensor> columns(plan.layers.size());
  for (size_t i = 0; i < plan.layers.size(); ++i) {
    if (plan.layers[i].kind == LayerKind::linear) {
      columns[i] = params.block(plan.layers[i].weight_param + 1).unsqueeze(2);
    }
  }
  return columns;
}

// values[0] is the input; writes every layer's output values[i + 1].
void forward(const SequentialPlan& plan, const StackedParameters& params,
             const std::vector<torch::Tensor>& bias_columns, std::vector<torch::Tensor>& values) {
  for (size_t i = 0; i < plan.layers.size(); ++i) {
    const PlanLayer& layer = plan.layers[i];
    const torch::Tensor& in = values[i];
    torch::Tensor& out = values[i + 1];
    switch (layer.kind) {
      case LayerKind::linear: {
        // out = W in + b, [K, out, N]
        const torch::Tensor& weight = params.block(layer.weight_param);
        const torch::Tensor& bias = bias_columns[i];
        if (layer.in == 1) {
          // An outer product: broadcasting beats a matrix kernel. Multiply, then add, as the
          // single path's addmm rounds them: addcmul fuses the two (one rounding), and on the
          // seed's net under Adagrad that alone drifts the weights 2.6e-3 over 10^4 epochs
          // (with LibTorch 2.6, where every other kernel here rounds as the single path's).
          at::mul_out(out, weight, in);
          out.add_(bias);
        } else {
          at::baddbmm_out(out, bias, weight, in);
        }
        break;
      }
      case LayerKind::sigmoid:
        at::sigmoid_out(out, in);
        break;
      case LayerKind::tanh:
        at::tanh_out(out, in);
        break;
      case LayerKind::relu:
        at::clamp_min_out(out, in, 0);  // what torch::relu computes
        break;
    }
  }
}

// The epoch with ATen's batched kernels (what CUDA runs).
class AtenBatchedEpoch final : public BatchedEpoch {
 public:
  AtenBatchedEpoch(SequentialPlan plan, StackedParameters& params, torch::Tensor x, torch::Tensor y,
                   OptimizerKind optimizer, const std::vector<double>& lrs);
  const torch::Tensor& run() override;
  void freeze(int64_t k) override;

 private:
  void backward();
  void update();

  SequentialPlan plan_;
  StackedParameters& params_;
  OptimizerKind optimizer_;
  torch::Tensor y_;
  std::vector<torch::Tensor> values_;  // values_[i]: input of layer i, [K, width, N]
  std::vector<torch::Tensor> grads_;   // grads_[i]: d loss / d values_[i] (i >= 1)
  // Views made once: each view is a heap allocation, and an epoch needs the same ones.
  std::vector<torch::Tensor> bias_columns_;  // per layer [K, out, 1]; linear layers only
  std::vector<torch::Tensor> weights_t_;     // per layer [K, in, out]; linear layers only
  std::vector<torch::Tensor> inputs_t_;      // values_[i] as [K, N, in]; linear layers only
  size_t first_linear_ = 0;
  torch::Tensor squares_, losses_;
  torch::Tensor rows_, two_over_rows_, adagrad_eps_;  // 0-dim constants
  torch::Tensor param_grads_;                         // flat, the layout of params_.flat()
  std::vector<torch::Tensor> param_grad_blocks_;
  torch::Tensor neg_lr_;                               // flat: -lr of each value's model
  torch::Tensor state1_, state2_;                      // Adagrad: sum; Adam: exp_avg, exp_avg_sq
  torch::Tensor denominators_, updates_, step_sizes_;  // the optimizer's work, flat
  int64_t steps_ = 0;
  torch::Tensor active_, kept_;  // once a model is frozen: which values update, and the kept
};

AtenBatchedEpoch::AtenBatchedEpoch(SequentialPlan plan, StackedParameters& params, torch::Tensor x,
                                   torch::Tensor y, OptimizerKind optimizer,
                                   const std::vector<double>& lrs)
    : plan_(std::move(plan)), params_(params), optimizer_(optimizer), y_(std::move(y)) {
  const int64_t models = params_.models();
  const int64_t rows = x.size(2);
  const torch::TensorOptions options = x.options();
  values_ = buffers_for(plan_, models, rows, options);
  values_[0] = std::move(x);
  grads_ = buffers_for(plan_, models, rows, options);
  bias_columns_ = bias_columns_of(plan_, params_);
  weights_t_.resize(plan_.layers.size());
  inputs_t_.resize(plan_.layers.size());
  for (size_t i = 0; i < plan_.layers.size(); ++i) {
    const PlanLayer& layer = plan_.layers[i];
    if (layer.kind == LayerKind::linear) {
      weights_t_[i] = params_.block(layer.weight_param).transpose(1, 2);
      inputs_t_[i] = values_[i].transpose(1, 2);
    }
  }
  while (plan_.layers[first_linear_].kind != LayerKind::linear) {
    ++first_linear_;
  }
  losses_ = torch::empty({models}, options);
  squares_ = torch::empty({models, 1, rows}, options);
  // Constants as float tensors of one value: a Scalar argument costs a conversion per call.
  rows_ = torch::full({}, static_cast<double>(rows), options);
  two_over_rows_ = torch::full({}, 2.0 / static_cast<double>(rows), options);
  adagrad_eps_ = torch::full({}, kAdagradEps, options);
  param_grads_ = params_.like(0.0F);
  param_grad_blocks_ = params_.blocks_of(param_grads_);
  neg_lr_ = params_.per_model(torch::tensor(negated(lrs)).to(options.device()));
  if (optimizer_ != OptimizerKind::sgd) {
    state1_ = params_.like(0.0F);
    denominators_ = params_.like(0.0F);
    updates_ = params_.like(0.0F);
  }
  if (optimizer_ == OptimizerKind::adam) {
    state2_ = params_.like(0.0F);
    step_sizes_ = params_.like(0.0F);
  }
}

void AtenBatchedEpoch::backward() {
  for (size_t i = plan_.layers.size(); i-- > first_linear_;) {
    const PlanLayer& layer = plan_.layers[i];
    const torch::Tensor& grad_out = grads_[i + 1];
    switch (layer.kind) {
      case LayerKind::linear:
        // dW = g inᵀ, db = g summed over the samples, d in = Wᵀ g
        at::bmm_out(param_grad_blocks_[layer.weight_param], grad_out, inputs_t_[i]);
        at::sum_out(param_grad_blocks_[layer.weight_param + 1], grad_out, kSampleDims);
        if (i > first_linear_) {
          if (layer.out == 1) {  // an outer product again: [K, in, 1] times [K, 1, N]
            at::mul_out(grads_[i], weights_t_[i], grad_out);
          } else {
            at::bmm_out(grads_[i], weights_t_[i], grad_out);
          }
        }
        break;
      case LayerKind::sigmoid:
        at::sigmoid_backward_out(grads_[i], grad_out, values_[i + 1]);
        break;
      case LayerKind::tanh:
        at::tanh_backward_out(grads_[i], grad_out, values_[i + 1]);
        break;
      case LayerKind::relu:
        at::threshold_backward_out(grads_[i], grad_out, values_[i + 1], 0);
        break;
    }
  }
}

// torch::optim's updates (LibTorch 1.13, no weight decay, no momentum, no lr decay), with the
// scalar learning rate replaced by each value's own model's rate.
void AtenBatchedEpoch::update() {
  torch::Tensor values = params_.flat();  // a handle: the *_out forms take a non-const one
  const torch::Tensor& grads = param_grads_;
  switch (optimizer_) {
    case OptimizerKind::adagrad:  // sum += g²; p += -lr * g / (sqrt(sum) + eps)
      state1_.addcmul_(grads, grads);
      at::sqrt_out(denominators_, state1_).add_(adagrad_eps_);
      at::mul_out(updates_, grads, neg_lr_).div_(denominators_);
      values.add_(updates_);
      break;
    case OptimizerKind::sgd:  // p += -lr * g
      values.addcmul_(grads, neg_lr_);
      break;
    case OptimizerKind::adam: {
      const AdamCorrections correction = adam_corrections(++steps_);
      if (kAdamLerp) {
        state1_.lerp_(grads, 1 - kAdamBeta1);
      } else {
        state1_.mul_(kAdamBeta1).add_(grads, 1 - kAdamBeta1);
      }
      state2_.mul_(kAdamBeta2).addcmul_(grads, grads, 1 - kAdamBeta2);
      at::sqrt_out(denominators_, state2_).div_(std::sqrt(correction.second)).add_(kAdamEps);
      // The step size -lr / correction1. torch::optim divides in double and rounds once; this
      // rounds the rate, then the quotient. Doing it its way (per-model sizes from the host,
      // one kernel per parameter) was tried and brought no closer agreement.
      at::div_out(step_sizes_, neg_lr_, correction.first);
      at::mul_out(updates_, state1_, step_sizes_).div_(denominators_);
      values.add_(updates_);
      break;
    }
  }
  if (active_.defined()) {
    // Not a multiplication by a zero rate: 0 * NaN is NaN, and a frozen model's gradients are.
    at::where_out(values, active_, values, kept_);
  }
}

const torch::Tensor& AtenBatchedEpoch::run() {
  torch::NoGradGuard no_grad;
  forward(plan_, params_, bias_columns_, values_);
  // Loss and its gradient as mse_loss and mse_loss_backward compute them: the mean of the
  // squared differences, and 2 / N times the difference.
  torch::Tensor& diff = grads_.back();
  at::sub_out(diff, values_.back(), y_);
  at::mul_out(squares_, diff, diff);
  at::sum_out(losses_, squares_, kSampleAndOutputDims).div_(rows_);  // what mean_out does
  diff.mul_(two_over_rows_);
  backward();
  update();
  return losses_;
}

void AtenBatchedEpoch::freeze(int64_t k) {
  torch::NoGradGuard no_grad;
  if (!active_.defined()) {
    active_ = torch::ones_like(params_.flat(), torch::kBool);
    kept_ = params_.flat().clone();
  }
  const std::vector<torch::Tensor> active = params_.blocks_of(active_);
  const std::vector<torch::Tensor> kept = params_.blocks_of(kept_);
  for (size_t j = 0; j < active.size(); ++j) {
    active[j][k].fill_(false);
    kept[j][k].copy_(params_.block(j)[k]);
  }
}

// The epoch as one fused loop per model on the CPU (CpuBatchedEpoch), on the stacked tensors'
// memory; the optimizer state lives in tensors of the parameters' layout.
class FusedCpuBatchedEpoch final : public BatchedEpoch {
 public:
  FusedCpuBatchedEpoch(const SequentialPlan& plan, StackedParameters& params, torch::Tensor x,
                       torch::Tensor y, OptimizerKind optimizer, const std::vector<double>& lrs,
                       int threads);
  const torch::Tensor& run() override;
  void freeze(int64_t k) override { epoch_->freeze(k); }

 private:
  StackedParameters& params_;
  CpuOptimizer optimizer_;
  torch::Tensor x_, y_, losses_;
  torch::Tensor state1_, state2_;  // Adagrad: sum; Adam: exp_avg, exp_avg_sq
  std::unique_ptr<CpuBatchedEpoch> epoch_;
  std::vector<double> lrs_;   // Adam's step size changes every epoch
  std::vector<float> steps_;  // per model: -lr (Adam: -lr / correction 1)
  int64_t adam_step_ = 0;
};

FusedCpuBatchedEpoch::FusedCpuBatchedEpoch(const SequentialPlan& plan, StackedParameters& params,
                                           torch::Tensor x, torch::Tensor y,
                                           OptimizerKind optimizer, const std::vector<double>& lrs,
                                           int threads)
    : params_(params),
      optimizer_(cpu_optimizer_of(optimizer)),
      x_(std::move(x)),
      y_(std::move(y)),
      losses_(torch::empty({params.models()}, x_.options())),
      lrs_(lrs),
      steps_(lrs.size()) {
  if (optimizer_ != CpuOptimizer::sgd) {
    state1_ = params_.like(0.0F);
  }
  if (optimizer_ == CpuOptimizer::adam) {
    state2_ = params_.like(0.0F);
  }
  const float* base = params_.flat().data_ptr<float>();
  epoch_ = std::make_unique<CpuBatchedEpoch>(
      cpu_layers_of(plan,
                    [&](size_t param) { return params_.block(param).data_ptr<float>() - base; }),
      params_.models(), x_.size(2), optimizer_, threads);
  for (size_t k = 0; k < lrs.size(); ++k) {
    steps_[k] = cpu_step_scalars(optimizer_, lrs[k], 1).step;
  }
}

const torch::Tensor& FusedCpuBatchedEpoch::run() {
  float adam_sqrt_correction2 = 1.0F;
  if (optimizer_ == CpuOptimizer::adam) {
    ++adam_step_;
    for (size_t k = 0; k < lrs_.size(); ++k) {
      const CpuStepScalars scalars = cpu_step_scalars(optimizer_, lrs_[k], adam_step_);
      steps_[k] = scalars.step;
      adam_sqrt_correction2 = scalars.adam_sqrt_correction2;
    }
  }
  epoch_->run(cpu_epoch_data(params_.flat(), state1_, state2_, x_, y_, steps_.data(),
                             adam_sqrt_correction2, losses_));
  return losses_;
}

}  // namespace

std::unique_ptr<BatchedEpoch> make_batched_epoch(const SequentialPlan& plan,
                                                 StackedParameters& params, torch::Tensor x,
                                                 torch::Tensor y, OptimizerKind optimizer,
                                                 const std::vector<double>& lrs, bool fused,
                                                 int threads) {
  if (fused && x.device().is_cpu()) {
    return std::make_unique<FusedCpuBatchedEpoch>(plan, params, std::move(x), std::move(y),
                                                  optimizer, lrs, threads);
  }
  return std::make_unique<AtenBatchedEpoch>(plan, params, std::move(x), std::move(y), optimizer,
                                            lrs);
}

torch::Tensor predict_batched(const SequentialPlan& plan, const StackedParameters& params,
                              const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> values = buffers_for(plan, params.models(), x.size(2), x.options());
  values[0] = x;
  forward(plan, params, bias_columns_of(plan, params), values);
  return values.back();
}

}  // namespace fitreel::detail
