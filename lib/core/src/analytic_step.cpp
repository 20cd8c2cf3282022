#include "sequential_plan.hpp"
#include "train_step.hpp"

#include <fitreel/error.hpp>

#include <ATen/core/Reduction.h>

#include <stdexcept>
#include <vector>

namespace fitreel::detail {

namespace {

struct Layer {
  LayerKind kind;
  torch::Tensor weight, bias;            // linear layers only
  torch::Tensor weight_grad, bias_grad;  // where this layer's gradients are written
};

// The plan's layers with the module's own parameters (parameters() order is the plan's).
std::vector<Layer> layers_of(const SequentialPlan& plan, const ModelRef& model) {
  const std::vector<torch::Tensor> params = model.module().parameters();
  std::vector<Layer> layers;
  for (const PlanLayer& layer : plan.layers) {
    if (layer.kind == LayerKind::linear) {
      layers.push_back(
          {layer.kind, params[layer.weight_param], params[layer.weight_param + 1], {}, {}});
    } else {
      layers.push_back({layer.kind, {}, {}, {}, {}});
    }
  }
  return layers;
}

// Autograd records a graph in the forward pass and walks it in backward(); for a 1-2-1 net on
// 100 points that bookkeeping costs several times the arithmetic. This step computes the same
// gradients with the same ATen kernels autograd's derivative formulas call (the tests check
// the numbers against loss.backward()) at a fraction of the cost.
class AnalyticStep final : public TrainStep {
 public:
  AnalyticStep(std::vector<Layer> layers, const StepInputs& inputs)
      : layers_(std::move(layers)),
        flat_(inputs.model.module().parameters()),
        optimizer_(inputs.optimizer, {flat_.values()}, flat_.slots()),
        x_(inputs.x),
        y_(inputs.y),
        values_(layers_.size() + 1),
        loss_seed_(torch::ones({}, x_.options())) {
    size_t param = 0;  // parameters() lists each Linear's weight, then its bias
    for (Layer& layer : layers_) {
      if (layer.kind == LayerKind::linear) {
        layer.weight_grad = flat_.grad_view(param++);
        layer.bias_grad = flat_.grad_view(param++);
      }
    }
  }

  torch::Tensor run() override { return run(x_, y_); }

  torch::Tensor run(const torch::Tensor& x, const torch::Tensor& y) override {
    torch::NoGradGuard no_grad;
    // Forward, keeping each layer's input (values_[i]) and the output (values_.back()).
    values_[0] = x;
    for (size_t i = 0; i < layers_.size(); ++i) {
      const Layer& layer = layers_[i];
      const torch::Tensor& in = values_[i];
      switch (layer.kind) {
        case LayerKind::linear:  // what torch::nn::functional::linear does for a 2-D input
          values_[i + 1] = torch::addmm(layer.bias, in, layer.weight.t());
          break;
        case LayerKind::sigmoid:
          values_[i + 1] = torch::sigmoid(in);
          break;
        case LayerKind::tanh:
          values_[i + 1] = torch::tanh(in);
          break;
        case LayerKind::relu:
          values_[i + 1] = torch::relu(in);
          break;
      }
    }
    const torch::Tensor& output = values_.back();
    torch::Tensor loss = torch::mse_loss(output, y);

    // Backward: d loss / d output, then the chain rule layer by layer, last to first.
    torch::Tensor grad = at::mse_loss_backward(loss_seed_, output, y, at::Reduction::Mean);
    for (size_t i = layers_.size(); i-- > 0;) {
      Layer& layer = layers_[i];
      switch (layer.kind) {
        case LayerKind::linear:
          torch::mm_out(layer.weight_grad, grad.t(), values_[i]);
          torch::sum_out(layer.bias_grad, grad, kSampleDim);
          if (i > 0) {
            grad = grad.mm(layer.weight);
          }
          break;
        case LayerKind::sigmoid:
          grad = at::sigmoid_backward(grad, values_[i + 1]);
          break;
        case LayerKind::tanh:
          grad = at::tanh_backward(grad, values_[i + 1]);
          break;
        case LayerKind::relu:
          grad = at::threshold_backward(grad, values_[i + 1], 0);
          break;
      }
    }
    optimizer_.step();
    return loss;
  }

  StepOptimizer& optimizer() override { return optimizer_; }

 private:
  static constexpr int64_t kSampleDims[] = {0};
  static inline const c10::IntArrayRef kSampleDim{kSampleDims};

  std::vector<Layer> layers_;
  FlatParameters flat_;
  StepOptimizer optimizer_;
  torch::Tensor x_, y_;
  std::vector<torch::Tensor> values_;
  torch::Tensor loss_seed_;  // d loss / d loss = 1, where backward() starts
};

}  // namespace

bool supports_analytic_gradients(const ModelRef& model) {
  return sequential_plan_of(model).plan.has_value();
}

bool supports_analytic_step(const StepInputs& inputs) {
  // The chain rule here starts from the MSE's gradient; a user's optimizer may treat the
  // parameters as separate tensors (per-layer rates), which the one flat tensor would not be.
  return supports_analytic_gradients(inputs.model) && !inputs.loss.custom &&
         inputs.loss.kind == Loss::Kind::mse && !inputs.optimizer.factory;
}

std::unique_ptr<TrainStep> make_analytic_step(const StepInputs& inputs) {
  const PlanOrReason planned = sequential_plan_of(inputs.model);
  if (!planned.plan || !supports_analytic_step(inputs)) {
    throw InputError(
        "analytic gradients need a Sequential of Linear layers (with bias) and "
        "sigmoid/tanh/relu activations, the MSE loss and a named optimizer" +
        (planned.plan ? std::string() : " (this model: " + planned.reason + ")"));
  }
  return std::make_unique<AnalyticStep>(layers_of(*planned.plan, inputs.model), inputs);
}

}  // namespace fitreel::detail
