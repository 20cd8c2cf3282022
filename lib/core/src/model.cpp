#include <fitreel/error.hpp>
#include <fitreel/model.hpp>

#include <torch/torch.h>

#include <stdexcept>

namespace fitreel {

std::string_view activation_name(Activation activation) {
  switch (activation) {
    case Activation::sigmoid:
      return "sigmoid";
    case Activation::tanh:
      return "tanh";
    case Activation::relu:
      return "relu";
  }
  return "?";
}

std::optional<Activation> activation_from_name(std::string_view name) {
  for (Activation a : {Activation::sigmoid, Activation::tanh, Activation::relu}) {
    if (activation_name(a) == name) {
      return a;
    }
  }
  return std::nullopt;
}

std::string describe(const NetSpec& spec) {
  std::string shape = "1";
  for (int64_t width : spec.hidden) {
    shape += "-" + std::to_string(width);
  }
  return shape + "-1 " + std::string(activation_name(spec.activation));
}

namespace {

void push_activation(torch::nn::Sequential& model, Activation activation) {
  switch (activation) {
    case Activation::sigmoid:
      model->push_back(torch::nn::Sigmoid());
      return;
    case Activation::tanh:
      model->push_back(torch::nn::Tanh());
      return;
    case Activation::relu:
      model->push_back(torch::nn::ReLU());
      return;
  }
}

}  // namespace

torch::nn::Sequential make_net(const NetSpec& spec) {
  if (spec.hidden.empty()) {
    throw InputError("a net needs at least one hidden layer");
  }
  torch::nn::Sequential model;
  int64_t inputs = 1;
  // One statement per layer: each Linear draws its weight, then its bias, from the generator,
  // and the order of those draws is what makes the numbers match Python's.
  for (int64_t width : spec.hidden) {
    if (width < 1) {
      throw InputError("hidden layer sizes must be at least 1");
    }
    model->push_back(torch::nn::Linear(inputs, width));
    push_activation(model, spec.activation);
    inputs = width;
  }
  model->push_back(torch::nn::Linear(inputs, 1));
  return model;
}

std::vector<std::vector<float>> flat_parameters(const torch::nn::Module& model) {
  std::vector<std::vector<float>> flat;
  for (const torch::Tensor& p : model.parameters()) {
    const torch::Tensor cpu = p.detach().to(torch::kCPU, torch::kFloat32).contiguous().flatten();
    flat.emplace_back(cpu.data_ptr<float>(), cpu.data_ptr<float>() + cpu.numel());
  }
  return flat;
}

}  // namespace fitreel
