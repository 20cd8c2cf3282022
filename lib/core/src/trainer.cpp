#include <fitreel/error.hpp>
#include <fitreel/trainer.hpp>

#include <fitreel/evaluate.hpp>
#include <fitreel/model.hpp>
#include <fitreel/shape.hpp>

#include "checks.hpp"
#include "train_step.hpp"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <stdexcept>

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

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kProgressPeriod = std::chrono::milliseconds(250);

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

void check_training_inputs(const ModelRef& model, const Dataset& data,
                           const TrainOptions& options) {
  detail::check_samples(data.x_train, "x_train");
  detail::check_samples(data.y_train, "y_train");
  detail::check_rows(data.x_train, "x_train", data.y_train, "y_train", 1);
  detail::check_finite(data.x_train, "x_train");
  detail::check_finite(data.y_train, "y_train");
  if (data.holds_out()) {
    detail::check_samples(data.x_test, "x_test");
    detail::check_samples(data.y_test, "y_test");
    detail::check_rows(data.x_test, "x_test", data.y_test, "y_test");
    detail::check_finite(data.x_test, "x_test");
    detail::check_finite(data.y_test, "y_test");
  }
  if (options.curve_x.defined() && options.curve_x.numel() > 0) {
    detail::check_samples(options.curve_x, "TrainOptions::curve_x");
  }
  detail::check_model(model);
  if (model.module().parameters().empty()) {
    throw InputError(
        "the model has no parameters to train: register its layers with "
        "register_module()");
  }
  detail::check_device(options.device, "TrainOptions::device");
  if (options.epochs < 1) {
    throw InputError("TrainOptions::epochs is " + std::to_string(options.epochs) +
                     ": train at least 1 epoch");
  }
  detail::check_learning_rate(options.lr, "TrainOptions::lr");
  if (options.divergence_check_every < 1) {
    throw InputError("TrainOptions::divergence_check_every must be at least 1");
  }
  const std::vector<int64_t>& epochs = options.snapshot_epochs;
  for (size_t i = 0; i < epochs.size(); ++i) {
    if (epochs[i] < 0 || (i > 0 && epochs[i] <= epochs[i - 1])) {
      throw InputError(
          "TrainOptions::snapshot_epochs must be distinct epochs >= 0 in ascending "
          "order, but entry " +
          std::to_string(i) + " is " + std::to_string(epochs[i]) +
          (i > 0 ? " after " + std::to_string(epochs[i - 1]) : std::string()) +
          ": sort them (fitreel::frame_epochs gives such a list)");
    }
  }
}

namespace {

// Where each epoch's loss goes: to the caller's on_loss and the bounded history, in order. On
// the CPU reading a scalar is free, so every epoch is read and checked at once. On CUDA a read
// waits for the GPU, so losses wait in a small device buffer and are fetched in batches (every
// `check_every` epochs, at snapshots, at the end). Memory is flat in epochs either way.
class LossRecorder {
 public:
  LossRecorder(const torch::Device& device, int64_t check_every,
               const std::function<void(int64_t, float)>& on_loss, LossHistory& history)
      : on_cpu_(device.is_cpu()), check_every_(check_every), on_loss_(on_loss), history_(history) {
    if (!on_cpu_) {
      pending_ = torch::empty({check_every}, torch::TensorOptions(device).dtype(torch::kFloat32));
    }
  }

  void record(int64_t epoch, const torch::Tensor& loss) {
    if (on_cpu_) {
      take(epoch, *loss.data_ptr<float>());  // already in host memory: no kernel needed
      return;
    }
    pending_[waiting_].copy_(loss);  // epoch == fetched_ + waiting_
    ++waiting_;
  }

  // Brings the host up to date when `force`d or when the device buffer is full; returns the
  // first non-finite epoch seen so far.
  std::optional<int64_t> check(bool force) {
    if (waiting_ > 0 && (force || waiting_ >= check_every_)) {
      const torch::Tensor fresh = pending_.slice(0, 0, waiting_).to(torch::kCPU);
      const float* values = fresh.data_ptr<float>();
      for (int64_t i = 0; i < waiting_; ++i) {
        take(fetched_ + i, values[i]);
      }
      fetched_ += waiting_;
      waiting_ = 0;
    }
    return diverged_at_;
  }

  float latest() {
    check(/*force=*/true);
    return history_.last();
  }

 private:
  void take(int64_t epoch, float loss) {
    if (!diverged_at_ && !std::isfinite(loss)) {
      diverged_at_ = epoch;
    }
    if (on_loss_) {
      on_loss_(epoch, loss);
    }
    history_.add(epoch, loss);
  }

