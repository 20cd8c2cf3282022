#include "sweep_runs.hpp"

#include <fmt/format.h>
#include <torch/torch.h>

namespace fitreel::app {

std::vector<ModelRef> SweepPlan::model_refs() const { return {models.begin(), models.end()}; }

std::vector<Dataset> SweepPlan::datasets() const {
  std::vector<Dataset> data;
  for (const SweepRun& run : runs) {
    data.push_back(run.setup.data);
  }
  return data;
}

SweepPlan plan_sweep(Demo demo, const RunOptions& options, const XyPoints* file) {
  SweepPlan plan;
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
      run.setup = make_setup(demo, single, file);    // seeds, then draws data (line: per seed)
      plan.models.push_back(make_model(run.setup));  // then the model: as the single run
      plan.runs.push_back(std::move(run));
    }
  }
  return plan;
}

BatchedOptions batched_options_for(const SweepPlan& plan, const RunOptions& options) {
  const DemoSetup& first = plan.runs.front().setup;
  BatchedOptions batched;
  batched.epochs = first.epochs;
  batched.lrs.clear();
  for (const SweepRun& run : plan.runs) {
    batched.lrs.push_back(run.lr);
  }
  batched.optimizer = first.optimizer;
  batched.device = first.device;
  batched.threads = options.threads.value_or(0);  // --threads, or one per core
  batched.cuda_graphs = options.cuda_graphs;
  // The sweep's default is the fused kernels; exact (or autograd) trains one model at a time.
  batched.path = options.kernels.value_or(TrainPath::fastest);
  batched.gradients = options.gradients;
  return batched;
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
