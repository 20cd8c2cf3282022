#include "train_step.hpp"

#include <fitreel/error.hpp>

namespace fitreel::detail {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(OptimizerKind kind,
                                                        std::vector<torch::Tensor> params,
                                                        double lr) {
  switch (kind) {
    case OptimizerKind::adagrad:
      return std::make_unique<torch::optim::Adagrad>(std::move(params),
                                                     torch::optim::AdagradOptions(lr));
    case OptimizerKind::sgd:
      return std::make_unique<torch::optim::SGD>(std::move(params), torch::optim::SGDOptions(lr));
    case OptimizerKind::adam:
      return std::make_unique<torch::optim::Adam>(std::move(params), torch::optim::AdamOptions(lr));
  }
  throw InputError("unknown optimizer");
}

namespace {

class AutogradStep final : public TrainStep {
 public:
  explicit AutogradStep(const StepInputs& inputs)
      : model_(inputs.model),
        params_(model_.module().parameters()),
        optimizer_(make_optimizer(inputs.optimizer, params_, inputs.lr)),
        x_(inputs.x),
        y_(inputs.y) {}

  torch::Tensor run() override {
    // Setting gradients to "none" instead of zeroing them saves one kernel per parameter
    // (the default of zero_grad() in LibTorch 2.x, spelled out so 1.13 does the same).
    for (auto& p : params_) {
      p.mutable_grad().reset();
    }
    torch::Tensor loss = torch::mse_loss(model_.forward(x_), y_);
    loss.backward();
    optimizer_->step();
    return loss.detach();
  }

 private:
  ModelRef model_;
  std::vector<torch::Tensor> params_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  torch::Tensor x_, y_;
};

}  // namespace

std::unique_ptr<TrainStep> make_autograd_step(const StepInputs& inputs) {
  return std::make_unique<AutogradStep>(inputs);
}

}  // namespace fitreel::detail
