#pragma once

// A deep copy of a model (its own parameters), to train beside the original.

#include <torch/torch.h>

#include <memory>

namespace fitreel::testing_support {

inline torch::nn::Sequential copy_of(const torch::nn::Sequential& model) {
  return torch::nn::Sequential(
      std::dynamic_pointer_cast<torch::nn::SequentialImpl>(model->clone()));
}

}  // namespace fitreel::testing_support
