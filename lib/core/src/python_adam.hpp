#pragma once

// Internal: the Adam that steps as this platform's Python torch.optim.Adam steps (the tests'
// hand loops use it too).

#include <torch/torch.h>
#include <torch/version.h>

#include <cmath>

namespace fitreel::detail {

#if TORCH_VERSION_MAJOR >= 2
// torch.optim.Adam from PyTorch 2.0 on moves exp_avg toward the gradient with lerp_ (one
// rounding of self + w * (end - self)); LibTorch's C++ Adam still multiplies, then adds (two
// roundings), as PyTorch 1.13 did in both languages. Over thousands of steps the two drift
// apart by ~1e-3, so a 2.x build steps Adam as Python 2.x does: LibTorch's Adam::step with that
// one line changed (same state, same layout, same order of operations).
class PythonAdam : public torch::optim::Adam {
 public:
  using torch::optim::Adam::Adam;

  torch::Tensor step(LossClosure closure = nullptr) override {
    // LibTorch 2.x keys per-parameter state by the parameter's TensorImpl pointer.
    const auto key_of = [](const torch::Tensor& p) {
      return static_cast<void*>(p.unsafeGetTensorImpl());
    };
    torch::NoGradGuard no_grad;
    torch::Tensor loss;
    if (closure != nullptr) {
      at::AutoGradMode enable_grad(true);
      loss = closure();
    }
    for (auto& group : param_groups_) {
      auto& options = static_cast<torch::optim::AdamOptions&>(group.options());
      for (auto& p : group.params()) {
        if (!p.grad().defined()) continue;
        torch::Tensor grad = p.grad();
        auto found = state_.find(key_of(p));
        if (found == state_.end()) {
          auto fresh = std::make_unique<torch::optim::AdamParamState>();
          fresh->step(0);
          fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
          fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
          if (options.amsgrad()) {
            fresh->max_exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
          }
          found = state_.emplace(key_of(p), std::move(fresh)).first;
        }
        auto& state = static_cast<torch::optim::AdamParamState&>(*found->second);
        state.step(state.step() + 1);
        const auto [beta1, beta2] = options.betas();
        const double correction1 = 1 - std::pow(beta1, static_cast<double>(state.step()));
        const double correction2 = 1 - std::pow(beta2, static_cast<double>(state.step()));
        if (options.weight_decay() != 0) {
          grad = grad.add(p, options.weight_decay());
        }
        state.exp_avg().lerp_(grad, 1 - beta1);  // Python 2.x; LibTorch: mul_(beta1).add_(...)
        state.exp_avg_sq().mul_(beta2).addcmul_(grad, grad, 1 - beta2);
        torch::Tensor denom;
        if (options.amsgrad()) {
          at::maximum_out(state.max_exp_avg_sq(), state.max_exp_avg_sq(), state.exp_avg_sq());
          denom = (state.max_exp_avg_sq().sqrt() / std::sqrt(correction2)).add_(options.eps());
        } else {
          denom = (state.exp_avg_sq().sqrt() / std::sqrt(correction2)).add_(options.eps());
        }
        p.addcdiv_(state.exp_avg(), denom, -options.lr() / correction1);
      }
    }
    return loss;
  }
};
using AdamOfThisPython = PythonAdam;
#else
using AdamOfThisPython = torch::optim::Adam;
#endif

}  // namespace fitreel::detail
