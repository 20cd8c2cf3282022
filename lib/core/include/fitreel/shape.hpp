#pragma once

#include <fitreel/error.hpp>

#include <torch/types.h>

#include <string_view>

namespace fitreel {

/// Throws ShapeError unless `tensor` is a column of samples, shape (N, 1). A 1-D tensor of N
/// values is the seed's "tensors are tricky" mistake: nn.Linear(1, 1) would read it as one
/// sample with N features, so the message says to reshape it with view({-1, 1}).
void require_column(const torch::Tensor& tensor, std::string_view name);

}  // namespace fitreel
