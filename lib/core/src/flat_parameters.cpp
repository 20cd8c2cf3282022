// A model's parameters as views of one flat tensor, for the steps that update them all at once.
#include "train_step.hpp"

namespace fitreel::detail {

FlatParameters::FlatParameters(std::vector<torch::Tensor> params) : params_(std::move(params)) {
  int64_t total = 0;
  for (const auto& p : params_) {
    total += p.numel();
  }
  torch::NoGradGuard no_grad;
  values_ = torch::empty({total}, params_.front().options()).set_requires_grad(true);
  grads_ = torch::zeros({total}, params_.front().options());
  int64_t offset = 0;
  for (auto& p : params_) {
    const int64_t count = p.numel();
    const torch::Tensor slot = values_.detach().narrow(0, offset, count);
    slot.copy_(p.detach().flatten());
    p.set_data(slot.view(p.sizes()));
    grad_views_.push_back(grads_.narrow(0, offset, count).view(p.sizes()));
    offset += count;
  }
  values_.mutable_grad() = grads_;
}

FlatParameters::~FlatParameters() {
  // Give every parameter storage of its own again, so the model outlives the step intact.
  torch::NoGradGuard no_grad;
  for (auto& p : params_) {
    p.set_data(p.detach().clone());
  }
}

std::vector<ParamSlot> FlatParameters::slots() const {
  std::vector<ParamSlot> slots;
  int64_t offset = 0;
  for (const auto& p : params_) {
    slots.push_back({0, offset, p.sizes().vec()});
    offset += p.numel();
  }
  return slots;
}

}  // namespace fitreel::detail
