// The optimizer of a training step: built from TrainOptions, its rate set per epoch, and its
// state read and restored in the layout of PyTorch's optimizer.state_dict().
#include "optimizer_defaults.hpp"
#include "python_adam.hpp"
#include "train_step.hpp"

#include <fitreel/error.hpp>

#include <torch/version.h>

#include <cmath>

namespace fitreel::detail {

namespace {

using optimizer_defaults::kAdagradEps;
using optimizer_defaults::kAdamEps;

// LibTorch keys an optimizer's per-parameter state by the parameter's TensorImpl: as a string
// up to 1.13, as the pointer itself from 2.0.
auto state_key(const torch::Tensor& parameter) {
#if TORCH_VERSION_MAJOR >= 2
  return static_cast<void*>(parameter.unsafeGetTensorImpl());
#else
  return c10::guts::to_string(parameter.unsafeGetTensorImpl());
#endif
}

std::unique_ptr<torch::optim::Optimizer> build(const OptimizerConfig& config,
                                               const std::vector<torch::Tensor>& params) {
  if (config.factory) {
    std::unique_ptr<torch::optim::Optimizer> made = config.factory(params);
    if (!made) {
      throw InputError(
          "TrainOptions::make_optimizer returned no optimizer: return one made "
          "from the parameters it is given");
    }
    return made;
  }
  const OptimizerSettings& s = config.settings;
  switch (config.kind) {
    case OptimizerKind::adagrad:
      return std::make_unique<torch::optim::Adagrad>(
          params, torch::optim::AdagradOptions(config.lr)
                      .lr_decay(s.lr_decay)
                      .weight_decay(s.weight_decay)
                      .initial_accumulator_value(s.initial_accumulator_value)
                      .eps(s.eps.value_or(kAdagradEps)));
    case OptimizerKind::sgd:
      return std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(config.lr)
                                                             .momentum(s.momentum)
                                                             .dampening(s.dampening)
                                                             .weight_decay(s.weight_decay)
                                                             .nesterov(s.nesterov));
    case OptimizerKind::adam:
      return std::make_unique<AdamOfThisPython>(params,
                                                torch::optim::AdamOptions(config.lr)
                                                    .betas(std::make_tuple(s.beta1, s.beta2))
                                                    .eps(s.eps.value_or(kAdamEps))
                                                    .weight_decay(s.weight_decay)
                                                    .amsgrad(s.amsgrad));
  }
  throw InputError("unknown optimizer");
}

// The slot of the optimizer's tensor `whole` that holds one model parameter.
torch::Tensor slot_of(const torch::Tensor& whole, const ParamSlot& slot) {
  int64_t count = 1;
  for (int64_t size : slot.shape) count *= size;
  return whole.flatten().narrow(0, slot.offset, count).view(slot.shape);
}

// A step count as PyTorch keeps it: a 0-dim float32 tensor.
torch::Tensor step_tensor(int64_t step) { return torch::tensor(static_cast<float>(step)); }

int64_t step_of(const std::map<std::string, torch::Tensor>& state, const std::string& what) {
  const auto found = state.find("step");
  if (found == state.end() || found->second.numel() != 1) {
    throw InputError(what + " has no step count");
  }
  return static_cast<int64_t>(found->second.to(torch::kCPU, torch::kFloat64).item<double>());
}

}  // namespace

StepOptimizer::StepOptimizer(const OptimizerConfig& config, std::vector<torch::Tensor> optimized,
                             std::vector<ParamSlot> slots)
    : config_(config),
      optimized_(std::move(optimized)),
      slots_(std::move(slots)),
      optimizer_(build(config, optimized_)) {}

void StepOptimizer::set_lr(double lr) {
  for (auto& group : optimizer_->param_groups()) {
    group.options().set_lr(lr);
  }
}

double StepOptimizer::lr() const { return optimizer_->param_groups().front().options().get_lr(); }

