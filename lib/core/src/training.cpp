// The training set-up's names and the learning-rate schedules, computed as PyTorch's
// schedulers compute them.
#include <fitreel/error.hpp>
#include <fitreel/training.hpp>

#include "schedule_runner.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace fitreel {

std::string_view optimizer_name(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::adagrad:
      return "adagrad";
    case OptimizerKind::sgd:
      return "sgd";
    case OptimizerKind::adam:
      return "adam";
  }
  return "?";
}

std::optional<OptimizerKind> optimizer_from_name(std::string_view name) {
  for (OptimizerKind k : {OptimizerKind::adagrad, OptimizerKind::sgd, OptimizerKind::adam}) {
    if (optimizer_name(k) == name) {
      return k;
    }
  }
  return std::nullopt;
}

std::string_view loss_name(const Loss& loss) {
  if (loss.custom) return "custom";
  switch (loss.kind) {
    case Loss::Kind::mse:
      return "mse";
    case Loss::Kind::l1:
      return "l1";
    case Loss::Kind::huber:
      return "huber";
  }
  return "?";
}

std::string_view schedule_name(const LrSchedule& schedule) {
  if (schedule.custom) return "custom";
  switch (schedule.kind) {
    case LrSchedule::Kind::constant:
      return "constant";
    case LrSchedule::Kind::step:
      return "step";
    case LrSchedule::Kind::exponential:
      return "exponential";
    case LrSchedule::Kind::cosine:
      return "cosine";
  }
  return "?";
}

LrSchedule LrSchedule::step(int64_t step_size, double gamma) {
  LrSchedule schedule;
  schedule.kind = Kind::step;
  schedule.step_size = step_size;
  schedule.gamma = gamma;
  return schedule;
}

LrSchedule LrSchedule::exponential(double gamma) {
  LrSchedule schedule;
  schedule.kind = Kind::exponential;
  schedule.gamma = gamma;
  return schedule;
}

LrSchedule LrSchedule::cosine(int64_t t_max, double eta_min) {
  LrSchedule schedule;
  schedule.kind = Kind::cosine;
  schedule.t_max = t_max;
  schedule.eta_min = eta_min;
  return schedule;
}

std::vector<double> scheduled_rates(const LrSchedule& schedule, double lr, int64_t epochs) {
  if (epochs < 0) {
    throw InputError("scheduled_rates: epochs is " + std::to_string(epochs) + ", not >= 0");
  }
  std::vector<double> rates;
  detail::ScheduleRunner runner(schedule, lr, epochs);
  for (int64_t e = 0; e < epochs; ++e) {
    rates.push_back(runner.rate(e));
  }
  return rates;
}

namespace detail {

void check_schedule(const LrSchedule& schedule, const std::string& name) {
  if (schedule.custom) return;
  const auto check = [&](bool ok, const std::string& what) {
    if (!ok) throw InputError(name + "." + what);
  };
  switch (schedule.kind) {
    case LrSchedule::Kind::step:
      check(schedule.step_size >= 1, "step_size is " + std::to_string(schedule.step_size) +
                                         ": give the epochs between two steps, at least 1");
      [[fallthrough]];
    case LrSchedule::Kind::exponential:
      check(std::isfinite(schedule.gamma) && schedule.gamma > 0.0,
            "gamma is " + std::to_string(schedule.gamma) + ": give a factor > 0 (e.g. 0.1)");
      break;
    case LrSchedule::Kind::cosine:
      check(schedule.t_max >= 0, "t_max is " + std::to_string(schedule.t_max) +
                                     ": give the epochs of the half period (0: the run's)");
      check(std::isfinite(schedule.eta_min) && schedule.eta_min >= 0.0,
            "eta_min is " + std::to_string(schedule.eta_min) + ": give a rate >= 0");
      break;
    case LrSchedule::Kind::constant:
      break;
  }
}

ScheduleRunner::ScheduleRunner(const LrSchedule& schedule, double lr, int64_t epochs)
    : schedule_(schedule),
      lr_(lr),
      t_max_(
          static_cast<double>(schedule.t_max > 0 ? schedule.t_max : std::max<int64_t>(1, epochs))),
      rate_(lr) {
  check_schedule(schedule, "LrSchedule");
}

bool ScheduleRunner::changes() const {
  return static_cast<bool>(schedule_.custom) || schedule_.kind != LrSchedule::Kind::constant;
}

double ScheduleRunner::rate(int64_t epoch) {
  if (schedule_.custom) {
    const double rate = schedule_.custom(epoch);
    if (!(rate >= 0.0) || !std::isfinite(rate)) {
      throw InputError("LrSchedule::custom gave " + std::to_string(rate) + " for epoch " +
                       std::to_string(epoch) + ": a rate must be finite and >= 0");
    }
    return rate;
  }
  // Each rate from the one before, as the schedulers' get_lr() computes it after every
  // scheduler.step(), so the doubles are the very ones Python's scheduler sets.
  for (; epoch_ < epoch; ++epoch_) {
    const auto e = static_cast<double>(epoch_ + 1);
    switch (schedule_.kind) {
      case LrSchedule::Kind::constant:
        break;
      case LrSchedule::Kind::step:  // StepLR
        if ((epoch_ + 1) % schedule_.step_size == 0) rate_ *= schedule_.gamma;
        break;
      case LrSchedule::Kind::exponential:  // ExponentialLR
        rate_ *= schedule_.gamma;
        break;
      case LrSchedule::Kind::cosine: {  // CosineAnnealingLR
        const double pi = M_PI;
        if (static_cast<int64_t>(e - 1 - t_max_) % static_cast<int64_t>(2 * t_max_) == 0) {
          rate_ = rate_ + (lr_ - schedule_.eta_min) * (1 - std::cos(pi / t_max_)) / 2;
        } else {
          rate_ = (1 + std::cos(pi * e / t_max_)) / (1 + std::cos(pi * (e - 1) / t_max_)) *
                      (rate_ - schedule_.eta_min) +
                  schedule_.eta_min;
        }
        break;
      }
    }
  }
  return rate_;
}

}  // namespace detail

}  // namespace fitreel
