#include "motion_pass.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <utility>

namespace fitreel::detail {

namespace {

// A module's tensors as they were, to put back after a pass: the replay starts where the first
// pass started (a module's own state, such as BatchNorm's running statistics, included).
class ModuleStart {
 public:
  explicit ModuleStart(torch::nn::Module& module) {
    for (const torch::Tensor& parameter : module.parameters()) {
      parameters_.push_back(parameter.detach().clone());
      const torch::Tensor& grad = parameter.grad();
      grads_.push_back(grad.defined() ? grad.detach().clone() : torch::Tensor());
    }
    for (const torch::Tensor& buffer : module.buffers()) {
      buffers_.push_back(buffer.detach().clone());
    }
  }

  void put_back(torch::nn::Module& module) const {
    const torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> parameters = module.parameters();
    for (size_t i = 0; i < parameters.size(); ++i) {
      parameters[i].copy_(parameters_[i]);
      parameters[i].mutable_grad() =
          grads_[i].defined() ? grads_[i].to(parameters[i].device()) : torch::Tensor();
    }
    std::vector<torch::Tensor> buffers = module.buffers();
    for (size_t i = 0; i < buffers.size(); ++i) {
      buffers[i].copy_(buffers_[i]);
    }
  }

 private:
  std::vector<torch::Tensor> parameters_, grads_, buffers_;
};

}  // namespace

void StillSteps::add(std::vector<double> rows) {
  if (!first_) {
    bool moved = rows.size() != last_.size();
    for (size_t i = 0; i < rows.size() && !moved; ++i) {
      const bool seen = std::isfinite(rows[i]);
      moved = seen != std::isfinite(last_[i]) || (seen && std::abs(rows[i] - last_[i]) >= 1.0);
    }
    still_ += moved ? 0 : 1;
  }
  first_ = false;
  last_ = std::move(rows);
}

Schedule spread_of(const std::vector<int64_t>& frames, int64_t epochs) {
  if (frames.empty()) {
    return Schedule::linear;
  }
  const int64_t median = frames[frames.size() / 2];
  return 5 * median < epochs ? Schedule::log : Schedule::linear;
}

void pin_start(TrainOptions& options) {
  TrainingState start = options.resume.value_or(TrainingState{});
  if (!start.generator_state.defined()) {
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    const std::lock_guard<std::mutex> lock(generator.mutex());
    start.generator_state = generator.get_state();
  }
  options.resume = std::move(start);
}

MotionPass measure_motion(const ModelRef& model, const Dataset& data, const TrainOptions& options,
                          const render::FitPlot& plot, int64_t frames,
                          const TrainCallbacks& callbacks) {
  const ModuleStart start(model.module());
  TrainOptions first = options;
  // At least twice the frames, so that every frame asked for has a probe to go to; fewer than
  // 2048 leave the line and net demos' steady late motion too coarse to move a pixel a frame.
  first.snapshot_epochs = motion_probe_epochs(options.epochs, std::max<int64_t>(2048, 2 * frames));
  first.unit_curves = 0;
  std::vector<int64_t> probes;
  std::vector<std::vector<double>> rows;
  TrainCallbacks measuring;
  // Whether a stop was asked for, and after how many epochs: the filmed pass stops there too
  // (a stop flag stays set, so it would otherwise stop after its first epoch).
  std::optional<int64_t> stopped_after;
  if (callbacks.should_stop) {
    measuring.should_stop = [&, polls = int64_t{0}]() mutable {
      ++polls;
      if (!stopped_after && callbacks.should_stop()) {
        stopped_after = polls;
      }
      return stopped_after.has_value();
    };
  }
  if (callbacks.on_progress) {
    measuring.on_progress = [&](const Progress& progress) {
      Progress told = progress;
      told.measuring = true;
      callbacks.on_progress(told);
    };
  }
  measuring.on_warning = [](const std::string&) {};  // the filmed pass reports them
  measuring.on_snapshot = [&](const Snapshot& snapshot) {
    if (probes.empty() || snapshot.epoch > probes.back()) {
      probes.push_back(snapshot.epoch);
      rows.push_back(plot.curve_rows(snapshot.curve));
    }
  };
  try {
    train(model, data, first, measuring);
  } catch (...) {
    start.put_back(model.module());
    throw;
  }
  start.put_back(model.module());
  return {frame_epochs_by_motion(probes, rows, frames), stopped_after};
}

}  // namespace fitreel::detail
