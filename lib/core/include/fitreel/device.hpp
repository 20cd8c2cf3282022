#pragma once

#include <fitreel/error.hpp>

#include <torch/types.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace fitreel {

/// Resolves "auto" (CUDA when available, else CPU), "cpu", "cuda" (= cuda:0) or "cuda:N".
/// Throws DeviceError for anything else, for CUDA without CUDA, and for N past the device count.
torch::Device resolve_device(std::string_view spec);

/// "cpu" or "cuda:N" (always with an index), as summary.json reports it.
std::string device_name(const torch::Device& device);

}  // namespace fitreel
