#include <fitreel/data.hpp>
#include <fitreel/error.hpp>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string>

namespace fitreel {

namespace {

// The shortest text that reads back as `value` ("0.1", "nan"), for messages.
std::string number_text(double value) {
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, value).ptr;
  return {text, end};
}

}  // namespace

Dataset split_train_test(const torch::Tensor& x, const torch::Tensor& y) {
  return split_train_test(x, y, kTestFraction, std::nullopt);
}

Dataset split_train_test(const torch::Tensor& x, const torch::Tensor& y, double test_fraction,
                         std::optional<uint64_t> seed) {
  if (!(test_fraction >= 0.0 && test_fraction < 1.0)) {  // NaN fails both
    throw InputError("split_train_test's test_fraction is " + number_text(test_fraction) +
                     "; it takes a fraction from 0 (hold nothing out) up to but not including 1, "
                     "e.g. 0.2");
  }
  if (!x.defined() || !y.defined() || x.dim() == 0 || y.dim() == 0) {
    throw InputError("split_train_test needs x and y with one point per row (shape (N) or (N, 1))");
  }
  const int64_t points = x.size(0);
  if (points < kMinPoints || y.size(0) != points) {
    throw InputError("split_train_test needs at least " + std::to_string(kMinPoints) +
                     " points and as many y as x, but x has " + std::to_string(points) + " and y " +
                     std::to_string(y.size(0)));
  }
  // Python: int(test_fraction * N); the same double product truncated gives the same count.
  const auto test_count = static_cast<int64_t>(test_fraction * static_cast<double>(points));
  // A seed gets a generator of its own (as Python's torch.Generator().manual_seed(seed)), so
  // the global generator's later draws (the model's initial weights) stay as they were.
  c10::optional<at::Generator> generator;
  if (seed) {
    generator = at::make_generator<at::CPUGeneratorImpl>(*seed);
  }
  const torch::Tensor permutation = torch::randperm(points, generator);
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
