#include <fitreel/demos.hpp>
#include <fitreel/error.hpp>

#include <torch/torch.h>

namespace fitreel::demos {

Dataset make_noisy_line(int64_t points) {
  if (points < kMinPoints) {
    throw InputError("the line demo needs at least " + std::to_string(kMinPoints) + " points");
  }
  const torch::Tensor x = torch::arange(points, torch::kFloat32);
  const torch::Tensor noise = torch::rand({points}) * 10 - 5;  // uniform(-5, 5), as the seed
  const torch::Tensor y = kTrueSlope * x + kTrueIntercept + noise;
  return split_train_test(x, y);
}

Dataset make_identity(int64_t points) {
  if (points < 1) {
    throw InputError("the net demo needs at least one point");
  }
  const torch::Tensor x = torch::arange(points, torch::kFloat32).view({-1, 1});
  const torch::Tensor empty = torch::empty({0, 1}, torch::kFloat32);
  return Dataset{x, x.clone(), empty, empty.clone()};
}

torch::nn::Sequential make_line_model() {
  torch::nn::Sequential model;
  model->push_back(torch::nn::Linear(1, 1));
  return model;
}

}  // namespace fitreel::demos