  bool on_cpu_;
  int64_t check_every_;
  const std::function<void(int64_t, float)>& on_loss_;
  LossHistory& history_;
  torch::Tensor pending_;  // CUDA: losses of epochs fetched_ .. fetched_ + waiting_ - 1
  int64_t fetched_ = 0;
  int64_t waiting_ = 0;
  std::optional<int64_t> diverged_at_;
};

// The held-out points on the training device, when there are any.
struct HeldOut {
  torch::Tensor x, y;
  bool empty() const { return !x.defined() || x.numel() == 0; }
};

Snapshot snapshot_of(const ModelRef& model, const torch::Tensor& curve_x, const HeldOut& test,
                     int64_t unit_curves, int64_t epoch) {
  Snapshot snapshot;
  snapshot.epoch = epoch;
  snapshot.params = flat_parameters(model.module());
  if (curve_x.defined() && curve_x.numel() > 0) {
    snapshot.curve = predict(model, curve_x);
    snapshot.units = hidden_unit_curves(model, curve_x, unit_curves);
  }
  if (!test.empty()) {
    snapshot.test_loss = static_cast<float>(mse(model, test.x, test.y));
  }
  return snapshot;
}

TrainResult train_checked(const ModelRef& model, const Dataset& data, const TrainOptions& options,
                          const TrainCallbacks& callbacks) {
  TrainResult result;
  result.initial_params = flat_parameters(model.module());

  const torch::Device device = options.device;
  model.module().to(device);
  model.module().train();
  const torch::Tensor x = data.x_train.to(device);
  const torch::Tensor y = data.y_train.to(device);
  const torch::Tensor curve_x =
      options.curve_x.defined() ? options.curve_x.to(device) : torch::Tensor();
  HeldOut test;
  if (data.holds_out()) {
    test = {data.x_test.to(device), data.y_test.to(device)};
  }
  const detail::StepInputs inputs{model, options.optimizer, options.lr, x, y};
  const bool analytic =
      options.gradients == Gradients::analytic ||
      (options.gradients == Gradients::automatic && detail::supports_analytic_gradients(model));
  std::unique_ptr<detail::TrainStep> step =
      analytic ? detail::make_analytic_step(inputs) : detail::make_autograd_step(inputs);
  result.used_analytic_gradients = analytic;
  // Adam's bias correction changes every step on the host, so it cannot be replayed.
  result.used_cuda_graph = options.cuda_graphs && device.is_cuda() &&
                           detail::cuda_graphs_compiled() &&
                           options.optimizer != OptimizerKind::adam;
  if (result.used_cuda_graph) {
    step = detail::make_cuda_graph_step(std::move(step));
  }
  const detail::SideStreamScope stream_scope(result.used_cuda_graph ? device
                                                                    : torch::Device(torch::kCPU));

  LossRecorder history(device, options.divergence_check_every, callbacks.on_loss, result.losses);
  auto next_snapshot = options.snapshot_epochs.begin();
  const auto start = Clock::now();
  auto last_progress = start;
  if (callbacks.on_progress) {
    callbacks.on_progress({0, options.epochs, std::nanf(""), 0.0});
  }

  int64_t epoch = 0;
  while (epoch < options.epochs) {
    while (next_snapshot != options.snapshot_epochs.end() && *next_snapshot < epoch) {
      ++next_snapshot;
    }
    // A scheduled epoch is measured on the held-out points even with no one to tell.
    const bool scheduled =
        next_snapshot != options.snapshot_epochs.end() && *next_snapshot == epoch;
    const bool snapshot_due = scheduled && (callbacks.on_snapshot || !test.empty());
    Snapshot snapshot;
    if (snapshot_due) {
      // The model this epoch starts from.
      snapshot = snapshot_of(model, curve_x, test, options.unit_curves, epoch);
    }
    history.record(epoch, step->run());
    ++epoch;

    const std::optional<int64_t> diverged = history.check(/*force=*/snapshot_due);
    if (snapshot_due) {
      snapshot.loss = history.latest();
      snapshot.final = epoch == options.epochs;
      if (!test.empty()) {
        result.test_losses.push_back({snapshot.epoch, snapshot.test_loss});
      }
      if (callbacks.on_snapshot) {
        callbacks.on_snapshot(snapshot);
      }
    }
    if (diverged) {
      result.diverged_at_epoch = diverged;
      break;
    }
    if (callbacks.should_stop && callbacks.should_stop()) {
      result.interrupted = epoch < options.epochs;
      break;
    }
    if (callbacks.on_progress && Clock::now() - last_progress >= kProgressPeriod) {
      last_progress = Clock::now();
      callbacks.on_progress({epoch, options.epochs, history.latest(), seconds_since(start)});
    }
  }
  result.epochs_run = epoch;
  if (!result.diverged_at_epoch) {  // the last batch, fetched now on CUDA, may reveal one
    result.diverged_at_epoch = history.check(/*force=*/true);
  }
  history.check(/*force=*/true);
  result.seconds = seconds_since(start);
  result.final_params = flat_parameters(model.module());

  const bool ended_early = epoch < options.epochs;
  if (callbacks.on_snapshot && ended_early) {
    // The run stopped between scheduled frames: show where it ended up.
    Snapshot last = snapshot_of(model, curve_x, test, options.unit_curves, epoch);
    last.loss = static_cast<float>(mse(model, x, y));
    last.final = true;
    callbacks.on_snapshot(last);
  }
  if (callbacks.on_progress) {
    callbacks.on_progress({epoch, options.epochs, result.losses.last(), result.seconds});
  }
  return result;
}

}  // namespace

TrainResult train(const ModelRef& model, const Dataset& data, const TrainOptions& options,
                  const TrainCallbacks& callbacks) {
  check_training_inputs(model, data, options);
  return detail::translating_torch_errors(
      "train", [&] { return train_checked(model, data, options, callbacks); });
}

}  // namespace fitreel
