#include <fitreel/error.hpp>
#include <fitreel/evaluate.hpp>

#include "checks.hpp"
#include "modes.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace fitreel {

namespace {

torch::Device device_of(const ModelRef& model) {
  const auto params = model.module().parameters();
  return params.empty() ? torch::Device(torch::kCPU) : params.front().device();
}

}  // namespace

double mse(const ModelRef& model, const torch::Tensor& x, const torch::Tensor& y) {
  detail::check_samples(x, "x");
  detail::check_samples(y, "y");
  detail::check_rows(x, "x", y, "y");
  detail::check_model(model);
  if (x.size(0) == 0) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  return detail::translating_torch_errors("mse", [&] {
    const detail::Evaluating evaluating(model.module());  // eval mode, no gradients
    const torch::Device device = device_of(model);
    const torch::Tensor output = model.forward(x.to(device));
    return torch::mse_loss(output, y.to(device)).item<double>();
  });
}

Line least_squares(const torch::Tensor& x, const torch::Tensor& y) {
  if (!x.defined() || !y.defined()) {
    throw InputError("least_squares needs defined tensors x and y");
  }
  const torch::Tensor xd = x.detach().to(torch::kCPU, torch::kFloat64).flatten();
  const torch::Tensor yd = y.detach().to(torch::kCPU, torch::kFloat64).flatten();
  if (xd.numel() != yd.numel() || xd.numel() < 2) {
    throw InputError("least_squares needs at least two (x, y) pairs, but x has " +
                     std::to_string(xd.numel()) + " values and y " + std::to_string(yd.numel()));
  }
  const torch::Tensor x_centered = xd - xd.mean();
  const double spread = (x_centered * x_centered).sum().item<double>();
  if (spread == 0.0) {
    throw InputError("least_squares needs at least two distinct x values");
  }
  Line line;
  line.slope = (x_centered * (yd - yd.mean())).sum().item<double>() / spread;
  line.intercept = yd.mean().item<double>() - line.slope * xd.mean().item<double>();
  return line;
}

std::vector<float> predict(const ModelRef& model, const torch::Tensor& x) {
  detail::check_samples(x, "x");
  detail::check_model(model);
  return detail::translating_torch_errors("predict", [&] {
    const detail::Evaluating evaluating(model.module());  // Dropout off, BatchNorm's statistics
    torch::InferenceMode inference;
    const torch::Tensor output =
        model.forward(x.to(device_of(model))).to(torch::kCPU, torch::kFloat32).contiguous();
    if (output.numel() != x.size(0)) {
      throw InputError("predict: the model gave " + std::to_string(output.numel()) +
                       " outputs for " + std::to_string(x.size(0)) +
                       " inputs; fitreel fits models with one output per sample, shape (N, 1)");
    }
    return std::vector<float>(output.data_ptr<float>(), output.data_ptr<float>() + output.numel());
  });
}

UnitCurves hidden_unit_curves(const ModelRef& model, const torch::Tensor& x, int64_t count) {
  UnitCurves curves;
  const std::shared_ptr<torch::nn::SequentialImpl>& layers = model.sequential();
  if (!layers || count <= 0 || layers->size() < 2) {
    return curves;
  }
  const auto* output = layers->ptr(layers->size() - 1)->as<torch::nn::LinearImpl>();
  if (output == nullptr || output->weight.size(0) != 1) {
    return curves;
  }
  detail::check_samples(x, "x");
  return detail::translating_torch_errors("hidden_unit_curves", [&] {
    const detail::Evaluating evaluating(model.module());
    torch::InferenceMode inference;
    torch::Tensor hidden = x.to(device_of(model));
    size_t index = 0;
    for (auto& layer : *layers) {  // every layer but the output one
      if (++index == layers->size()) {
        break;
      }
      hidden = layer.forward(hidden);
    }
    const int64_t total = output->weight.size(1);
    const int64_t shown = std::min(count, total);
    // Unit i's share of the output: its activation times its outgoing weight.
    const torch::Tensor shares = (hidden * output->weight)
                                     .slice(1, 0, shown)
                                     .t()
                                     .to(torch::kCPU, torch::kFloat32)
                                     .contiguous();
    for (int64_t i = 0; i < shown; ++i) {
      const float* row = shares[i].data_ptr<float>();
      curves.units.emplace_back(row, row + shares.size(1));
    }
    curves.bias = output->bias.defined() ? output->bias.item<float>() : 0.0F;
    curves.total = total;
    return curves;
  });
}

}  // namespace fitreel
