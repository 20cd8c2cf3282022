// The architectures train_batched() covers, and the stacked parameter layout.
#include "batched_step.hpp"

#include <torch/torch.h>

namespace fitreel::detail {

namespace {

std::string layer_name(const BatchedLayer& layer) {
  switch (layer.kind) {
    case BatchedLayerKind::linear:
      return "Linear(" + std::to_string(layer.in) + ", " + std::to_string(layer.out) + ")";
    case BatchedLayerKind::sigmoid:
      return "Sigmoid";
    case BatchedLayerKind::tanh:
      return "Tanh";
    case BatchedLayerKind::relu:
      return "ReLU";
  }
  return "?";
}

}  // namespace

std::string BatchedPlan::describe() const {
  std::string text;
  for (const BatchedLayer& layer : layers) {
    text += (text.empty() ? "" : " ") + layer_name(layer);
  }
  return text;
}

PlanOrReason batched_plan_of(const ModelRef& model) {
  if (model.sequential() == nullptr) {
    return {std::nullopt, "it is not a torch::nn::Sequential"};
  }
  BatchedPlan plan;
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
      plan.layers.push_back({BatchedLayerKind::linear, in, out, plan.param_shapes.size()});
      plan.param_shapes.push_back({out, in});
      plan.param_shapes.push_back({out});
      width = out;
    } else if (child->as<torch::nn::Sigmoid>() != nullptr) {
      plan.layers.push_back({BatchedLayerKind::sigmoid});
    } else if (child->as<torch::nn::Tanh>() != nullptr) {
      plan.layers.push_back({BatchedLayerKind::tanh});
    } else if (child->as<torch::nn::ReLU>() != nullptr) {
      plan.layers.push_back({BatchedLayerKind::relu});
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

StackedParameters::StackedParameters(const std::vector<std::vector<int64_t>>& shapes,
                                     int64_t models, const torch::TensorOptions& options)
    : models_(models), shapes_(shapes) {
  int64_t total = 0;
  for (const auto& shape : shapes_) {
    total += models_ * c10::multiply_integers(shape);
  }
  flat_ = torch::zeros({total}, options);
  blocks_ = blocks_of(flat_);
}

torch::Tensor StackedParameters::like(float fill) const { return torch::full_like(flat_, fill); }

std::vector<torch::Tensor> StackedParameters::blocks_of(const torch::Tensor& flat) const {
  std::vector<torch::Tensor> blocks;
  int64_t offset = 0;
  for (const auto& shape : shapes_) {
    std::vector<int64_t> stacked{models_};
    stacked.insert(stacked.end(), shape.begin(), shape.end());
    const int64_t count = models_ * c10::multiply_integers(shape);
    blocks.push_back(flat.narrow(0, offset, count).view(stacked));
    offset += count;
  }
  return blocks;
}

torch::Tensor StackedParameters::per_model(const torch::Tensor& per_model) const {
  torch::Tensor spread = torch::empty_like(flat_, per_model.options());
  for (const torch::Tensor& block : blocks_of(spread)) {
    block.view({models_, -1})
        .copy_(per_model.view({models_, 1}).expand({models_, block[0].numel()}));
  }
  return spread;
}

std::vector<std::vector<float>> StackedParameters::model_values(int64_t k) const {
  std::vector<std::vector<float>> values;
  for (const torch::Tensor& block : blocks_) {
    const torch::Tensor one = block[k].to(torch::kCPU).contiguous().flatten();
    values.emplace_back(one.data_ptr<float>(), one.data_ptr<float>() + one.numel());
  }
  return values;
}

}  // namespace fitreel::detail
