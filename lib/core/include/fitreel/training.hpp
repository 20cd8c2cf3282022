#pragma once

// The training set-up of a PyTorch loop, in the names PyTorch uses: the loss, the optimizer and
// its settings (or one of your own), a learning-rate schedule, and the state that lets a run go
// on where it stopped (optimizer state, epochs done, the shuffle generator).

#include <fitreel/choices.hpp>

#include <torch/optim/optimizer.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fitreel {

/// The named optimizers' settings, as torch.optim names them; every default is PyTorch's, so
/// `{}` is `Adagrad(params, lr)`, `SGD(params, lr)`, `Adam(params, lr)`.
struct OptimizerSettings {
  double weight_decay = 0.0;               ///< all three: L2 penalty added to the gradient
  double momentum = 0.0;                   ///< sgd
  double dampening = 0.0;                  ///< sgd
  bool nesterov = false;                   ///< sgd: needs momentum > 0 and dampening 0
  double lr_decay = 0.0;                   ///< adagrad
  double initial_accumulator_value = 0.0;  ///< adagrad
  std::optional<double> eps{};             ///< default: adagrad 1e-10, adam 1e-8
  double beta1 = 0.9;                      ///< adam
  double beta2 = 0.999;                    ///< adam
  bool amsgrad = false;                    ///< adam
};

/// Your own optimizer, made from the parameters it updates (in `parameters()` order), e.g.
/// `[](auto params) { return std::make_unique<torch::optim::RMSprop>(params, 0.01); }`.
using OptimizerFactory = std::function<std::unique_ptr<torch::optim::Optimizer>(
    const std::vector<torch::Tensor>& parameters)>;

/// The loss a step minimizes, averaged over the samples as PyTorch's default reduction does.
struct Loss {
  using Kind = LossKind;
  Kind kind = Kind::mse;     ///< mse (the seed's), l1, huber
  double huber_delta = 1.0;  ///< huber: where the loss turns from squared to linear
  /// Any loss of (prediction, target) -> a scalar, trained through autograd; wins over `kind`.
  std::function<torch::Tensor(const torch::Tensor& prediction, const torch::Tensor& target)>
      custom{};
};

/// "mse", "l1", "huber" or "custom".
std::string_view loss_name(const Loss& loss);

/// How the learning rate moves from epoch to epoch: PyTorch's schedulers, stepped once after
/// every epoch, each rate computed by the scheduler's own recurrence (in double), so a run
/// follows `torch.optim.lr_scheduler` number for number.
struct LrSchedule {
  using Kind = LrScheduleKind;
  Kind kind = Kind::constant;
  int64_t step_size = 1;  ///< step: the rate is multiplied by gamma every step_size epochs
  double gamma = 0.1;     ///< step, exponential: the factor
  int64_t t_max = 0;      ///< cosine: epochs from the rate down to eta_min (0: the run's epochs)
  double eta_min = 0.0;   ///< cosine: the lowest rate
  /// The rate of each (0-based) epoch, your way; wins over `kind`.
  std::function<double(int64_t epoch)> custom{};

  static LrSchedule step(int64_t step_size, double gamma);        ///< StepLR
  static LrSchedule exponential(double gamma);                    ///< ExponentialLR
  static LrSchedule cosine(int64_t t_max, double eta_min = 0.0);  ///< CosineAnnealingLR
};

/// "constant", "step", "exponential", "cosine" or "custom".
std::string_view schedule_name(const LrSchedule& schedule);

/// The rate of every epoch from `first` (epoch 0) up to `epochs` - 1, as the schedule (and
/// PyTorch's scheduler) gives it; `t_max` 0 means `epochs`. Throws InputError for bad settings.
std::vector<double> scheduled_rates(const LrSchedule& schedule, double lr, int64_t epochs);

/// An optimizer's state in the layout of PyTorch's `optimizer.state_dict()`: for each parameter
/// (in `parameters()` order) its tensors under PyTorch's names ("sum", "exp_avg", ...; "step"
/// as a 0-dim float tensor), and the group's settings ("lr", "momentum", "betas" as beta1 and
/// beta2, ...).
struct OptimizerState {
  std::string name{};  ///< "adagrad", "sgd", "adam"; empty: no state (a fresh optimizer)
  std::vector<std::map<std::string, torch::Tensor>> parameters{};
  std::map<std::string, double> settings{};  ///< numbers and flags (true = 1) of the group
  bool empty() const { return name.empty(); }
};

/// Where a run stands: what training needs to go on from there and give the same numbers as a
/// run that never stopped. TrainResult::state holds it after a run; TrainOptions::resume takes
/// it; checkpoints keep it.
struct TrainingState {
  int64_t epochs_done = 0;     ///< epochs trained so far (where the schedule stands)
  OptimizerState optimizer{};  ///< empty: a fresh optimizer
  /// The CPU generator's state (torch.get_rng_state()), which mini-batch shuffles draw from;
  /// undefined: leave the generator as it is.
  torch::Tensor generator_state{};
};

}  // namespace fitreel
