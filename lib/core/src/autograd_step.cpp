#include "train_step.hpp"

#include <fitreel/error.hpp>

namespace fitreel::detail {

torch::Tensor loss_of(const Loss& loss, const torch::Tensor& prediction,
                      const torch::Tensor& target) {
  if (loss.custom) {
    torch::Tensor value = loss.custom(prediction, target);
    if (!value.defined() || value.numel() != 1) {
      throw InputError("Loss::custom must return one value (a 0-dim tensor), not " +
                       std::string(value.defined() ? std::to_string(value.numel()) + " values"
                                                   : "an undefined tensor"));
    }
    return value.reshape({});
  }
  switch (loss.kind) {
    case Loss::Kind::mse:
      return torch::mse_loss(prediction, target);
    case Loss::Kind::l1:
      return torch::l1_loss(prediction, target);
    case Loss::Kind::huber:
      return torch::huber_loss(prediction, target, at::Reduction::Mean, loss.huber_delta);
  }
  throw InputError("unknown loss");
}

namespace {

// Each model parameter is one of the optimizer's own.
std::vector<ParamSlot> own_slots(const std::vector<torch::Tensor>& params) {
  std::vector<ParamSlot> slots;
  for (std::size_t i = 0; i < params.size(); ++i) {
    slots.push_back({i, 0, params[i].sizes().vec()});
  }
  return slots;
}

class AutogradStep final : public TrainStep {
 public:
  explicit AutogradStep(const StepInputs& inputs)
      : model_(inputs.model),
        params_(model_.module().parameters()),
        optimizer_(inputs.optimizer, params_, own_slots(params_)),
        loss_(inputs.loss),
        x_(inputs.x),
        y_(inputs.y) {}

  torch::Tensor run() override { return run(x_, y_); }

  torch::Tensor run(const torch::Tensor& x, const torch::Tensor& y) override {
    // Setting gradients to "none" instead of zeroing them saves one kernel per parameter
    // (the default of zero_grad() in LibTorch 2.x, spelled out so 1.13 does the same).
    for (auto& p : params_) {
      p.mutable_grad().reset();
    }
    torch::Tensor loss = loss_of(loss_, model_.forward(x), y);
    loss.backward();
    optimizer_.step();
    return loss.detach();
  }

  StepOptimizer& optimizer() override { return optimizer_; }

 private:
  ModelRef model_;
  std::vector<torch::Tensor> params_;
  StepOptimizer optimizer_;
  Loss loss_;
  torch::Tensor x_, y_;
};

}  // namespace

std::unique_ptr<TrainStep> make_autograd_step(const StepInputs& inputs) {
  return std::make_unique<AutogradStep>(inputs);
}

}  // namespace fitreel::detail
