#include "checks.hpp"
#include "schedule_runner.hpp"

#include <fitreel/device.hpp>
#include <fitreel/shape.hpp>

#include <torch/cuda.h>
#include <torch/torch.h>

#include <cmath>
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

void check_training_setup(const TrainOptions& options) {
  const auto check = [](bool ok, const std::string& member, double value, const char* want) {
    if (!ok) {
      std::ostringstream shown;
      shown << value;
      throw InputError("TrainOptions::" + member + " is " + shown.str() + ": " + want);
    }
  };
  const OptimizerSettings& s = options.optimizer_settings;
  check(s.weight_decay >= 0.0 && std::isfinite(s.weight_decay), "optimizer_settings.weight_decay",
        s.weight_decay, "give a penalty >= 0");
  check(s.momentum >= 0.0 && std::isfinite(s.momentum), "optimizer_settings.momentum", s.momentum,
        "give a momentum >= 0 (e.g. 0.9)");
  check(std::isfinite(s.dampening), "optimizer_settings.dampening", s.dampening,
        "give a finite dampening");
  if (s.nesterov) {
    check(s.momentum > 0.0 && s.dampening == 0.0, "optimizer_settings.momentum", s.momentum,
          "nesterov needs momentum > 0 and dampening 0, as torch.optim.SGD says");
  }
  check(s.lr_decay >= 0.0 && std::isfinite(s.lr_decay), "optimizer_settings.lr_decay", s.lr_decay,
        "give a decay >= 0");
  check(s.initial_accumulator_value >= 0.0 && std::isfinite(s.initial_accumulator_value),
        "optimizer_settings.initial_accumulator_value", s.initial_accumulator_value,
        "give a value >= 0");
  if (s.eps) {
    check(*s.eps >= 0.0 && std::isfinite(*s.eps), "optimizer_settings.eps", *s.eps,
          "give an epsilon >= 0 (e.g. 1e-8)");
  }
  check(s.beta1 >= 0.0 && s.beta1 < 1.0, "optimizer_settings.beta1", s.beta1,
        "give a value in [0, 1) (e.g. 0.9)");
  check(s.beta2 >= 0.0 && s.beta2 < 1.0, "optimizer_settings.beta2", s.beta2,
        "give a value in [0, 1) (e.g. 0.999)");
  check(options.loss.huber_delta > 0.0 && std::isfinite(options.loss.huber_delta),
        "loss.huber_delta", options.loss.huber_delta, "give a delta > 0 (e.g. 1)");
  check(options.batch_size >= 0, "batch_size", static_cast<double>(options.batch_size),
        "give the samples per step, or 0 for the full batch");
  check_schedule(options.lr_schedule, "TrainOptions::lr_schedule");
  if (options.resume) {
    check(options.resume->epochs_done >= 0, "resume->epochs_done",
          static_cast<double>(options.resume->epochs_done), "give the epochs done, >= 0");
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

bool is_out_of_memory(const c10::Error& error) {
  const std::string text = first_line(error);
  return text.find("can't allocate memory") != std::string::npos ||
         text.find("out of memory") != std::string::npos;
}

}  // namespace fitreel::detail
