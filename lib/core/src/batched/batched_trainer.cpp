// train_batched(): checks, grouping the models into batches (and the ones train() runs alone),
// stacking a batch, the epoch loop with its per-model bookkeeping (losses, divergence,
// snapshots), and copying the trained parameters back.
#include <fitreel/batched.hpp>

#include <fitreel/device.hpp>
#include <fitreel/error.hpp>
#include <fitreel/evaluate.hpp>
#include <fitreel/model.hpp>
#include <fitreel/runtime.hpp>
#include <fitreel/shape.hpp>

#include "batched/batched_epoch.hpp"
#include "batched/memory_budget.hpp"
#include "checks.hpp"
#include "train_step.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <string>

namespace fitreel {

namespace {

using Clock = std::chrono::steady_clock;

const Dataset& data_of(const std::vector<Dataset>& data, size_t k) {
  return data.size() == 1 ? data[0] : data[k];
}

// Runs `check`, prefixing what it throws with which model it is about (same exception type;
// anything else fitreel throws, such as a forward LibTorch refuses, as a fitreel::Error).
template <class Check>
auto for_model(size_t k, Check&& check) -> decltype(check()) {
  const std::string prefix = "model " + std::to_string(k) + ": ";
  try {
    return check();
  } catch (const ShapeError& error) {
    throw ShapeError(prefix + error.what());
  } catch (const DeviceError& error) {
    throw DeviceError(prefix + error.what());
  } catch (const InputError& error) {
    throw InputError(prefix + error.what());
  } catch (const Error& error) {
    throw Error(prefix + error.what());
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
    detail::check_learning_rate(options.lrs[k], "BatchedOptions::lrs[" + std::to_string(k) + "]");
  }
  if (options.epochs < 1) {
    throw InputError("BatchedOptions::epochs is " + std::to_string(options.epochs) +
                     ": train at least 1 epoch");
  }
  if (!(options.batch_memory_bytes >= 0.0) || std::isinf(options.batch_memory_bytes)) {
    throw InputError("BatchedOptions::batch_memory_bytes is " +
                     std::to_string(options.batch_memory_bytes) +
                     ": give a budget in bytes, or 0 for half of the free memory");
  }
  if (options.threads < 0) {
    throw InputError("BatchedOptions::threads is " + std::to_string(options.threads) +
                     ": give a count, or 0 for one per core");
  }
}

// One thread per CPU this process may run on (taskset and cgroups narrow it), or as asked.
int cpu_threads(int requested) { return requested > 0 ? requested : usable_cpus(); }

// Model k's own run, as train() takes it.
TrainOptions single_options(const BatchedOptions& options, size_t k) {
  TrainOptions single;
  single.epochs = options.epochs;
  single.lr = options.lrs[options.lrs.size() == 1 ? 0 : k];
  single.optimizer = options.optimizer;
  single.device = options.device;
  single.snapshot_epochs = options.snapshot_epochs;
  single.curve_x = options.curve_x;
  single.cuda_graphs = options.cuda_graphs;
  single.path = options.path;
  single.gradients = options.gradients;
  return single;
}

// Every check train() makes, per model, and distinct modules: all before anything trains.
void check_models(const std::vector<ModelRef>& models, const std::vector<Dataset>& data,
                  const BatchedOptions& options) {
  check_counts(models, data, options);
  for (size_t k = 0; k < models.size(); ++k) {
    for_model(
        k, [&] { check_training_inputs(models[k], data_of(data, k), single_options(options, k)); });
    for (size_t j = 0; j < k; ++j) {
      if (models[j].shared() == models[k].shared()) {
        throw InputError("models " + std::to_string(j) + " and " + std::to_string(k) +
                         " are the same module: pass each model once (clone() it for a "
                         "second run)");
      }
    }
  }
}

// Models that train together: one architecture the batched kernels cover and one number of
// training rows (plan set), or one model the kernels do not cover, for train() (no plan).
struct Group {
  std::vector<size_t> members;  // indices in the caller's order
  std::optional<detail::SequentialPlan> plan;
};

// Splits each batch into batches whose models fit the memory budget together.
std::vector<Group> within_budget(std::vector<Group> groups, const std::vector<Dataset>& data,
                                 const BatchedOptions& options) {
  const double budget = options.batch_memory_bytes > 0.0 ? options.batch_memory_bytes
                                                         : detail::default_batch_budget_bytes();
  const int64_t curve_points = options.curve_x.defined() ? options.curve_x.numel() : 0;
  std::vector<Group> split;
  for (Group& group : groups) {
    if (!group.plan) {
      split.push_back(std::move(group));
      continue;
    }
    const Dataset& first = data_of(data, group.members[0]);
    const int64_t points =
        first.x_train.size(0) + (first.holds_out() ? first.x_test.size(0) : int64_t{0});
    const auto size = static_cast<size_t>(detail::models_per_batch(
        budget,
        detail::bytes_per_batched_model(*group.plan, points,
                                        static_cast<int64_t>(options.snapshot_epochs.size()),
                                        curve_points),
        static_cast<int64_t>(group.members.size())));
    for (size_t begin = 0; begin < group.members.size(); begin += size) {
      const auto end = group.members.begin() +
                       static_cast<std::ptrdiff_t>(std::min(group.members.size(), begin + size));
      split.push_back(
          {{group.members.begin() + static_cast<std::ptrdiff_t>(begin), end}, group.plan});
    }
  }
  return split;
}

// Groups in the order of their first model, so runs start in roughly the order given.
std::vector<Group> group_models(const std::vector<ModelRef>& models,
                                const std::vector<Dataset>& data, const BatchedOptions& options) {
  const bool alone = options.path == TrainPath::exact || options.gradients == Gradients::autograd;
  std::vector<Group> groups;
  for (size_t k = 0; k < models.size(); ++k) {
    detail::PlanOrReason planned = detail::sequential_plan_of(models[k]);
    if (alone || !planned.plan) {
      groups.push_back({{k}, std::nullopt});
      continue;
    }
    const int64_t rows = data_of(data, k).x_train.size(0);
    const auto joins = [&](const Group& group) {
      return group.plan && group.plan->layers == planned.plan->layers &&
             data_of(data, group.members[0]).x_train.size(0) == rows;
    };
    const auto found = std::find_if(groups.begin(), groups.end(), joins);
    if (found == groups.end()) {
      groups.push_back({{k}, std::move(planned.plan)});
    } else {
      found->members.push_back(k);
    }
  }
  return groups;
}

// A column (N, 1) for each model (or one for all), as rows [K, 1, N] on `device`: the
// batched epoch keeps samples innermost.
torch::Tensor stacked_rows(const std::vector<torch::Tensor>& columns, int64_t models,
                           const torch::Device& device) {
  if (columns.size() == 1) {
    return columns[0].to(device).reshape({1, 1, -1}).expand({models, 1, -1}).contiguous();
  }
  return torch::stack(columns).to(device).transpose(1, 2).contiguous();
}

// The batched epoch as a TrainStep, so train()'s CUDA graph wrapper can capture and replay it.
class EagerBatchedEpoch final : public detail::TrainStep {
 public:
  explicit EagerBatchedEpoch(detail::BatchedEpoch& epoch) : epoch_(epoch) {}
  torch::Tensor run() override { return epoch_.run(); }
  // The wrapper only replays full-batch epochs; the batch keeps its optimizers to itself.
  torch::Tensor run(const torch::Tensor&, const torch::Tensor&) override {
    throw std::logic_error("a batched epoch takes no mini-batches");
  }
  detail::StepOptimizer& optimizer() override {
    throw std::logic_error("a batched epoch has no single optimizer");
  }

