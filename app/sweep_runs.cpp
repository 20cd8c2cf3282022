#include "sweep_runs.hpp"

#include "signals.hpp"

#include <fitreel/batched.hpp>
#include <fitreel/device.hpp>

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <limits>
#include <new>

namespace fitreel::app {

namespace {

constexpr double kMostBatchBytes = 1.0e9;
constexpr double kFloat = 4.0;
// Per parameter: the model's own, the batch's stacked copy, its gradient, up to two optimizer
// states (Adam), and the flattened initial and final values each run reports.
constexpr double kCopiesPerParameter = 7.0;
// Per point and unit of the widest layer: activations and their gradients, ~12 live tensors.
constexpr double kCopiesPerActivation = 12.0;

// The most memory this process may still take: what the address-space limit (ulimit -v) leaves
// and what the machine has available, whichever is smaller.
double memory_left() {
  double left = std::numeric_limits<double>::infinity();
  rlimit limit{};
  if (::getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    double used = 0.0;
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("VmSize:", 0) == 0) used = std::stod(line.substr(7)) * 1024.0;
    }
    left = std::min(left, static_cast<double>(limit.rlim_cur) - used);
  }
  std::ifstream meminfo("/proc/meminfo");
  for (std::string line; std::getline(meminfo, line);) {
    if (line.rfind("MemAvailable:", 0) == 0) {
      left = std::min(left, std::stod(line.substr(13)) * 1024.0);
    }
  }
  return left;
}

int64_t parameters_of(const DemoSetup& setup) {
  if (setup.line) return 2;
  int64_t count = 0, inputs = 1;
  for (int64_t width : setup.net.hidden) {
    count += inputs * width + width;
    inputs = width;
  }
  return count + inputs + 1;
}

void train_batch(SweepTraining& training, const RunOptions& options,
                 const std::vector<int64_t>& frame_at, const torch::Tensor& curve_x, size_t begin,
                 size_t end, bool batch);

int64_t batch_size_for(const DemoSetup& setup, size_t models, int64_t frames) {
  const double per_model = bytes_per_model(setup, frames);
  const auto fits = static_cast<int64_t>(batch_budget_bytes() / per_model);
  return std::clamp<int64_t>(fits, 1, static_cast<int64_t>(models));
}

// What a panel needs of a snapshot: the parameters are not drawn in a sweep's panels, and
// 256 models' worth of them would be most of the memory.
Snapshot panel_snapshot(const Snapshot& full) {
  Snapshot kept;
  kept.epoch = full.epoch;
  kept.loss = full.loss;
  kept.curve = full.curve;
  kept.final = full.final;
  return kept;
}

}  // namespace

double bytes_per_model(const DemoSetup& setup, int64_t frames) {
  int64_t widest = 1;
  for (int64_t width : setup.net.hidden) {
    widest = std::max(widest, width);
  }
  if (setup.line) {
    widest = 1;
  }
  const auto points = static_cast<double>(
      std::max<int64_t>(1, setup.data.x_train.size(0) + setup.data.x_test.size(0)));
  const double parameters = static_cast<double>(parameters_of(setup)) * kCopiesPerParameter;
  const double activations = points * static_cast<double>(widest) * kCopiesPerActivation;
  const double data = points * 2.0 * 3.0;  // x and y, as drawn, batched and on the device
  // A panel's snapshots (200-point curves), and the kept loss history (~4096 entries).
  const double snapshots = static_cast<double>(frames) * 200.0 + 4096.0 * 3.0;
  return kFloat * (parameters + activations + data + snapshots);
}

double batch_budget_bytes() { return std::clamp(memory_left() / 2.0, 1.0e6, kMostBatchBytes); }

SweepTraining plan_sweep(Demo demo, const RunOptions& options, const XyPoints* file) {
  SweepTraining training;
  const std::vector<uint64_t> seeds =
      options.seeds.empty() ? std::vector<uint64_t>{options.seed} : options.seeds;
  for (uint64_t seed : seeds) {
    for (double lr : options.lrs) {
      RunOptions single = options;
      single.seed = seed;
      single.lr = lr;
      SweepRun run;
      run.seed = seed;
      run.lr = lr;
      run.setup = make_setup(demo, single, file);        // seeds, then draws data (line: per seed)
      training.models.push_back(make_model(run.setup));  // then the model: as the single run
      training.runs.push_back(std::move(run));
    }
  }
  return training;
}

