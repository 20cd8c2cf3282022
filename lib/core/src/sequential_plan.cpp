// The one walk over a Sequential that the analytic step and the batched trainer share.
#include "sequential_plan.hpp"

#include <torch/torch.h>

namespace fitreel::detail {

namespace {

std::string layer_name(const PlanLayer& layer) {
  switch (layer.kind) {
    case LayerKind::linear:
      return "Linear(" + std::to_string(layer.in) + ", " + std::to_string(layer.out) + ")";
    case LayerKind::sigmoid:
      return "Sigmoid";
    case LayerKind::tanh:
      return "Tanh";
    case LayerKind::relu:
      return "ReLU";
  }
  return "?";
}

}  // namespace

std::string SequentialPlan::describe() const {
  std::string text;
  for (const PlanLayer& layer : layers) {
    text += (text.empty() ? "" : " ") + layer_name(layer);
  }
  return text;
}

PlanOrReason sequential_plan_of(const ModelRef& model) {
  if (model.sequential() == nullptr) {
    return {std::nullopt, "it is not a torch::nn::Sequential"};
  }
  SequentialPlan plan;
  int64_t width = 1;  // x is (N, 1): the first Linear takes one input
  for (const auto& child : model.sequential()->children()) {
    if (const auto* linear = child->as<torch::nn::Linear>()) {
      if (!linear->bias.defined()) {
        return {std::nullopt, "a Linear layer has no bias"};
      }
      const int64_t in = linear->weight.size(1);
      const int64_t out = linear->weight.size(0);
      if (in != width) {
        return {std::nullopt, "a Linear layer takes " + std::to_string(in) + " inputs where " +
                                  std::to_string(width) + " arrive"};
      }
      plan.layers.push_back({LayerKind::linear, in, out, plan.param_shapes.size()});
      plan.param_shapes.push_back({out, in});
      plan.param_shapes.push_back({out});
      width = out;
    } else if (child->as<torch::nn::Sigmoid>() != nullptr) {
      plan.layers.push_back({LayerKind::sigmoid});
    } else if (child->as<torch::nn::Tanh>() != nullptr) {
      plan.layers.push_back({LayerKind::tanh});
    } else if (child->as<torch::nn::ReLU>() != nullptr) {
      plan.layers.push_back({LayerKind::relu});
    } else {
      return {std::nullopt, "it has a layer other than Linear, Sigmoid, Tanh or ReLU"};
    }
  }
  if (plan.param_shapes.empty()) {
    return {std::nullopt, "it has no Linear layer"};
  }
  if (width != 1) {
    return {std::nullopt,
            "its last Linear layer gives " + std::to_string(width) + " outputs where y has 1"};
  }
  if (model.module().parameters().size() != plan.param_shapes.size()) {
    return {std::nullopt, "it has parameters outside its Linear layers"};
  }
  for (const torch::Tensor& p : model.module().parameters()) {
    if (p.scalar_type() != torch::kFloat32) {
      return {std::nullopt, "its parameters are not float32"};
    }
  }
  return {std::move(plan), {}};
}

}  // namespace fitreel::detail
