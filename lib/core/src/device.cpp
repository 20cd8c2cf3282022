#include <fitreel/device.hpp>

#include <torch/cuda.h>
#include <torch/torch.h>

#include <cctype>
#include <string>

namespace fitreel {

namespace {

bool all_digits(std::string_view text) {
  if (text.empty() || text.size() > 3) {
    return false;
  }
  for (char c : text) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) {
      return false;
    }
  }
  return true;
}

torch::Device cuda_device(int index) {
  if (!torch::cuda::is_available()) {
    throw DeviceError("cuda:" + std::to_string(index) +
                      " was asked for, but this machine has no CUDA (no CUDA device, or a "
                      "LibTorch built without CUDA); use --device cpu or auto");
  }
  const auto count = static_cast<int>(torch::cuda::device_count());
  if (index >= count) {
    throw DeviceError("cuda:" + std::to_string(index) + " does not exist: this machine has " +
                      std::to_string(count) +
                      " CUDA device(s), cuda:0 to cuda:" + std::to_string(count - 1));
  }
  return {torch::kCUDA, static_cast<c10::DeviceIndex>(index)};
}

}  // namespace

torch::Device resolve_device(std::string_view spec) {
  if (spec == "auto") {
    return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0)
                                       : torch::Device(torch::kCPU);
  }
  if (spec == "cpu") {
    return torch::kCPU;
  }
  if (spec == "cuda") {
    return cuda_device(0);
  }
  constexpr std::string_view kCudaPrefix = "cuda:";
  if (spec.substr(0, kCudaPrefix.size()) == kCudaPrefix &&
      all_digits(spec.substr(kCudaPrefix.size()))) {
    return cuda_device(std::stoi(std::string(spec.substr(kCudaPrefix.size()))));
  }
  throw DeviceError("unknown device '" + std::string(spec) + "': use auto, cpu, cuda or cuda:N");
}

std::string device_name(const torch::Device& device) {
  if (device.is_cpu()) {
    return "cpu";
  }
  return device.type() == torch::kCUDA
             ? "cuda:" + std::to_string(device.has_index() ? device.index() : 0)
             : device.str();
}

}  // namespace fitreel