void train_sweep(SweepTraining& training, const RunOptions& options,
                 const std::vector<int64_t>& frame_at, const torch::Tensor& curve_x) {
  const std::vector<torch::nn::Sequential>& models = training.models;
  const DemoSetup& first = training.runs.front().setup;
  const bool batch = options.gradients != Gradients::autograd &&
                     options.kernels.value_or(TrainPath::fastest) != TrainPath::exact &&
                     supports_batched_training(models.front());
  training.batched = batch;
  training.batch_size =
      batch ? batch_size_for(first, models.size(), static_cast<int64_t>(frame_at.size())) : 1;
  spdlog::info("sweep {}: {} models ({} seed(s) x {} rate(s)), {} epochs each, {} on {}",
               first.demo, models.size(), models.size() / options.lrs.size(), options.lrs.size(),
               first.epochs,
               batch ? "in batches of " + std::to_string(training.batch_size)
                     : std::string("one after another"),
               device_name(first.device));

  const auto start = std::chrono::steady_clock::now();
  for (size_t begin = 0; begin < models.size() && stop_signal() == 0;
       begin += static_cast<size_t>(training.batch_size)) {
    const size_t end = std::min(models.size(), begin + static_cast<size_t>(training.batch_size));
    try {
      train_batch(training, options, frame_at, curve_x, begin, end, batch);
    } catch (const std::bad_alloc&) {
      // What trained so far is kept and published; the rest is reported as not trained.
      training.out_of_memory = true;
      spdlog::error(
          "sweep: out of memory training models {} to {} of {}; the {} trained before "
          "are kept",
          begin + 1, end, models.size(), begin);
      for (size_t k = begin; k < end; ++k) {
        training.runs[k].result = TrainResult{};
        training.runs[k].snapshots.clear();
        training.runs[k].trained = false;
      }
      break;
    }
  }
  training.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const SweepRun& run : training.runs) {
    if (run.result.diverged_at_epoch) {
      spdlog::warn("{}: diverged at epoch {}; the sweep goes on", run_label(run, options),
                   *run.result.diverged_at_epoch);
    }
  }
}

namespace {

// Trains models [begin, end): one batch of the batched trainer, or one after another.
void train_batch(SweepTraining& training, const RunOptions& options,
                 const std::vector<int64_t>& frame_at, const torch::Tensor& curve_x, size_t begin,
                 size_t end, bool batch) {
  const std::vector<torch::nn::Sequential>& models = training.models;
  const DemoSetup& first = training.runs.front().setup;
  for (size_t k = begin; k < end; ++k) {
    training.runs[k].trained = true;
  }
  if (batch) {
    std::vector<ModelRef> refs;
    std::vector<Dataset> data;
    BatchedOptions batched;
    batched.epochs = first.epochs;
    batched.lrs.clear();
    for (size_t k = begin; k < end; ++k) {
      refs.emplace_back(models[k]);
      data.push_back(training.runs[k].setup.data);
      batched.lrs.push_back(training.runs[k].lr);
    }
    batched.optimizer = first.optimizer;
    batched.device = first.device;
    batched.snapshot_epochs = frame_at;
    batched.curve_x = curve_x;
    batched.threads = options.threads.value_or(0);  // --threads, or one per core
    BatchedCallbacks callbacks;
    callbacks.on_snapshot = [&](int64_t model, const Snapshot& s) {
      training.runs[begin + static_cast<size_t>(model)].snapshots.push_back(panel_snapshot(s));
    };
    callbacks.should_stop = [] { return stop_signal() != 0; };
    BatchedResult result = train_batched(refs, data, batched, callbacks);
    for (size_t k = begin; k < end; ++k) {
      training.runs[k].result = std::move(result.runs[k - begin]);
    }
  } else {
    for (size_t k = begin; k < end; ++k) {
      SweepRun& run = training.runs[k];
      RunOptions single = options;
      single.lr = run.lr;
      TrainOptions train_options = train_options_for(run.setup, single);
      train_options.curve_x = curve_x;
      train_options.snapshot_epochs = frame_at;
      TrainCallbacks callbacks;
      callbacks.on_snapshot = [&](const Snapshot& s) {
        run.snapshots.push_back(panel_snapshot(s));
      };
      callbacks.should_stop = [] { return stop_signal() != 0; };
      if (stop_signal() != 0) {
        run.trained = false;  // the signal came before this run started
        continue;
      }
      run.result = train(models[k], run.setup.data, train_options, callbacks);
    }
  }
}

}  // namespace

std::string run_outcome(const SweepRun& run, const SweepTraining& training) {
  if (!run.trained || run.result.epochs_run == 0) {
    return training.out_of_memory ? "not trained (out of memory)" : "not trained (interrupted)";
  }
  if (run.result.diverged_at_epoch) {
    return "diverged at epoch " + std::to_string(*run.result.diverged_at_epoch);
  }
  const std::string loss = fmt::format("final loss {:.6g}", run.result.losses.last());
  return run.result.interrupted
             ? loss + " (interrupted after " + std::to_string(run.result.epochs_run) + " epochs)"
             : loss;
}

std::string run_label(const SweepRun& run, const RunOptions& options) {
  const std::string rate = fmt::format("lr {:g}", run.lr);
  if (options.seeds.empty()) {
    return rate;
  }
  const std::string seed = "seed " + std::to_string(run.seed);
  return options.lrs.size() == 1 ? seed : seed + ", " + rate;
}

}  // namespace fitreel::app