StepOptimizer::InPlaceStep StepOptimizer::begin_in_place_step() {
  if (config_.kind == OptimizerKind::sgd) {
    return {};  // plain SGD keeps no state
  }
  if (in_place_state_ == nullptr) {
    const torch::Tensor& whole = optimized_.front();
    auto& all = optimizer_->state();
    auto found = all.find(state_key(whole));
    if (found == all.end()) {  // Adam makes it at its first step; Adagrad when built
      torch::NoGradGuard no_grad;
      std::unique_ptr<torch::optim::OptimizerParamState> fresh;
      if (config_.kind == OptimizerKind::adagrad) {
        auto adagrad = std::make_unique<torch::optim::AdagradParamState>();
        adagrad->step(0);
        adagrad->sum(torch::full_like(whole, config_.settings.initial_accumulator_value,
                                      torch::MemoryFormat::Preserve));
        fresh = std::move(adagrad);
      } else {
        auto adam = std::make_unique<torch::optim::AdamParamState>();
        adam->step(0);
        adam->exp_avg(torch::zeros_like(whole, torch::MemoryFormat::Preserve));
        adam->exp_avg_sq(torch::zeros_like(whole, torch::MemoryFormat::Preserve));
        fresh = std::move(adam);
      }
      found = all.emplace(state_key(whole), std::move(fresh)).first;
    }
    in_place_state_ = found->second.get();
  }
  if (config_.kind == OptimizerKind::adagrad) {
    auto& p = static_cast<torch::optim::AdagradParamState&>(*in_place_state_);
    p.step(p.step() + 1);
    return {p.sum(), {}, p.step()};
  }
  auto& p = static_cast<torch::optim::AdamParamState&>(*in_place_state_);
  p.step(p.step() + 1);
  return {p.exp_avg(), p.exp_avg_sq(), p.step()};
}

OptimizerState StepOptimizer::state() const {
  OptimizerState state;
  if (config_.factory) {
    return state;  // a user's own optimizer: its state is the user's to keep
  }
  const OptimizerSettings& s = config_.settings;
  state.name = std::string(optimizer_name(config_.kind));
  state.settings["lr"] = optimizer_->param_groups().front().options().get_lr();
  state.settings["weight_decay"] = s.weight_decay;
  switch (config_.kind) {
    case OptimizerKind::adagrad:
      state.settings["lr_decay"] = s.lr_decay;
      state.settings["initial_accumulator_value"] = s.initial_accumulator_value;
      state.settings["eps"] = s.eps.value_or(kAdagradEps);
      break;
    case OptimizerKind::sgd:
      state.settings["momentum"] = s.momentum;
      state.settings["dampening"] = s.dampening;
      state.settings["nesterov"] = s.nesterov ? 1.0 : 0.0;
      break;
    case OptimizerKind::adam:
      state.settings["beta1"] = s.beta1;
      state.settings["beta2"] = s.beta2;
      state.settings["eps"] = s.eps.value_or(kAdamEps);
      state.settings["amsgrad"] = s.amsgrad ? 1.0 : 0.0;
      break;
  }
  const auto& all = optimizer_->state();
  for (const ParamSlot& slot : slots_) {
    std::map<std::string, torch::Tensor> tensors;
    const torch::Tensor& whole = optimized_[slot.index];
    const auto found = all.find(state_key(whole));
    if (found != all.end()) {
      const auto copy = [&](const torch::Tensor& t) { return slot_of(t, slot).detach().clone(); };
      switch (config_.kind) {
        case OptimizerKind::adagrad: {
          const auto& p = static_cast<const torch::optim::AdagradParamState&>(*found->second);
          tensors["step"] = step_tensor(p.step());
          tensors["sum"] = copy(p.sum());
          break;
        }
        case OptimizerKind::sgd: {
          const auto& p = static_cast<const torch::optim::SGDParamState&>(*found->second);
          if (p.momentum_buffer().defined()) tensors["momentum_buffer"] = copy(p.momentum_buffer());
          break;
        }
        case OptimizerKind::adam: {
          const auto& p = static_cast<const torch::optim::AdamParamState&>(*found->second);
          tensors["step"] = step_tensor(p.step());
          tensors["exp_avg"] = copy(p.exp_avg());
          tensors["exp_avg_sq"] = copy(p.exp_avg_sq());
          if (p.max_exp_avg_sq().defined()) tensors["max_exp_avg_sq"] = copy(p.max_exp_avg_sq());
          break;
        }
      }
    }
    state.parameters.push_back(std::move(tensors));
  }
  return state;
}

