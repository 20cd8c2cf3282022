// K models' parameters stacked parameter by parameter (batched/batched_epoch.hpp).
#include "batched/batched_epoch.hpp"

#include <torch/torch.h>

namespace fitreel::detail {

StackedParameters::StackedParameters(const std::vector<std::vector<int64_t>>& shapes,
                                     int64_t models, const torch::TensorOptions& options)
    : models_(models), shapes_(shapes) {
  int64_t total = 0;
  for (const auto& shape : shapes_) {
    total += models_ * c10::multiply_integers(shape);
  }
  flat_ = torch::zeros({total}, options);
  blocks_ = blocks_of(flat_);
}

torch::Tensor StackedParameters::like(float fill) const { return torch::full_like(flat_, fill); }

std::vector<torch::Tensor> StackedParameters::blocks_of(const torch::Tensor& flat) const {
  std::vector<torch::Tensor> blocks;
  int64_t offset = 0;
  for (const auto& shape : shapes_) {
    std::vector<int64_t> stacked{models_};
    stacked.insert(stacked.end(), shape.begin(), shape.end());
    const int64_t count = models_ * c10::multiply_integers(shape);
    blocks.push_back(flat.narrow(0, offset, count).view(stacked));
    offset += count;
  }
  return blocks;
}

torch::Tensor StackedParameters::per_model(const torch::Tensor& per_model) const {
  torch::Tensor spread = torch::empty_like(flat_, per_model.options());
  for (const torch::Tensor& block : blocks_of(spread)) {
    block.view({models_, -1})
        .copy_(per_model.view({models_, 1}).expand({models_, block[0].numel()}));
  }
  return spread;
}

std::vector<std::vector<float>> StackedParameters::model_values(int64_t k) const {
  std::vector<std::vector<float>> values;
  for (const torch::Tensor& block : blocks_) {
    const torch::Tensor one = block[k].to(torch::kCPU).contiguous().flatten();
    values.emplace_back(one.data_ptr<float>(), one.data_ptr<float>() + one.numel());
  }
  return values;
}

}  // namespace fitreel::detail
