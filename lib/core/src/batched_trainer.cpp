// train_batched(): checks, stacking the models, the epoch loop with its per-model bookkeeping
// (losses, divergence, snapshots), and copying the trained parameters back.
#include <fitreel/batched.hpp>

#include <fitreel/device.hpp>
#include <fitreel/error.hpp>
#include <fitreel/evaluate.hpp>
#include <fitreel/model.hpp>
#include <fitreel/shape.hpp>

#include "batched_step.hpp"
#include "checks.hpp"

#include <torch/torch.h>

#include <chrono>
#include <cmath>

namespace fitreel {

namespace {

using Clock = std::chrono::steady_clock;

const Dataset& data_of(const std::vector<Dataset>& data, size_t k) {
  return data.size() == 1 ? data[0] : data[k];
}

// Runs `check`, prefixing what it throws with which model it is about (same exception type).
template <class Check>
void for_model(size_t k, Check&& check) {
  const std::string prefix = "model " + std::to_string(k) + ": ";
  try {
    check();
  } catch (const ShapeError& error) {
    throw ShapeError(prefix + error.what());
  } catch (const DeviceError& error) {
    throw DeviceError(prefix + error.what());
  } catch (const InputError& error) {
    throw InputError(prefix + error.what());
  }
}

void check_counts(const std::vector<ModelRef>& models, const std::vector<Dataset>& data,
                  const BatchedOptions& options) {
  const std::string count = std::to_string(models.size());
  if (models.empty()) {
    throw InputError("train_batched got no models: pass at least one");
  }
  if (data.size() != 1 && data.size() != models.size()) {
    throw InputError("train_batched got " + std::to_string(data.size()) + " datasets for " + count +
                     " models: pass one Dataset for all, or one per model");
  }
  if (options.lrs.size() != 1 && options.lrs.size() != models.size()) {
    throw InputError("BatchedOptions::lrs has " + std::to_string(options.lrs.size()) +
                     " rates for " + count + " models: give one for all, or one per model");
  }
  for (size_t k = 0; k < options.lrs.size(); ++k) {
    if (!(options.lrs[k] > 0.0) || !std::isfinite(options.lrs[k])) {
      throw InputError("BatchedOptions::lrs[" + std::to_string(k) + "] is " +
                       std::to_string(options.lrs[k]) +
                       ": every learning rate must be finite and greater than 0");
    }
  }
  if (options.epochs < 1) {
    throw InputError("BatchedOptions::epochs is " + std::to_string(options.epochs) +
                     ": train at least 1 epoch");
  }
}

// Every check train() makes, per model, then what batching adds: one architecture the
// batched kernels cover, distinct modules, datasets of one size. Returns the architecture.
detail::BatchedPlan check_batch(const std::vector<ModelRef>& models,
                                const std::vector<Dataset>& data, const BatchedOptions& options) {
  check_counts(models, data, options);
  std::optional<detail::BatchedPlan> shared;
  for (size_t k = 0; k < models.size(); ++k) {
    TrainOptions single;
    single.epochs = options.epochs;
    single.lr = options.lrs[options.lrs.size() == 1 ? 0 : k];
    single.optimizer = options.optimizer;
    single.device = options.device;
    single.snapshot_epochs = options.snapshot_epochs;
    single.curve_x = options.curve_x;
    for_model(k, [&] { check_training_inputs(models[k], data_of(data, k), single); });

    detail::PlanOrReason planned = detail::batched_plan_of(models[k]);
    if (!planned.plan) {
      throw InputError("train_batched cannot batch model " + std::to_string(k) + ": " +
                       planned.reason + " (train it on its own with fitreel::train)");
    }
    if (!shared) {
      shared = planned.plan;
    } else if (!(planned.plan->layers == shared->layers)) {
      throw InputError("model " + std::to_string(k) + " is " + planned.plan->describe() +
                       " but model 0 is " + shared->describe() +
                       ": a batch trains models of one architecture");
    }
    for (size_t j = 0; j < k; ++j) {
      if (models[j].shared() == models[k].shared()) {
        throw InputError("models " + std::to_string(j) + " and " + std::to_string(k) +
                         " are the same module: pass each model once (clone() it for a "
                         "second run)");
      }
    }
    const int64_t rows = data_of(data, k).x_train.size(0);
    const int64_t rows0 = data[0].x_train.size(0);
    if (rows != rows0) {
      throw InputError("dataset " + std::to_string(k) + " has " + std::to_string(rows) +
                       " training rows but dataset 0 has " + std::to_string(rows0) +
                       ": a batch trains on datasets of one size");
    }
  }
  return *shared;
}

// A column (N, 1) for each model (or one for all), as rows [K, 1, N] on `device`: the
// batched step keeps samples innermost.
torch::Tensor stacked_rows(const std::vector<torch::Tensor>& columns, int64_t models,
                           const torch::Device& device) {
  if (columns.size() == 1) {
    return columns[0].to(device).reshape({1, 1, -1}).expand({models, 1, -1}).contiguous();
  }
  return torch::stack(columns).to(device).transpose(1, 2).contiguous();
}

BatchedResult train_checked(const std::vector<ModelRef>& models, const std::vector<Dataset>& data,
                            const BatchedOptions& options, const BatchedCallbacks& callbacks,
                            detail::BatchedPlan plan) {
  const auto count = static_cast<int64_t>(models.size());
  const torch::Device device = options.device;
  BatchedResult result;
  result.runs.resize(models.size());

  // Stack the models' parameters, each model where its own run would start.
  detail::StackedParameters params(plan.param_shapes, count,
                                   torch::TensorOptions(device).dtype(torch::kFloat32));
  {
    torch::NoGradGuard no_grad;
    for (int64_t k = 0; k < count; ++k) {
      torch::nn::Module& module = models[k].module();
      result.runs[k].initial_params = flat_parameters(module);
      result.runs[k].used_analytic_gradients = true;
      module.to(device);
      module.train();
      const std::vector<torch::Tensor> own = module.parameters();
      for (size_t j = 0; j < own.size(); ++j) {
        params.block(j)[k].copy_(own[j]);
      }
    }
  }
  std::vector<torch::Tensor> xs, ys;
  for (const Dataset& d : data) {
    xs.push_back(d.x_train);
    ys.push_back(d.y_train);
  }
  std::vector<double> lrs = options.lrs;
  lrs.resize(models.size(), options.lrs[0]);
  detail::BatchedStep step(plan, params, stacked_rows(xs, count, device),
                           stacked_rows(ys, count, device), options.optimizer, lrs,
                           options.fused_cpu_kernels);
  const bool curves = options.curve_x.defined() && options.curve_x.numel() > 0;
  const torch::Tensor curve_x =
      curves ? stacked_rows({options.curve_x}, count, device) : torch::Tensor();

  std::vector<bool> running(models.size(), true);
  int64_t still_running = count;
  std::vector<Snapshot> snapshots(models.size());
  std::vector<int64_t> diverged_now;
  auto next_snapshot = options.snapshot_epochs.begin();
  const auto start = Clock::now();
  int64_t epoch = 0;
  while (epoch < options.epochs) {
    while (next_snapshot != options.snapshot_epochs.end() && *next_snapshot < epoch) {
      ++next_snapshot;
    }
    const bool snapshot_due = next_snapshot != options.snapshot_epochs.end() &&
                              *next_snapshot == epoch && callbacks.on_snapshot;
    if (snapshot_due) {  // the models this epoch starts from
      const torch::Tensor curve = curves ? step.predict(curve_x).to(torch::kCPU) : torch::Tensor();
      for (int64_t k = 0; k < count; ++k) {
        if (running[k]) {
          snapshots[k] = {epoch, 0.0F, params.model_values(k), {}, false};
          if (curves) {
            const torch::Tensor own = curve[k].contiguous();
            snapshots[k].curve.assign(own.data_ptr<float>(), own.data_ptr<float>() + own.numel());
          }
        }
      }
    }

    const torch::Tensor& computed = step.run();
    const torch::Tensor losses = device.is_cpu() ? computed : computed.to(torch::kCPU);
    const float* loss = losses.data_ptr<float>();
    for (int64_t k = 0; k < count; ++k) {
      if (!running[k]) {
        continue;
      }
      TrainResult& run = result.runs[k];
      run.losses.add(epoch, loss[k]);
      run.epochs_run = epoch + 1;
      if (!std::isfinite(loss[k])) {
        run.diverged_at_epoch = epoch;
        diverged_now.push_back(k);
      }
      if (snapshot_due) {
        snapshots[k].loss = loss[k];
        snapshots[k].final = epoch + 1 == options.epochs;
        callbacks.on_snapshot(k, snapshots[k]);
      }
    }
    ++epoch;
    // As train() does, a diverged model keeps what its diverging epoch's step made of it.
    for (int64_t k : diverged_now) {
      step.freeze(k);
      running[k] = false;
      --still_running;
    }
    diverged_now.clear();
    if (still_running == 0) {
      break;
    }
    if (callbacks.should_stop && callbacks.should_stop()) {
      result.interrupted = epoch < options.epochs;
      break;
    }
  }
  result.epochs_run = epoch;
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();

  torch::NoGradGuard no_grad;
  for (int64_t k = 0; k < count; ++k) {
    const std::vector<torch::Tensor> own = models[k].module().parameters();
    for (size_t j = 0; j < own.size(); ++j) {
      own[j].copy_(params.block(j)[k]);
    }
    TrainResult& run = result.runs[k];
    run.final_params = flat_parameters(models[k].module());
    run.seconds = result.seconds / static_cast<double>(count);
    run.interrupted = result.interrupted && !run.diverged_at_epoch;
    if (callbacks.on_snapshot && run.epochs_run < options.epochs) {
      // The run stopped between scheduled frames: show where it ended up.
      const Dataset& own_data = data_of(data, k);
      Snapshot last{run.epochs_run, 0.0F, run.final_params, {}, true};
      last.loss = static_cast<float>(
          mse(models[k], own_data.x_train.to(device), own_data.y_train.to(device)));
      if (curves) {
        last.curve = predict(models[k], options.curve_x.to(device));
      }
      callbacks.on_snapshot(k, last);
    }
  }
  return result;
}

}  // namespace

bool supports_batched_training(const ModelRef& model) {
  return detail::batched_plan_of(model).plan.has_value();
}

BatchedResult train_batched(const std::vector<ModelRef>& models, const std::vector<Dataset>& data,
                            const BatchedOptions& options, const BatchedCallbacks& callbacks) {
  detail::BatchedPlan plan = check_batch(models, data, options);
  return detail::translating_torch_errors("train_batched", [&] {
    return train_checked(models, data, options, callbacks, std::move(plan));
  });
}

}  // namespace fitreel