void StepOptimizer::load(const OptimizerState& state) {
  if (state.empty()) {
    return;
  }
  in_place_state_ = nullptr;  // replaced below
  if (config_.factory) {
    throw InputError("TrainOptions::resume holds a " + state.name +
                     " state, but TrainOptions::make_optimizer makes the optimizer: load your "
                     "own optimizer's state into it yourself");
  }
  const std::string want(optimizer_name(config_.kind));
  if (state.name != want) {
    throw InputError("TrainOptions::resume holds the state of " + state.name +
                     ", but this run trains with " + want + ": resume with the same optimizer");
  }
  if (state.parameters.size() != slots_.size()) {
    throw InputError("TrainOptions::resume holds an optimizer state for " +
                     std::to_string(state.parameters.size()) + " parameters, but the model has " +
                     std::to_string(slots_.size()));
  }
  // Every tensor checked before anything is changed.
  const auto tensor = [&](std::size_t i, const std::string& name) -> torch::Tensor {
    const auto found = state.parameters[i].find(name);
    if (found == state.parameters[i].end()) return {};
    const c10::IntArrayRef want_shape(slots_[i].shape);
    if (found->second.sizes() != want_shape) {
      throw InputError("TrainOptions::resume: the optimizer's " + name + " of parameter " +
                       std::to_string(i) + " has another shape than the parameter");
    }
    return found->second;
  };
  // One state per optimized tensor: the analytic step's flat tensor gathers its parameters'.
  auto& all = optimizer_->state();
  for (std::size_t index = 0; index < optimized_.size(); ++index) {
    const torch::Tensor& whole = optimized_[index];
    const auto like = [&] { return torch::zeros_like(whole, at::MemoryFormat::Contiguous); };
    torch::NoGradGuard no_grad;
    std::unique_ptr<torch::optim::OptimizerParamState> made;
    std::vector<std::size_t> members;
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].index == index) members.push_back(i);
    }
    if (members.empty()) continue;
    const auto gather = [&](const std::string& name, torch::Tensor into) {
      for (std::size_t i : members) {
        const torch::Tensor part = tensor(i, name);
        if (!part.defined()) return torch::Tensor();
        slot_of(into, slots_[i]).copy_(part);
      }
      return into;
    };
    const std::string what = "TrainOptions::resume's " + state.name + " state";
    switch (config_.kind) {
      case OptimizerKind::adagrad: {
        auto p = std::make_unique<torch::optim::AdagradParamState>();
        p->step(step_of(state.parameters[members.front()], what));
        p->sum(gather("sum", like()));
        if (!p->sum().defined()) throw InputError(what + " has no sum");
        made = std::move(p);
        break;
      }
      case OptimizerKind::sgd: {
        // LibTorch's SGD makes its buffer at the first step with momentum; a state without one
        // (no momentum yet, or PyTorch's None) must not be there at all.
        torch::Tensor buffer = gather("momentum_buffer", like());
        if (!buffer.defined()) continue;
        auto p = std::make_unique<torch::optim::SGDParamState>();
        p->momentum_buffer(buffer);
        made = std::move(p);
        break;
      }
      case OptimizerKind::adam: {
        auto p = std::make_unique<torch::optim::AdamParamState>();
        p->step(step_of(state.parameters[members.front()], what));
        p->exp_avg(gather("exp_avg", like()));
        p->exp_avg_sq(gather("exp_avg_sq", like()));
        if (!p->exp_avg().defined() || !p->exp_avg_sq().defined()) {
          throw InputError(what + " lacks exp_avg or exp_avg_sq");
        }
        if (config_.settings.amsgrad) p->max_exp_avg_sq(gather("max_exp_avg_sq", like()));
        made = std::move(p);
        break;
      }
    }
    all[state_key(whole)] = std::move(made);
  }
}

}  // namespace fitreel::detail
