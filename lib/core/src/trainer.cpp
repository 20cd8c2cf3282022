#include <fitreel/error.hpp>
#include <fitreel/trainer.hpp>

#include <fitreel/evaluate.hpp>
#include <fitreel/model.hpp>
#include <fitreel/shape.hpp>

#include "checks.hpp"
#include "modes.hpp"
#include "schedule_runner.hpp"
#include "train_step.hpp"

#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <cmath>
#include <mutex>
#include <stdexcept>

namespace fitreel {

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
  detail::check_training_setup(options);
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

  // A loss already on the host (an epoch of mini-batches): first the device's pending ones.
  void record_value(int64_t epoch, float loss) {
    check(/*force=*/true);
    take(epoch, loss);
    ++fetched_;
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

// The loss `options.loss` of the model on (x, y), in eval mode without gradients: what a test
// loss is, in PyTorch's `model.eval(); with torch.no_grad(): loss_fn(model(x), y)`.
float evaluated_loss(const ModelRef& model, const Loss& loss, const torch::Tensor& x,
                     const torch::Tensor& y) {
  const detail::Evaluating evaluating(model.module());
  return detail::loss_of(loss, model.forward(x), y).item<float>();
}

Snapshot snapshot_of(const ModelRef& model, const TrainOptions& options,
                     const torch::Tensor& curve_x, const HeldOut& test, int64_t epoch) {
  Snapshot snapshot;
  snapshot.epoch = epoch;
  snapshot.params = flat_parameters(model.module());
  if (curve_x.defined() && curve_x.numel() > 0) {
    snapshot.curve = predict(model, curve_x);  // in eval mode, without gradients
    snapshot.units = hidden_unit_curves(model, curve_x, options.unit_curves);
  }
  if (!test.empty()) {
    snapshot.test_loss = evaluated_loss(model, options.loss, test.x, test.y);
  }
  return snapshot;
}

// Before epoch 0: the model must give one value per sample. Checked on two rows in eval mode
// (no Dropout draw, no BatchNorm update: the run's numbers are not touched); a model giving
// (N) or (N, 2) would otherwise train silently to a wrong loss.
void check_output_shape(const ModelRef& model, const torch::Tensor& x) {
  const int64_t rows = std::min<int64_t>(2, x.size(0));
  torch::Tensor output;
  {
    const detail::Evaluating evaluating(model.module());
    output = model.forward(x.narrow(0, 0, rows));
  }
  if (output.dim() != 2 || output.size(0) != rows || output.size(1) != 1) {
    std::string shape = "[";
    for (int64_t d = 0; d < output.dim(); ++d) {
      shape += (d > 0 ? ", " : "") + std::to_string(output.size(d));
    }
    throw ShapeError("the model returns shape " + shape + "] for " + std::to_string(rows) +
                     " samples of shape [" + std::to_string(rows) +
                     ", 1], but fitreel fits one value per sample: its output must be [" +
                     std::to_string(rows) + ", 1] (end it with a Linear(..., 1))");
  }
}

// The sample order of one epoch's mini-batches, drawn as PyTorch's DataLoader(shuffle=True)
// draws it: iter(loader) first draws its workers' base seed from the CPU generator
// (_BaseDataLoaderIter's torch.empty((), dtype=torch.int64).random_(), drawn even with no
// workers), then RandomSampler draws its seed the same way and runs randperm(N) on a generator
// of its own seeded with it.
torch::Tensor epoch_order(int64_t rows) {
  torch::empty({}, torch::kInt64).random_();  // the base seed: drawn, unused
  const int64_t seed = torch::empty({}, torch::kInt64).random_().item<int64_t>();
  torch::Generator generator =
      at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(seed));
  return torch::randperm(rows, generator, torch::kInt64);
}

bool replayable(const TrainOptions& options, const torch::Device& device) {
  // A CUDA graph replays the same launches with the same host values: not with a rate that
  // changes (a schedule, Adagrad's lr decay, Adam's bias correction) or shapes that do
  // (mini-batches), nor with a user's optimizer, whose step fitreel cannot see into.
  return options.cuda_graphs && device.is_cuda() && detail::cuda_graphs_compiled() &&
         options.optimizer != OptimizerKind::adam && options.optimizer_settings.lr_decay == 0.0 &&
         options.lr_schedule.kind == LrSchedule::Kind::constant && !options.lr_schedule.custom &&
         options.batch_size == 0 && !options.make_optimizer;
}

TrainResult train_checked(const ModelRef& model, const Dataset& data, const TrainOptions& options,
                          const TrainCallbacks& callbacks) {
  TrainResult result;
  const detail::ModesKept caller_modes(model.module());  // back as they were, also on a throw
  const detail::WarningsOnce warnings(callbacks.on_warning);
  result.initial_params = flat_parameters(model.module());

  const torch::Device device = options.device;
  model.module().to(device);
  const torch::Tensor x = data.x_train.to(device);
  const torch::Tensor y = data.y_train.to(device);
  check_output_shape(model, x);
  const torch::Tensor curve_x =
      options.curve_x.defined() ? options.curve_x.to(device) : torch::Tensor();
  HeldOut test;
  if (data.holds_out()) {
    test = {data.x_test.to(device), data.y_test.to(device)};
  }
  const detail::StepInputs inputs{
      model,
      {options.optimizer, options.lr, options.optimizer_settings, options.make_optimizer},
      options.loss,
      x,
      y};
  const bool automatic = options.gradients == Gradients::automatic;
  result.used_fused_kernels =
      automatic && options.path == TrainPath::fastest && detail::supports_fused_step(inputs);
  result.used_analytic_gradients = result.used_fused_kernels ||
                                   options.gradients == Gradients::analytic ||
                                   (automatic && detail::supports_analytic_step(inputs));
  std::unique_ptr<detail::TrainStep> step =
      result.used_fused_kernels        ? detail::make_fused_step(inputs)
      : result.used_analytic_gradients ? detail::make_analytic_step(inputs)
                                       : detail::make_autograd_step(inputs);
  const int64_t epochs_done = options.resume ? options.resume->epochs_done : 0;
  if (options.resume) {
    step->optimizer().load(options.resume->optimizer);
    if (options.resume->generator_state.defined()) {
      at::Generator generator = at::detail::getDefaultCPUGenerator();
      const std::lock_guard<std::mutex> lock(generator.mutex());
      generator.set_state(options.resume->generator_state);
    }
  }
  detail::ScheduleRunner schedule(options.lr_schedule, options.lr, epochs_done + options.epochs);
  schedule.skip_to(epochs_done);
  result.used_cuda_graph = replayable(options, device);
  if (result.used_cuda_graph) {
    step = detail::make_cuda_graph_step(std::move(step));
  }
  const detail::SideStreamScope stream_scope(result.used_cuda_graph ? device
                                                                    : torch::Device(torch::kCPU));
  const int64_t rows = x.size(0);
  const bool mini_batches = options.batch_size > 0 && options.batch_size < rows;
  // DataLoader reshuffles also when one batch holds every sample: the draw happens all the same.
  const bool shuffled = options.batch_size > 0;

  LossRecorder history(device, options.divergence_check_every, callbacks.on_loss, result.losses);
  auto next_snapshot = options.snapshot_epochs.begin();
  const auto start = Clock::now();
  auto last_progress = start;
  if (callbacks.on_progress) {
    callbacks.on_progress({0, options.epochs, std::nanf(""), 0.0});
  }
  model.module().train();

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
      snapshot = snapshot_of(model, options, curve_x, test, epoch);
    }
    if (schedule.changes()) {
      step->optimizer().set_lr(schedule.rate(epochs_done + epoch));
    }
    if (!shuffled) {
      history.record(epoch, step->run());
    } else {
      // One epoch of mini-batches; its loss is their mean, as a PyTorch loop averages the
      // batches' loss.item() values (in double).
      const torch::Tensor order = epoch_order(rows).to(device);
      const int64_t size = mini_batches ? options.batch_size : rows;
      double sum = 0.0;
      int64_t batches = 0;
      for (int64_t begin = 0; begin < rows; begin += size, ++batches) {
        const torch::Tensor rows_now = order.narrow(0, begin, std::min(size, rows - begin));
        sum += step->run(x.index_select(0, rows_now), y.index_select(0, rows_now)).item<float>();
      }
      history.record_value(epoch, static_cast<float>(sum / static_cast<double>(batches)));
    }
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
  result.state.epochs_done = epochs_done + epoch;
  result.state.optimizer = step->optimizer().state();
  {
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    const std::lock_guard<std::mutex> lock(generator.mutex());
    result.state.generator_state = generator.get_state();
  }

  const bool ended_early = epoch < options.epochs;
  if (callbacks.on_snapshot && ended_early) {
    // The run stopped between scheduled frames: show where it ended up.
    Snapshot last = snapshot_of(model, options, curve_x, test, epoch);
    last.loss = evaluated_loss(model, options.loss, x, y);
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
