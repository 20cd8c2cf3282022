#include <fitreel/data.hpp>

#include <torch/torch.h>

#include <stdexcept>
#include <string>

namespace fitreel {

Dataset split_train_test(const torch::Tensor& x, const torch::Tensor& y) {
  const int64_t points = x.size(0);
  if (points < kMinPoints || y.size(0) != points) {
    throw std::invalid_argument("split_train_test needs at least " + std::to_string(kMinPoints) +
                                " points and as many y as x");
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

Dataset make_noisy_line(int64_t points) {
  if (points < kMinPoints) {
    throw std::invalid_argument("the line demo needs at least " + std::to_string(kMinPoints) +
                                " points");
  }
  const torch::Tensor x = torch::arange(points, torch::kFloat32);
  const torch::Tensor noise = torch::rand({points}) * 10 - 5;  // uniform(-5, 5), as the seed
  const torch::Tensor y = kTrueSlope * x + kTrueIntercept + noise;
  return split_train_test(x, y);
}

Dataset make_identity(int64_t points) {
  if (points < 1) {
    throw std::invalid_argument("the net demo needs at least one point");
  }
  const torch::Tensor x = torch::arange(points, torch::kFloat32).view({-1, 1});
  const torch::Tensor empty = torch::empty({0, 1}, torch::kFloat32);
  return Dataset{x, x.clone(), empty, empty.clone()};
}

std::vector<double> values_of(const torch::Tensor& tensor) {
  const torch::Tensor flat =
      tensor.detach().to(torch::kCPU, torch::kFloat64).contiguous().flatten();
  return {flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel()};
}

}  // namespace fitreel
