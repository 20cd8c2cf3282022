// One epoch of K stacked models with batched ATen kernels. The arithmetic is the single
// analytic step's (analytic_step.cpp) and torch::optim's, model by model; only the order in
// which the batched kernels sum differs. Every buffer is allocated once: each kernel writes
// into one (the *_out and in-place forms), so an epoch allocates nothing.
//
// Layout: a layer's values are [K, width, N], the transpose of the single path's (N, width),
// so the samples are the innermost, contiguous dimension. Widths are tiny (the seed's net has
// 2) and N is not: elementwise kernels then run long vectorized loops with the weights and
// biases as broadcast scalars, where [K, N, 2] gave them inner loops of 2 (measured: the
// first layer's addcmul took ~7x longer that way).
#include "batched_step.hpp"

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

std::vector<CpuLayer> cpu_layers_of(const BatchedPlan& plan,
                                    const std::function<int64_t(size_t param)>& offset_of) {
  std::vector<CpuLayer> layers;
  for (const BatchedLayer& layer : plan.layers) {
    CpuLayer cpu;
    switch (layer.kind) {
      case BatchedLayerKind::linear:
        cpu = {CpuLayerKind::linear, layer.in, layer.out, offset_of(layer.weight_param),
               offset_of(layer.weight_param + 1)};
        break;
      case BatchedLayerKind::sigmoid:
        cpu.kind = CpuLayerKind::sigmoid;
        break;
      case BatchedLayerKind::tanh:
        cpu.kind = CpuLayerKind::tanh;
        break;
      case BatchedLayerKind::relu:
        cpu.kind = CpuLayerKind::relu;
        break;
    }
    layers.push_back(cpu);
  }
  return layers;
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

BatchedStep::BatchedStep(BatchedPlan plan, StackedParameters& params, torch::Tensor x,
                         torch::Tensor y, OptimizerKind optimizer, const std::vector<double>& lrs,
                         bool fused, int threads)
    : plan_(std::move(plan)),
      params_(params),
      optimizer_(optimizer),
      x_(std::move(x)),
      y_(std::move(y)) {
  const int64_t models = params_.models();
  const int64_t rows = x_.size(2);
  views_.resize(plan_.layers.size());
  for (size_t i = 0; i < plan_.layers.size(); ++i) {
    const BatchedLayer& layer = plan_.layers[i];
    if (layer.kind == BatchedLayerKind::linear) {
      views_[i].bias_column = params_.block(layer.weight_param + 1).unsqueeze(2);
    }
  }
  while (plan_.layers[first_linear_].kind != BatchedLayerKind::linear) {
    ++first_linear_;
  }
  losses_ = torch::empty({models}, x_.options());
  if (optimizer_ != OptimizerKind::sgd) {
    state1_ = params_.like(0.0F);  // Adagrad: sum of squared gradients; Adam: exp_avg
  }
  if (optimizer_ == OptimizerKind::adam) {
    state2_ = params_.like(0.0F);  // exp_avg_sq
  }
  if (fused && x_.device().is_cpu()) {
    make_cpu_epoch(lrs, threads);
    return;
  }

  values_ = buffers_for(rows);
  values_[0] = x_;
  grads_ = buffers_for(rows);
  // Views made once: each view is a heap allocation, and an epoch needs the same ones.
  for (size_t i = 0; i < plan_.layers.size(); ++i) {
    const BatchedLayer& layer = plan_.layers[i];
    if (layer.kind == BatchedLayerKind::linear) {
      views_[i].weight_t = params_.block(layer.weight_param).transpose(1, 2);
      views_[i].input_t = values_[i].transpose(1, 2);
    }
  }
  squares_ = torch::empty({models, 1, rows}, x_.options());
  // Constants as float tensors of one value: a Scalar argument costs a conversion per call.
  rows_ = torch::full({}, static_cast<double>(rows), x_.options());
  two_over_rows_ = torch::full({}, 2.0 / static_cast<double>(rows), x_.options());
  adagrad_eps_ = torch::full({}, kAdagradEps, x_.options());
  param_grads_ = params_.like(0.0F);
  param_grad_blocks_ = params_.blocks_of(param_grads_);

  neg_lr_ = params_.per_model(torch::tensor(negated(lrs)).to(x_.device()));
  if (optimizer_ != OptimizerKind::sgd) {
    scratch1_ = params_.like(0.0F);
    scratch2_ = params_.like(0.0F);
  }
  if (optimizer_ == OptimizerKind::adam) {
    scratch3_ = params_.like(0.0F);
  }
}

void BatchedStep::make_cpu_epoch(const std::vector<double>& lrs, int threads) {
  const float* base = params_.flat().data_ptr<float>();
  cpu_epoch_ = std::make_unique<CpuBatchedEpoch>(
      cpu_layers_of(plan_,
                    [&](size_t param) { return params_.block(param).data_ptr<float>() - base; }),
      params_.models(), x_.size(2), cpu_optimizer_of(optimizer_), threads);
  lrs_ = lrs;
  cpu_steps_.resize(lrs.size());
  for (size_t k = 0; k < lrs.size(); ++k) {
    cpu_steps_[k] = cpu_step_scalars(cpu_optimizer_of(optimizer_), lrs[k], 1).step;
  }
}

void BatchedStep::run_cpu_epoch() {
  float adam_sqrt_correction2 = 1.0F;
  if (optimizer_ == OptimizerKind::adam) {
    ++steps_;
    for (size_t k = 0; k < lrs_.size(); ++k) {
      const CpuStepScalars scalars = cpu_step_scalars(CpuOptimizer::adam, lrs_[k], steps_);
      cpu_steps_[k] = scalars.step;
      adam_sqrt_correction2 = scalars.adam_sqrt_correction2;
    }
  }
  const CpuEpochData data{params_.flat().data_ptr<float>(),
                          state1_.defined() ? state1_.data_ptr<float>() : nullptr,
                          state2_.defined() ? state2_.data_ptr<float>() : nullptr,
                          x_.data_ptr<float>(),
                          y_.data_ptr<float>(),
                          cpu_steps_.data(),
                          adam_sqrt_correction2,
                          losses_.data_ptr<float>(),
                          kAdamLerp};
  cpu_epoch_->run(data);
}

std::vector<torch::Tensor> BatchedStep::buffers_for(int64_t rows) const {
  std::vector<torch::Tensor> buffers(plan_.layers.size() + 1);
  int64_t width = 1;
  for (size_t i = 0; i < plan_.layers.size(); ++i) {
    if (plan_.layers[i].kind == BatchedLayerKind::linear) {
      width = plan_.layers[i].out;
    }
    buffers[i + 1] = torch::empty({params_.models(), width, rows}, x_.options());
  }
  return buffers;
}

void BatchedStep::forward(std::vector<torch::Tensor>& values) const {
  for (size_t i = 0; i < plan_.layers.size(); ++i) {
    const BatchedLayer& layer = plan_.layers[i];
    const torch::Tensor& in = values[i];
    torch::Tensor& out = values[i + 1];
    switch (layer.kind) {
      case BatchedLayerKind::linear: {
        // out = W in + b, [K, out, N]
        const torch::Tensor& weight = params_.block(layer.weight_param);
        const torch::Tensor& bias = views_[i].bias_column;
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
      case BatchedLayerKind::sigmoid:
        at::sigmoid_out(out, in);
        break;
      case BatchedLayerKind::tanh:
        at::tanh_out(out, in);
        break;
      case BatchedLayerKind::relu:
        at::clamp_min_out(out, in, 0);  // what torch::relu computes
        break;
    }
  }
}

void BatchedStep::backward() {
  for (size_t i = plan_.layers.size(); i-- > first_linear_;) {
    const BatchedLayer& layer = plan_.layers[i];
    const torch::Tensor& grad_out = grads_[i + 1];
    switch (layer.kind) {
      case BatchedLayerKind::linear:
        // dW = g inᵀ, db = g summed over the samples, d in = Wᵀ g
        at::bmm_out(param_grad_blocks_[layer.weight_param], grad_out, views_[i].input_t);
        at::sum_out(param_grad_blocks_[layer.weight_param + 1], grad_out, kSampleDims);
        if (i > first_linear_) {
          const torch::Tensor& weight_t = views_[i].weight_t;
          if (layer.out == 1) {  // an outer product again: [K, in, 1] times [K, 1, N]
            at::mul_out(grads_[i], weight_t, grad_out);
          } else {
            at::bmm_out(grads_[i], weight_t, grad_out);
          }
        }
        break;
      case BatchedLayerKind::sigmoid:
        at::sigmoid_backward_out(grads_[i], grad_out, values_[i + 1]);
        break;
      case BatchedLayerKind::tanh:
        at::tanh_backward_out(grads_[i], grad_out, values_[i + 1]);
        break;
      case BatchedLayerKind::relu:
        at::threshold_backward_out(grads_[i], grad_out, values_[i + 1], 0);
        break;
    }
  }
}

// torch::optim's updates (LibTorch 1.13, no weight decay, no momentum, no lr decay), with the
// scalar learning rate replaced by each value's own model's rate.
void BatchedStep::update() {
  torch::Tensor values = params_.flat();  // a handle: the *_out forms take a non-const one
  const torch::Tensor& grads = param_grads_;
  switch (optimizer_) {
    case OptimizerKind::adagrad:  // sum += g²; p += -lr * g / (sqrt(sum) + eps)
      state1_.addcmul_(grads, grads);
      at::sqrt_out(scratch1_, state1_).add_(adagrad_eps_);
      at::mul_out(scratch2_, grads, neg_lr_).div_(scratch1_);
      values.add_(scratch2_);
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
      at::sqrt_out(scratch1_, state2_).div_(std::sqrt(correction.second)).add_(kAdamEps);
      // The step size -lr / correction1. torch::optim divides in double and rounds once; this
      // rounds the rate, then the quotient. Doing it its way (per-model sizes from the host,
      // one kernel per parameter) was tried and brought no closer agreement.
      at::div_out(scratch3_, neg_lr_, correction.first);
      at::mul_out(scratch2_, state1_, scratch3_).div_(scratch1_);
      values.add_(scratch2_);
      break;
    }
  }
  if (active_.defined()) {
    // Not a multiplication by a zero rate: 0 * NaN is NaN, and a frozen model's gradients are.
    at::where_out(values, active_, values, kept_);
  }
}

const torch::Tensor& BatchedStep::run() {
  if (cpu_epoch_) {
    run_cpu_epoch();
    return losses_;
  }
  torch::NoGradGuard no_grad;
  forward(values_);
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

void BatchedStep::freeze(int64_t k) {
  if (cpu_epoch_) {
    cpu_epoch_->freeze(k);
    return;
  }
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

torch::Tensor BatchedStep::predict(const torch::Tensor& x) const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> values = buffers_for(x.size(2));
  values[0] = x;
  forward(values);
  return values.back();
}

}  // namespace fitreel::detail
