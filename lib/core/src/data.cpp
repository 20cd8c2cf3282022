#include <fitreel/data.hpp>
#include <fitreel/error.hpp>

#include <torch/torch.h>

#include <stdexcept>
#include <string>

namespace fitreel {

Dataset split_train_test(const torch::Tensor& x, const torch::Tensor& y) {
  if (!x.defined() || !y.defined() || x.dim() == 0 || y.dim() == 0) {
    throw InputError("split_train_test needs x and y with one point per row (shape (N) or (N, 1))");
  }
  const int64_t points = x.size(0);
  if (points < kMinPoints || y.size(0) != points) {
    throw InputError("split_train_test needs at least " + std::to_string(kMinPoints) +
                     " points and as many y as x, but x has " + std::to_string(points) + " and y " +
                     std::to_string(y.size(0)));
  }
  // Python: int(0.2 * N); the same double product truncated gives the same count.
  const auto test_count = static_cast<int64_t>(kTestFraction * static_cast<double>(points));
  const torch::Tensor permutation = torch::randperm(points);
  const torch::Tensor test_index = permutation.slice(0, 0, test_count);
  const torch::Tensor train_index = std::get<0>(torch::sort(permutation.slice(0, test_count)));
  return Dataset{
      x.index_select(0, train_index).view({-1, 1}),
      y.index_select(0, train_index).view({-1, 1}),
      x.index_select(0, test_index).view({-1, 1}),
      y.index_select(0, test_index).view({-1, 1}),
  };
}

std::vector<double> values_of(const torch::Tensor& tensor) {
  if (!tensor.defined()) {
    return {};
  }
  const torch::Tensor flat =
      tensor.detach().to(torch::kCPU, torch::kFloat64).contiguous().flatten();
  return {flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel()};
}

}  // namespace fitreel