 private:
  detail::BatchedEpoch& epoch_;
};

// Stack: each model's parameters where its own run would start, parameter j of every model in
// one block; each module moved to `device` in train mode, as train() leaves it.
detail::StackedParameters stack_models(const std::vector<ModelRef>& models,
                                       const detail::SequentialPlan& plan,
                                       const torch::Device& device, BatchedResult& result) {
  const auto count = static_cast<int64_t>(models.size());
  detail::StackedParameters params(plan.param_shapes, count,
                                   torch::TensorOptions(device).dtype(torch::kFloat32));
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
  return params;
}

// The models each running model starts `epoch` from (curves of `curve_x` [K, 1, M] when defined);
// their losses are filled in once the epoch has computed them.
std::vector<Snapshot> snapshots_at(int64_t epoch, const detail::SequentialPlan& plan,
                                   const detail::StackedParameters& params,
                                   const torch::Tensor& curve_x, const std::vector<bool>& running) {
  std::vector<Snapshot> snapshots(running.size());
  const torch::Tensor curve = curve_x.defined()
                                  ? detail::predict_batched(plan, params, curve_x).to(torch::kCPU)
                                  : torch::Tensor();
  for (size_t k = 0; k < running.size(); ++k) {
    if (running[k]) {
      snapshots[k] = {epoch, 0.0F, params.model_values(static_cast<int64_t>(k)), {}, false};
      if (curve_x.defined()) {
        const torch::Tensor own = curve[static_cast<int64_t>(k)].contiguous();
        snapshots[k].curve.assign(own.data_ptr<float>(), own.data_ptr<float>() + own.numel());
      }
    }
  }
  return snapshots;
}

// Loop: epochs until the last, until every model has diverged, or until should_stop(); each
// running model's loss, divergence and due snapshots go to its run. `graph` (CUDA) replays the
// epoch until a model diverges.
void run_epochs(detail::BatchedEpoch& batched, std::unique_ptr<detail::TrainStep>& graph,
                const detail::SequentialPlan& plan, const detail::StackedParameters& params,
                const torch::Tensor& curve_x, const BatchedOptions& options,
                const BatchedCallbacks& callbacks, BatchedResult& result) {
  const size_t count = result.runs.size();
  std::vector<bool> running(count, true);
  size_t still_running = count;
  std::vector<Snapshot> snapshots;
  auto next_snapshot = options.snapshot_epochs.begin();
  const auto start = Clock::now();
  int64_t epoch = 0;
  while (epoch < options.epochs) {
    while (next_snapshot != options.snapshot_epochs.end() && *next_snapshot < epoch) {
      ++next_snapshot;
    }
    const bool snapshot_due = next_snapshot != options.snapshot_epochs.end() &&
                              *next_snapshot == epoch && callbacks.on_snapshot;
    if (snapshot_due) {
      snapshots = snapshots_at(epoch, plan, params, curve_x, running);
    }

    const torch::Tensor computed = graph ? graph->run() : batched.run();
    const torch::Tensor losses = options.device.is_cpu() ? computed : computed.to(torch::kCPU);
    const float* loss = losses.data_ptr<float>();
    std::vector<size_t> diverged_now;
    for (size_t k = 0; k < count; ++k) {
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
    for (size_t k : diverged_now) {
      graph.reset();  // from here on eagerly: the capture cannot hold a frozen model
      batched.freeze(static_cast<int64_t>(k));
      running[k] = false;
      --still_running;
    }
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
}

// Where a run that ended early (diverged, stopped, never started) ended up: its last snapshot.
Snapshot final_snapshot(const ModelRef& model, const Dataset& data, const TrainResult& run,
                        const BatchedOptions& options) {
  Snapshot last{run.epochs_run, 0.0F, run.final_params, {}, true};
  last.loss = static_cast<float>(
      mse(model, data.x_train.to(options.device), data.y_train.to(options.device)));
  if (options.curve_x.defined() && options.curve_x.numel() > 0) {
    last.curve = predict(model, options.curve_x.to(options.device));
  }
  return last;
}

// Unstack: each model's trained parameters back into its module, its share of the time, and
// (as train() gives every run that ends early) a final snapshot of where it stopped.
void unstack_models(const std::vector<ModelRef>& models, const std::vector<Dataset>& data,
                    const detail::StackedParameters& params, const BatchedOptions& options,
                    const BatchedCallbacks& callbacks, BatchedResult& result) {
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < models.size(); ++k) {
    const std::vector<torch::Tensor> own = models[k].module().parameters();
    for (size_t j = 0; j < own.size(); ++j) {
      own[j].copy_(params.block(j)[static_cast<int64_t>(k)]);
    }
    TrainResult& run = result.runs[k];
    run.final_params = flat_parameters(models[k].module());
    run.seconds = result.seconds / static_cast<double>(models.size());
    run.interrupted = result.interrupted && !run.diverged_at_epoch;
    if (callbacks.on_snapshot && run.epochs_run < options.epochs) {
      callbacks.on_snapshot(k, final_snapshot(models[k], data_of(data, k), run, options));
    }
  }
}

// One batch of checked models sharing `plan`: stack, loop, unstack.
BatchedResult train_checked(const std::vector<ModelRef>& models, const std::vector<Dataset>& data,
                            const BatchedOptions& options, const BatchedCallbacks& callbacks,
                            const detail::SequentialPlan& plan) {
  const auto count = static_cast<int64_t>(models.size());
  const torch::Device device = options.device;
  BatchedResult result;
  result.runs.resize(models.size());
  detail::StackedParameters params = stack_models(models, plan, device, result);

  std::vector<torch::Tensor> xs, ys;
  for (const Dataset& d : data) {
    xs.push_back(d.x_train);
    ys.push_back(d.y_train);
  }
  std::vector<double> lrs = options.lrs;
  lrs.resize(models.size(), options.lrs[0]);
  const std::unique_ptr<detail::BatchedEpoch> batched = detail::make_batched_epoch(
      plan, params, stacked_rows(xs, count, device), stacked_rows(ys, count, device),
      options.optimizer, lrs, options.fused_cpu_kernels, cpu_threads(options.threads));
  const bool curves = options.curve_x.defined() && options.curve_x.numel() > 0;
  const torch::Tensor curve_x =
      curves ? stacked_rows({options.curve_x}, count, device) : torch::Tensor();
  // On CUDA the epoch is captured once and replayed, as train() does, until a model diverges
  // (freezing it adds a kernel the capture lacks); Adam's bias correction changes on the host
  // every epoch, so it runs eagerly.
  const bool graphed = options.cuda_graphs && device.is_cuda() && detail::cuda_graphs_compiled() &&
                       options.optimizer != OptimizerKind::adam;
  std::unique_ptr<detail::TrainStep> graph =
      graphed ? detail::make_cuda_graph_step(std::make_unique<EagerBatchedEpoch>(*batched))
              : nullptr;
  const detail::SideStreamScope stream_scope(graphed ? device : torch::Device(torch::kCPU));
  for (TrainResult& run : result.runs) {
    run.used_cuda_graph = graphed;
  }

  run_epochs(*batched, graph, plan, params, curve_x, options, callbacks, result);
  unstack_models(models, data, params, options, callbacks, result);
  return result;
}

// A run should_stop() kept from starting: on options.device as if trained, with no epochs, and
// (as every run that ends early) one final snapshot of where it is.
TrainResult not_started(const ModelRef& model, const Dataset& data, const BatchedOptions& options,
                        const std::function<void(const Snapshot&)>& on_snapshot) {
  TrainResult run;
  torch::nn::Module& module = model.module();
  module.to(options.device);
  run.initial_params = flat_parameters(module);
  run.final_params = run.initial_params;
  run.interrupted = true;
  if (on_snapshot) {
    on_snapshot(final_snapshot(model, data, run, options));
  }
  return run;
}

BatchedResult train_all(const std::vector<ModelRef>& models, const std::vector<Dataset>& data,
                        const BatchedOptions& options, const BatchedCallbacks& callbacks) {
  BatchedResult result;
  result.models = models;
  result.runs.resize(models.size());
  // Once should_stop() says so, the run it ends is the last one started.
  bool stopped = false;
  std::function<bool()> should_stop;
  if (callbacks.should_stop) {
    should_stop = [&] {
      stopped = stopped || callbacks.should_stop();
      return stopped;
    };
  }
  const auto on_snapshot_of = [&](size_t k) -> std::function<void(const Snapshot&)> {
    if (!callbacks.on_snapshot) {
      return {};
    }
    const auto model = static_cast<int64_t>(k);
    return [&callbacks, model](const Snapshot& s) { callbacks.on_snapshot(model, s); };
  };

  // One group: not started (after a stop), alone through train(), or one batch.
  const auto train_group = [&](const Group& group) {
    if (stopped) {
      for (size_t k : group.members) {
        result.runs[k] = for_model(k, [&] {
          return detail::translating_torch_errors("train_batched", [&] {
            return not_started(models[k], data_of(data, k), options, on_snapshot_of(k));
          });
        });
      }
    } else if (!group.plan) {
      const size_t k = group.members[0];
      result.runs[k] = for_model(k, [&] {
        return train(models[k], data_of(data, k), single_options(options, k),
                     {on_snapshot_of(k), {}, should_stop, {}});
      });
    } else {
      std::vector<ModelRef> batch;
      std::vector<Dataset> batch_data;
      BatchedOptions batch_options = options;
      batch_options.lrs.clear();
      for (size_t k : group.members) {
        batch.push_back(models[k]);
        if (data.size() != 1) {
          batch_data.push_back(data[k]);
        }
        batch_options.lrs.push_back(options.lrs[options.lrs.size() == 1 ? 0 : k]);
      }
      if (data.size() == 1) {
        batch_data.push_back(data[0]);  // shared: stacked once, broadcast to every model
      }
      BatchedCallbacks batch_callbacks{{}, should_stop};
      if (callbacks.on_snapshot) {
        batch_callbacks.on_snapshot = [&](int64_t j, const Snapshot& s) {
          callbacks.on_snapshot(static_cast<int64_t>(group.members[static_cast<size_t>(j)]), s);
        };
      }
      BatchedResult done = detail::translating_torch_errors("train_batched", [&] {
        return train_checked(batch, batch_data, batch_options, batch_callbacks, *group.plan);
      });
      for (size_t j = 0; j < group.members.size(); ++j) {
        result.runs[group.members[j]] = std::move(done.runs[j]);
      }
      result.models_batched += static_cast<int64_t>(group.members.size());
    }
  };

  const auto start = Clock::now();
  const std::vector<Group> groups =
      within_budget(group_models(models, data, options), data, options);
  for (const Group& group : groups) {
    if (group.plan) {
      result.batch_size = std::max(result.batch_size, static_cast<int64_t>(group.members.size()));
    }
  }
  for (auto group = groups.begin(); group != groups.end(); ++group) {
    try {
      train_group(*group);
    } catch (const std::bad_alloc&) {
      // What trained before is kept; this batch and the ones after it report no training.
      result.out_of_memory = true;
      for (; group != groups.end(); ++group) {
        for (size_t k : group->members) {
          result.runs[k] = TrainResult{};
        }
      }
      break;
    }
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (const TrainResult& run : result.runs) {
    result.epochs_run = std::max(result.epochs_run, run.epochs_run);
    result.interrupted = result.interrupted || run.interrupted;
  }
  return result;
}

}  // namespace

bool supports_batched_training(const ModelRef& model) {
  return detail::sequential_plan_of(model).plan.has_value();
}

BatchedResult train_batched(const std::vector<ModelRef>& models, const std::vector<Dataset>& data,
                            const BatchedOptions& options, const BatchedCallbacks& callbacks) {
  check_models(models, data, options);
  return train_all(models, data, options, callbacks);
}

BatchedResult train_batched(const std::function<ModelRef(int64_t k)>& make_model, int64_t count,
                            const std::vector<Dataset>& data, const BatchedOptions& options,
                            const BatchedCallbacks& callbacks) {
  if (!make_model) {
    throw InputError("train_batched got an empty make_model: pass a function that returns model k");
  }
  if (count < 1) {
    throw InputError("train_batched got count " + std::to_string(count) +
                     ": make at least 1 model");
  }
  std::vector<ModelRef> models;
  models.reserve(static_cast<size_t>(count));
  for (int64_t k = 0; k < count; ++k) {  // in order: a factory that seeds gets each seed's draw
    models.push_back(make_model(k));
  }
  return train_batched(models, data, options, callbacks);
}

}  // namespace fitreel
