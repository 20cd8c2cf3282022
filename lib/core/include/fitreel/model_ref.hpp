#pragma once

// Any model fitreel can train, evaluate and save: a module with forward(Tensor) -> Tensor,
// passed as the user holds it.

#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

namespace fitreel {

/// A handle to the caller's model, made implicitly from what users hold:
/// - a module holder (`Net` after `TORCH_MODULE(Net)`, torch::nn::Linear, torch::nn::Sequential),
/// - a torch::nn::AnyModule,
/// - a std::shared_ptr to a torch::nn::Module subclass with `Tensor forward(Tensor)`.
/// It shares the module: training through it changes the caller's model. A Sequential of
/// Linear layers and sigmoid/tanh/relu trains with hand-derived gradients (the fast path);
/// anything else through autograd.
class ModelRef {
 public:
  template <class Impl>
  ModelRef(const torch::nn::ModuleHolder<Impl>& holder)  // NOLINT: implicit by design
      : ModelRef(holder.ptr()) {}

  template <class Impl, class = std::enable_if_t<std::is_base_of_v<torch::nn::Module, Impl>>>
  ModelRef(std::shared_ptr<Impl> impl)  // NOLINT: implicit by design
      : module_(impl), forward_([raw = impl.get()](const torch::Tensor& x) {
          return torch::Tensor(raw->forward(x));
        }) {
    if constexpr (std::is_base_of_v<torch::nn::SequentialImpl, Impl>) {
      sequential_ = impl;
    }
  }

  ModelRef(torch::nn::AnyModule any)  // NOLINT: implicit by design
      : module_(any.ptr()),
        forward_([any](const torch::Tensor& x) mutable { return any.forward<torch::Tensor>(x); }) {}

  /// The module itself (parameters, train()/eval(), to()).
  torch::nn::Module& module() const { return *module_; }
  /// Its shared pointer.
  const std::shared_ptr<torch::nn::Module>& shared() const { return module_; }
  /// Runs the model's forward on x.
  torch::Tensor forward(const torch::Tensor& x) const { return forward_(x); }
  /// The model as a Sequential, or null when it is another kind of module.
  const std::shared_ptr<torch::nn::SequentialImpl>& sequential() const { return sequential_; }

 private:
  std::shared_ptr<torch::nn::Module> module_;
  std::function<torch::Tensor(const torch::Tensor&)> forward_;
  std::shared_ptr<torch::nn::SequentialImpl> sequential_;
};

}  // namespace fitreel
