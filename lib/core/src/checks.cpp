#include "checks.hpp"

#include <fitreel/device.hpp>
#include <fitreel/shape.hpp>

#include <torch/cuda.h>
#include <torch/torch.h>

#include <limits>
#include <sstream>

namespace fitreel::detail {

namespace {

std::string dtype_name(const torch::Tensor& tensor) {
  std::ostringstream text;
  text << tensor.scalar_type();
  return text.str();
}

}  // namespace

void check_learning_rate(double lr, const std::string& name) {
  const auto as_float = static_cast<float>(lr);
  if (!(lr > 0.0) || !(lr <= std::numeric_limits<float>::max()) || !(as_float > 0.0F)) {
    std::ostringstream shown;
    shown << lr;
    throw InputError(name + " is " + shown.str() +
                     ": a learning rate must be greater than 0 and fit float32 (1.4e-45 to "
                     "3.4e38), as training computes in float32");
  }
}

void check_samples(const torch::Tensor& tensor, std::string_view name) {
  require_column(tensor, name);
  if (tensor.scalar_type() != torch::kFloat32) {
    throw InputError(std::string(name) + " is " + dtype_name(tensor) +
                     ", but fitreel's models compute in float32: pass " + std::string(name) +
                     ".to(torch::kFloat32)");
  }
}

void check_rows(const torch::Tensor& x, std::string_view x_name, const torch::Tensor& y,
                std::string_view y_name, int64_t min_rows) {
  if (x.size(0) != y.size(0)) {
    throw InputError(std::string(x_name) + " has " + std::to_string(x.size(0)) + " rows but " +
                     std::string(y_name) + " has " + std::to_string(y.size(0)) +
                     ": every x needs its y, row for row");
  }
  if (x.size(0) < min_rows) {
    throw InputError(std::string(x_name) + " has " + std::to_string(x.size(0)) +
                     " rows; at least " + std::to_string(min_rows) + " are needed");
  }
}

void check_finite(const torch::Tensor& tensor, std::string_view name) {
  const torch::Tensor bad = torch::isfinite(tensor).logical_not().flatten();
  const int64_t count = bad.sum().item<int64_t>();
  if (count == 0) {
    return;
  }
  const int64_t first = bad.nonzero().flatten()[0].item<int64_t>();
  throw InputError(std::string(name) + " holds " + std::to_string(count) +
                   " value(s) that are NaN or infinite, the first in row " + std::to_string(first) +
                   ": drop or repair those rows before training");
}

void check_model(const ModelRef& model) {
  for (const auto& named : model.module().named_parameters()) {
    if (named.value().scalar_type() != torch::kFloat32) {
      throw InputError("the model's parameter '" + named.key() + "' is " +
                       dtype_name(named.value()) +
                       ", but fitreel computes in float32: call model->to(torch::kFloat32)");
    }
  }
}

void check_device(const torch::Device& device, std::string_view name) {
  if (device.is_cpu()) {
    return;
  }
  if (!device.is_cuda()) {
    throw DeviceError(std::string(name) + " is " + device.str() +
                      ", but fitreel trains on the CPU or CUDA only: use torch::kCPU");
  }
  const int64_t count = torch::cuda::is_available() ? torch::cuda::device_count() : 0;
  if (count == 0) {
    throw DeviceError(std::string(name) + " is " + device.str() +
                      ", but this machine has no CUDA (no CUDA device, or a LibTorch built "
                      "without CUDA): use torch::kCPU");
  }
  if (device.has_index() && device.index() >= count) {
    throw DeviceError(std::string(name) + " is " + device.str() + ", but this machine has " +
                      std::to_string(count) +
                      " CUDA device(s): use cuda:0 to cuda:" + std::to_string(count - 1));
  }
}

std::string first_line(const c10::Error& error) {
  const std::string text = error.what_without_backtrace();
  return text.substr(0, text.find('\n'));
}

}  // namespace fitreel::detail
