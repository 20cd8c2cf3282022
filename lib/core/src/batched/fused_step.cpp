// train()'s step through the fused CPU kernels, as a batch of one: the model's parameters are
// views of one flat tensor (the layout of a sweep's stacked parameters with K = 1), and the
// kernels update it and the optimizer's own state in place. A sweep's model and its single run
// then compute the same numbers: the same kernels, the same plan, the same update scalars.
#include "batched/batched_epoch.hpp"
#include "optimizer_defaults.hpp"
#include "train_step.hpp"

#include <fitreel/error.hpp>

#include <map>

namespace fitreel::detail {

namespace {

class FusedStep final : public TrainStep {
 public:
  FusedStep(SequentialPlan plan, const StepInputs& inputs)
      : plan_(std::move(plan)),
        flat_(inputs.model.module().parameters()),
        optimizer_(inputs.optimizer, {flat_.values()}, flat_.slots()),
        kind_(cpu_optimizer_of(inputs.optimizer.kind)),
        x_(inputs.x.contiguous()),
        y_(inputs.y.contiguous()),
        loss_(torch::empty({}, x_.options())) {
    int64_t offset = 0;
    for (const std::vector<int64_t>& shape : plan_.param_shapes) {
      offsets_.push_back(offset);
      offset += c10::multiply_integers(shape);
    }
  }

  torch::Tensor run() override { return run(x_, y_); }

  torch::Tensor run(const torch::Tensor& x, const torch::Tensor& y) override {
    const torch::Tensor x_rows = x.contiguous();  // (N, 1) is the kernels' [1, N]
    const torch::Tensor y_rows = y.contiguous();
    const StepOptimizer::InPlaceStep in_place = optimizer_.begin_in_place_step();
    const CpuStepScalars scalars = cpu_step_scalars(kind_, optimizer_.lr(), in_place.step);
    epoch_for(x_rows.size(0))
        .run(cpu_epoch_data(flat_.values(), in_place.first, in_place.second, x_rows, y_rows,
                            &scalars.step, scalars.adam_sqrt_correction2, loss_));
    return loss_;
  }

  StepOptimizer& optimizer() override { return optimizer_; }

 private:
  // One plan per batch size (mini-batches: the batch size and the last, smaller one).
  CpuBatchedEpoch& epoch_for(int64_t rows) {
    std::unique_ptr<CpuBatchedEpoch>& epoch = epochs_[rows];
    if (!epoch) {
      epoch = std::make_unique<CpuBatchedEpoch>(
          cpu_layers_of(plan_, [&](size_t param) { return offsets_[param]; }), 1, rows, kind_, 1);
    }
    return *epoch;
  }

  SequentialPlan plan_;
  FlatParameters flat_;
  StepOptimizer optimizer_;
  CpuOptimizer kind_;
  torch::Tensor x_, y_, loss_;
  std::vector<int64_t> offsets_;  // where each parameter starts in flat_.values()
  std::map<int64_t, std::unique_ptr<CpuBatchedEpoch>> epochs_;
};

bool default_settings(const OptimizerConfig& config) {
  const OptimizerSettings& s = config.settings;
  const OptimizerSettings defaults;
  const double default_eps = config.kind == OptimizerKind::adam ? optimizer_defaults::kAdamEps
                                                                : optimizer_defaults::kAdagradEps;
  return s.weight_decay == 0.0 && s.momentum == 0.0 && s.dampening == 0.0 && !s.nesterov &&
         s.lr_decay == 0.0 && s.eps.value_or(default_eps) == default_eps &&
         s.beta1 == defaults.beta1 && s.beta2 == defaults.beta2 && !s.amsgrad;
}

}  // namespace

bool supports_fused_step(const StepInputs& inputs) {
  return inputs.x.device().is_cpu() && !inputs.loss.custom && inputs.loss.kind == Loss::Kind::mse &&
         !inputs.optimizer.factory && default_settings(inputs.optimizer) &&
         sequential_plan_of(inputs.model).plan.has_value();
}

std::unique_ptr<TrainStep> make_fused_step(const StepInputs& inputs) {
  if (!supports_fused_step(inputs)) {
    throw InputError("the fused CPU kernels do not cover this model or set-up");
  }
  return std::make_unique<FusedStep>(*sequential_plan_of(inputs.model).plan, inputs);
}

}  // namespace fitreel::detail
