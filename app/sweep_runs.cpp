#include "sweep_runs.hpp"

#include "signals.hpp"

#include <fitreel/batched.hpp>
#include <fitreel/device.hpp>

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>

namespace fitreel::app {

namespace {

// A batch's working set grows with models x points x width: activations, their gradients
// and the optimizer's state. Sub-batches keep the largest allowed sweep (256 models, 64 wide,
// 10^5 points) near this, far under 4 GB.
constexpr double kBatchBytes = 1.0e9;
constexpr double kBytesPerModelPointUnit = 4.0 * 12;  // float32, ~12 live tensors of that shape

int64_t batch_size_for(const DemoSetup& setup, size_t models) {
  int64_t widest = 1;
  for (int64_t width : setup.net.hidden) {
    widest = std::max(widest, width);
  }
  if (setup.line) {
    widest = 1;
  }
  const double per_model = static_cast<double>(std::max<int64_t>(1, setup.data.x_train.size(0))) *
                           static_cast<double>(widest) * kBytesPerModelPointUnit;
  const auto fits = static_cast<int64_t>(kBatchBytes / per_model);
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

SweepTraining plan_sweep(const std::string& demo, const RunOptions& options, const XyPoints* file) {
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
  const bool batch = options.gradients != "autograd" && supports_batched_training(models.front());
  training.batched = batch;
  training.batch_size = batch ? batch_size_for(first, models.size()) : 1;
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
        run.result = train(models[k], run.setup.data, train_options, callbacks);
      }
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

std::string run_label(const SweepRun& run, const RunOptions& options) {
  const std::string rate = fmt::format("lr {:g}", run.lr);
  if (options.seeds.empty()) {
    return rate;
  }
  const std::string seed = "seed " + std::to_string(run.seed);
  return options.lrs.size() == 1 ? seed : seed + ", " + rate;
}

}  // namespace fitreel::app
