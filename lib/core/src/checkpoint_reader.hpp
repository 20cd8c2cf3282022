#pragma once

// Internal: every tensor of a checkpoint file, for tests and tools that look at a file without
// a model to load it into.

#include <torch/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fitreel::detail {

/// What a checkpoint holds.
struct CheckpointTensors {
  std::string kind;  ///< "fitreel", "PyTorch checkpoint", "PyTorch state_dict", "fitreel 0.2"
  std::optional<std::string> architecture;                     ///< fitreel's tag, when there is one
  std::vector<std::pair<std::string, torch::Tensor>> tensors;  ///< by state_dict name
};

/// Reads `path` as load_checkpoint does (verified, weights only) and copies out every tensor.
/// Throws CheckpointError.
CheckpointTensors read_checkpoint_tensors(const std::string& path);

}  // namespace fitreel::detail
