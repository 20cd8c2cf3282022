#pragma once

#include <torch/nn/modules/container/sequential.h>

#include <stdexcept>
#include <string>

namespace fitreel {

/// A checkpoint could not be read: missing, truncated, or made for another architecture.
class CheckpointError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Saves `model`'s parameters with torch::save, tagged with `architecture` (e.g. "1-2-1
/// sigmoid"), through a temporary file and a rename: FILE is complete or untouched.
void save_checkpoint(torch::nn::Sequential& model, const std::string& architecture,
                     const std::string& path);

/// Loads parameters saved by save_checkpoint into `model`, which must have the same
/// `architecture` (tag and every parameter's shape). Throws CheckpointError otherwise, leaving
/// the model as it was.
void load_checkpoint(torch::nn::Sequential& model, const std::string& architecture,
                     const std::string& path);

}  // namespace fitreel
