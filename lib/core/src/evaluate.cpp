#include <fitreel/evaluate.hpp>

#include <torch/torch.h>

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
  if (x.size(0) == 0) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  torch::NoGradGuard no_grad;
  const torch::Device device = device_of(model);
  const torch::Tensor output = model.forward(x.to(device));
  return torch::mse_loss(output, y.to(device)).item<double>();
}

Line least_squares(const torch::Tensor& x, const torch::Tensor& y) {
  const torch::Tensor xd = x.detach().to(torch::kCPU, torch::kFloat64).flatten();
  const torch::Tensor yd = y.detach().to(torch::kCPU, torch::kFloat64).flatten();
  if (xd.numel() != yd.numel() || xd.numel() < 2) {
    throw std::invalid_argument("least_squares needs at least two (x, y) pairs");
  }
  const torch::Tensor x_centered = xd - xd.mean();
  const double spread = (x_centered * x_centered).sum().item<double>();
  if (spread == 0.0) {
    throw std::invalid_argument("least_squares needs at least two distinct x values");
  }
  Line line;
  line.slope = (x_centered * (yd - yd.mean())).sum().item<double>() / spread;
  line.intercept = yd.mean().item<double>() - line.slope * xd.mean().item<double>();
  return line;
}

std::vector<float> predict(const ModelRef& model, const torch::Tensor& x) {
  torch::InferenceMode inference;
  const torch::Tensor output =
      model.forward(x.to(device_of(model))).to(torch::kCPU, torch::kFloat32).contiguous();
  return {output.data_ptr<float>(), output.data_ptr<float>() + output.numel()};
}

}  // namespace fitreel
