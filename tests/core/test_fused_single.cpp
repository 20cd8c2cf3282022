// train()'s fused path (TrainPath::fastest, the library's default): a model the fused CPU
// kernels cover trains through them as a batch of one. A sweep's model must equal that run bit
// for bit at any rate, batch size and thread count, also where training is chaotic (issue 23:
// lr 1 on the seed net, Adam on a 1-16-1 tanh net over 1600 points), and the run must stay
// within the batch contract of the exact path where it is not.
#include <fitreel/batched.hpp>
#include <fitreel/demos.hpp>
#include <fitreel/model.hpp>
#include <fitreel/trainer.hpp>

#include "model_copy.hpp"
#include "same_run.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace fitreel::fused_single_tests {  // named: unity batches share anonymous namespaces
namespace {

using testing_support::copy_of;
using testing_support::expect_same_run;

const NetSpec kSeedNet{{2}, Activation::sigmoid};

torch::nn::Sequential seeded_net(const NetSpec& spec, uint64_t seed) {
  torch::manual_seed(seed);
  return make_net(spec);
}

double relative(double a, double b) { return std::abs(a - b) / std::max(std::abs(b), 1e-30); }

// Every epoch's loss of a train() run, as on_loss hears them.
struct AllLosses {
  std::vector<float> values;
  TrainCallbacks callbacks() {
    TrainCallbacks callbacks;
    callbacks.on_loss = [this](int64_t, float loss) { values.push_back(loss); };
    return callbacks;
  }
};

// K models of `spec` (model k drawn with seed k) in one sweep on `threads` threads, then each
// alone through train()'s fused path: the same numbers, bit for bit.
void expect_sweep_equals_single_runs(const NetSpec& spec, OptimizerKind optimizer, double lr,
                                     int64_t points, int64_t epochs, int64_t models, int threads) {
  const Dataset data = demos::make_identity(points);
  std::vector<ModelRef> batch;
  std::vector<torch::nn::Sequential> singles;
  for (int64_t k = 0; k < models; ++k) {
    torch::nn::Sequential model = seeded_net(spec, static_cast<uint64_t>(k));
    singles.push_back(copy_of(model));
    batch.emplace_back(model);
  }
  BatchedOptions options;
  options.epochs = epochs;
  options.lrs = {lr};
  options.optimizer = optimizer;
  options.threads = threads;
  const BatchedResult sweep = train_batched(batch, {data}, options);
  ASSERT_EQ(sweep.models_batched, models);
  for (int64_t k = 0; k < models; ++k) {
    TrainOptions single;
    single.epochs = epochs;
    single.lr = lr;
    single.optimizer = optimizer;
    const TrainResult alone = train(singles[k], data, single);
    EXPECT_TRUE(alone.used_fused_kernels);
    expect_same_run(sweep.runs[static_cast<size_t>(k)], alone,
                    "model " + std::to_string(k) + ", " + std::to_string(threads) + " threads");
  }
}

TEST(FusedSingle, TheSeedNetTakesTheFusedPathAndSaysWhichRan) {
  const Dataset data = demos::make_identity(50);
  TrainOptions options;
  options.epochs = 20;
  const TrainResult fused = train(seeded_net(kSeedNet, 0), data, options);
  EXPECT_TRUE(fused.used_fused_kernels);
  EXPECT_TRUE(fused.used_analytic_gradients);

  options.path = TrainPath::exact;
  EXPECT_FALSE(train(seeded_net(kSeedNet, 0), data, options).used_fused_kernels);
  options.path = TrainPath::fastest;
  options.gradients = Gradients::analytic;  // a gradient method asked for: the exact path
  EXPECT_FALSE(train(seeded_net(kSeedNet, 0), data, options).used_fused_kernels);
  options.gradients = Gradients::automatic;

  // Set-ups the kernels do not cover fall back to the exact path.
  TrainOptions momentum = options;
  momentum.optimizer = OptimizerKind::sgd;
  momentum.optimizer_settings.momentum = 0.9;
  EXPECT_FALSE(train(seeded_net(kSeedNet, 0), data, momentum).used_fused_kernels);
  TrainOptions l1 = options;
  l1.loss.kind = Loss::Kind::l1;
  EXPECT_FALSE(train(seeded_net(kSeedNet, 0), data, l1).used_fused_kernels);
  TrainOptions amsgrad = options;
  amsgrad.optimizer = OptimizerKind::adam;
  amsgrad.optimizer_settings.amsgrad = true;
  EXPECT_FALSE(train(seeded_net(kSeedNet, 0), data, amsgrad).used_fused_kernels);
  // A Linear without bias is no model the kernels know.
  torch::nn::Sequential no_bias(torch::nn::Linear(torch::nn::LinearOptions(1, 1).bias(false)));
  EXPECT_FALSE(train(no_bias, data, options).used_fused_kernels);
}

// lr 1 on the seed net is chaotic: any difference in rounding grows until the runs part (the
// sweep and the exact path differ by ~20 % after 3000 epochs). The fused single run does not.
TEST(FusedSingle, ASweepsModelIsItsSingleRunAtLrOne) {
  for (int threads : {1, 2}) {
    expect_sweep_equals_single_runs(kSeedNet, OptimizerKind::adagrad, 1.0, 100, 3000, 8, threads);
  }
}

TEST(FusedSingle, ASweepsModelIsItsSingleRunWithAdamOnAWideTanhNet) {
  expect_sweep_equals_single_runs({{16}, Activation::tanh}, OptimizerKind::adam, 0.01, 1600, 300, 6,
                                  2);
}

TEST(FusedSingle, ASweepsModelIsItsSingleRunWithSgd) {
  expect_sweep_equals_single_runs({{8, 4}, Activation::relu}, OptimizerKind::sgd, 1e-5, 200, 500, 4,
                                  1);
}

// Where training is not chaotic the fused path meets the batch contract of the exact one: the
// final loss within 1e-5 relative, every epoch's loss within 1e-4.
void expect_within_contract(const TrainOptions& base, const torch::nn::Sequential& model,
                            const Dataset& data, const std::string& label) {
  TrainOptions exact = base;
  exact.path = TrainPath::exact;
  AllLosses fused_losses, exact_losses;
  torch::manual_seed(7);  // both runs shuffle their mini-batches from the same draws
  const TrainResult fused = train(copy_of(model), data, base, fused_losses.callbacks());
  torch::manual_seed(7);
  const TrainResult alone = train(copy_of(model), data, exact, exact_losses.callbacks());
  ASSERT_TRUE(fused.used_fused_kernels) << label;
  ASSERT_FALSE(alone.used_fused_kernels) << label;
  ASSERT_EQ(fused_losses.values.size(), exact_losses.values.size()) << label;
  EXPECT_LE(relative(fused.losses.last(), alone.losses.last()), 1e-5) << label;
  double worst = 0.0;
  for (size_t e = 0; e < exact_losses.values.size(); ++e) {
    worst = std::max(worst, relative(fused_losses.values[e], exact_losses.values[e]));
  }
  EXPECT_LE(worst, 1e-4) << label;
}

TEST(FusedSingle, FullBatchMiniBatchesAndSchedulesStayWithinTheContract) {
  const Dataset data = demos::make_identity(100);
  TrainOptions options;
  options.epochs = 3000;
  options.lr = 0.1;
  expect_within_contract(options, seeded_net(kSeedNet, 0), data, "full batch, adagrad");

  TrainOptions adam = options;
  adam.optimizer = OptimizerKind::adam;
  adam.lr = 0.001;
  adam.lr_schedule.kind = LrSchedule::Kind::cosine;
  expect_within_contract(adam, seeded_net(kSeedNet, 1), data, "adam, cosine schedule");

  TrainOptions batches = options;
  batches.epochs = 300;
  batches.batch_size = 16;  // 7 batches an epoch, the last of 4
  batches.lr_schedule.kind = LrSchedule::Kind::step;
  batches.lr_schedule.step_size = 100;
  batches.lr_schedule.gamma = 0.5;
  expect_within_contract(batches, seeded_net(kSeedNet, 2), data, "mini-batches, step schedule");

  TrainOptions accumulator = options;
  accumulator.optimizer_settings.initial_accumulator_value = 0.1;
  expect_within_contract(accumulator, seeded_net(kSeedNet, 3), data, "initial accumulator");
}

// The optimizer's state is torch::optim's own, updated in place: a run stopped and resumed from
// its state goes on as if it had never stopped, bit for bit.
TEST(FusedSingle, AResumedRunGoesOnExactly) {
  const Dataset data = demos::make_identity(100);
  for (OptimizerKind optimizer : {OptimizerKind::adagrad, OptimizerKind::adam}) {
    const std::string label(optimizer_name(optimizer));
    const torch::nn::Sequential straight = seeded_net(kSeedNet, 4);
    const torch::nn::Sequential halves = copy_of(straight);
    TrainOptions options;
    options.optimizer = optimizer;
    options.lr = 0.05;
    options.epochs = 400;
    const TrainResult whole = train(straight, data, options);
    options.epochs = 200;
    const TrainResult first = train(halves, data, options);
    ASSERT_TRUE(first.used_fused_kernels) << label;
    EXPECT_FALSE(first.state.optimizer.empty()) << label;
    options.resume = first.state;
    const TrainResult second = train(halves, data, options);
    EXPECT_EQ(second.final_params, whole.final_params) << label;
    EXPECT_EQ(second.losses.last(), whole.losses.last()) << label;
  }
}

}  // namespace
}  // namespace fitreel::fused_single_tests
