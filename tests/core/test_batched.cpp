// The batched trainer against single runs: each model of a batch must follow the run train()
// gives it alone (same seed, same initial parameters) within the contract of issue 15 — final
// loss within 1e-5 relative, every recorded loss within 1e-4 relative, predictions on the data
// within 1e-3 of the data's y range. Batched kernels sum in another order, so parameters may
// drift in a flat valley while the loss agrees: the drift is measured and reported, not bounded.
// Models the batched kernels do not cover run through train() in the same call: those must
// equal their single run exactly.
#include <fitreel/batched.hpp>
#include <fitreel/demos.hpp>
#include <fitreel/error.hpp>
#include <fitreel/evaluate.hpp>
#include <fitreel/model.hpp>
#include <fitreel/trainer.hpp>

#include "batched/cpu/kernels_choice.hpp"
#include "checks.hpp"
#include "model_copy.hpp"
#include "same_run.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <new>
#include <string>
#include <vector>

namespace fitreel {
namespace {

using testing_support::copy_of;
using testing_support::expect_same_run;  // a run train_batched() gave to train(): the same

// One model of a batch, a copy of it for its single run, and its data, drawn as the seed's
// run draws them.
struct Twin {
  torch::nn::Sequential batched, single;
  Dataset data;
};

Twin make_twin(bool line, const NetSpec& spec, uint64_t seed, int64_t points = 100) {
  torch::manual_seed(seed);
  Dataset data = line ? demos::make_noisy_line(points) : demos::make_identity(points);
  torch::nn::Sequential model = line ? demos::make_line_model() : make_net(spec);
  return {model, copy_of(model), std::move(data)};
}

double relative(double a, double b) { return std::abs(a - b) / std::max(std::abs(b), 1e-30); }

// Checks one batched model against its single run; returns the largest parameter drift.
double expect_within_contract(const TrainResult& batched, const TrainResult& single,
                              const Twin& twin, const std::string& label) {
  EXPECT_EQ(batched.epochs_run, single.epochs_run) << label;
  EXPECT_EQ(batched.diverged_at_epoch, single.diverged_at_epoch) << label;
  EXPECT_LE(relative(batched.losses.last(), single.losses.last()), 1e-5)
      << label << ": final loss " << batched.losses.last() << " vs " << single.losses.last();
  double worst_loss = 0.0;
  int64_t worst_epoch = 0;
  for (const EpochLoss& point : batched.losses.points()) {
    const std::optional<float> alone = single.losses.at(point.epoch);
    EXPECT_TRUE(alone.has_value()) << label << ": epoch " << point.epoch;
    if (alone && relative(point.loss, *alone) > worst_loss) {
      worst_loss = relative(point.loss, *alone);
      worst_epoch = point.epoch;
    }
  }
  EXPECT_LE(worst_loss, 1e-4) << label << ": loss of epoch " << worst_epoch;

  const std::vector<float> ours = predict(twin.batched, twin.data.x_train);
  const std::vector<float> theirs = predict(twin.single, twin.data.x_train);
  const double y_range = (twin.data.y_train.max() - twin.data.y_train.min()).item<double>();
  double worst_prediction = 0.0;
  for (size_t i = 0; i < ours.size(); ++i) {
    worst_prediction = std::max(worst_prediction, std::abs(double(ours[i]) - theirs[i]));
  }
  EXPECT_LE(worst_prediction, 1e-3 * y_range) << label;

  EXPECT_EQ(batched.initial_params, single.initial_params) << label;
  double drift = 0.0;
  for (size_t p = 0; p < batched.final_params.size(); ++p) {
    for (size_t j = 0; j < batched.final_params[p].size(); ++j) {
      drift =
          std::max(drift, std::abs(double(batched.final_params[p][j]) - single.final_params[p][j]));
    }
  }
  EXPECT_EQ(flat_parameters(*twin.batched), batched.final_params) << label << ": copied back";
  return drift;
}

// A user's own module: not a Sequential (a skip connection in its forward), so train_batched
// cannot batch it and runs it through train().
struct SkipNetImpl : torch::nn::Module {
  SkipNetImpl()
      : hidden(register_module("hidden", torch::nn::Linear(1, 3))),
        out(register_module("out", torch::nn::Linear(3, 1))) {}
  torch::Tensor forward(const torch::Tensor& x) { return out(torch::tanh(hidden(x))) + x; }
  torch::nn::Linear hidden, out;
};

std::shared_ptr<SkipNetImpl> make_skip_net(uint64_t seed) {
  torch::manual_seed(seed);
  return std::make_shared<SkipNetImpl>();
}

const NetSpec kSeedNet{{2}, Activation::sigmoid};  // the seed's 1-2-1 (unused by the line)

struct BatchCase {
  std::string name;
  bool line = false;
  NetSpec spec{};
  OptimizerKind optimizer = OptimizerKind::adagrad;
  std::vector<double> lrs{};  // one model per rate, model k drawn with seed k
  int64_t epochs = 0;
};

void PrintTo(const BatchCase& c, std::ostream* out) { *out << c.name; }

class BatchedMatchesSingle : public testing::TestWithParam<BatchCase> {};

// Runs the case with one kind of kernels and checks every model against its single run.
// The kernels a batch can run on the CPU: the fused loop as this CPU picks it (AVX2+FMA here),
// the fused loop's portable build (FITREEL_CPU_KERNELS=baseline), and ATen's batched ops.
enum class Kernels { fused, fused_baseline, aten };

const char* name_of(Kernels kernels) {
  return kernels == Kernels::fused ? "fused" : kernels == Kernels::aten ? "aten" : "baseline";
}

// Runs the portable kernels while alive, when asked (as FITREEL_CPU_KERNELS=baseline does for
// a whole process).
class KernelsScope {
 public:
  explicit KernelsScope(Kernels kernels) : set_(kernels == Kernels::fused_baseline) {
    if (set_) {
      detail::force_cpu_kernels(detail::CpuKernels::baseline);
    }
  }
  ~KernelsScope() {
    if (set_) {
      detail::force_cpu_kernels(std::nullopt);
    }
  }
  KernelsScope(const KernelsScope&) = delete;
  KernelsScope& operator=(const KernelsScope&) = delete;

 private:
  bool set_;
};

BatchedResult train_with(Kernels kernels, const std::vector<ModelRef>& models,
                         const std::vector<Dataset>& data, BatchedOptions options) {
  const KernelsScope scope(kernels);
  options.fused_cpu_kernels = kernels != Kernels::aten;
  return train_batched(models, data, options);
}

void expect_case_within_contract(const BatchCase& c, Kernels kernels) {
  const std::string label = c.name + " " + name_of(kernels);
  std::vector<Twin> twins;
  std::vector<ModelRef> models;
  std::vector<Dataset> data;
  for (size_t k = 0; k < c.lrs.size(); ++k) {
    twins.push_back(make_twin(c.line, c.spec, k));
    models.emplace_back(twins.back().batched);
    data.push_back(twins.back().data);
  }
  if (!c.line) {
    data.resize(1);  // the net's data draws nothing: one Dataset serves every model
  }
  BatchedOptions options;
  options.epochs = c.epochs;
  options.lrs = c.lrs;
  options.optimizer = c.optimizer;
  const BatchedResult batch = train_with(kernels, models, data, options);
  ASSERT_EQ(batch.runs.size(), c.lrs.size());
  EXPECT_EQ(batch.epochs_run, c.epochs);
  EXPECT_EQ(batch.models_batched, static_cast<int64_t>(c.lrs.size()));

  double drift = 0.0;
  for (size_t k = 0; k < c.lrs.size(); ++k) {
    TrainOptions single;
    single.path = TrainPath::exact;  // the batch contract is against the exact path
    single.epochs = c.epochs;
    single.lr = c.lrs[k];
    single.optimizer = c.optimizer;
    const TrainResult alone = train(twins[k].single, twins[k].data, single);
    ASSERT_FALSE(alone.diverged_at_epoch) << "pick a rate the single run survives";
    drift = std::max(drift, expect_within_contract(batch.runs[k], alone, twins[k],
                                                   label + " model " + std::to_string(k)));
  }
  std::cout << "[ drift    ] " << label << ": largest parameter drift " << drift << "\n";
  testing::Test::RecordProperty(name_of(kernels) + std::string("_largest_parameter_drift"),
                                std::to_string(drift));
}

// Every kernel: the fused CPU loop (what the CPU runs), its portable build, and ATen's batched
// ops (what CUDA runs).
TEST_P(BatchedMatchesSingle, EveryModelWithinTheContract) {
  for (Kernels kernels : {Kernels::fused, Kernels::fused_baseline, Kernels::aten}) {
    expect_case_within_contract(GetParam(), kernels);
  }
}

// Rates where the batched runs meet the contract. At larger rates Adam (line 0.05, net 0.01)
// and SGD (net 1e-4) runs oscillate, and amplify any rounding difference until recorded losses
// differ by 1e-3 to 1 (relative) late in the run, with both kernels: the fused line at Adam 0.05
// to 0.2 ends with parameters within 2.4e-7 of its single twin, yet a loss spike on the way
// differs by 84% (measured).
std::vector<BatchCase> batch_cases() {
  const OptimizerKind adagrad = OptimizerKind::adagrad, sgd = OptimizerKind::sgd,
                      adam = OptimizerKind::adam;
  const NetSpec wide{{16}, Activation::tanh}, deep{{8, 4}, Activation::tanh},
      relu{{5}, Activation::relu};
  return {
      {"line_adagrad", true, kSeedNet, adagrad, {0.01, 0.05, 0.1, 0.5}, 5000},
      {"line_sgd", true, kSeedNet, sgd, {1e-4, 5e-5, 2e-4, 1e-4}, 5000},
      {"line_adam", true, kSeedNet, adam, {0.01, 0.005, 0.002, 0.001}, 5000},
      {"net_adagrad", false, kSeedNet, adagrad, {0.1, 0.05, 0.2, 0.1}, 5000},
      {"net_sgd", false, kSeedNet, sgd, {1e-5, 2e-5, 5e-6, 1e-5}, 5000},
      {"net_adam", false, kSeedNet, adam, {0.001, 0.002, 0.005, 0.001}, 5000},
      {"wide_tanh_adagrad", false, wide, adagrad, {0.05, 0.1, 0.02}, 2000},
      {"deep_tanh_adam", false, deep, adam, {0.001, 0.002, 0.0005}, 1000},
      {"relu_adagrad", false, relu, adagrad, {0.01, 0.05}, 1000},
  };
}

INSTANTIATE_TEST_SUITE_P(Demos, BatchedMatchesSingle, testing::ValuesIn(batch_cases()),
                         [](const testing::TestParamInfo<BatchCase>& param) {
                           return param.param.name;
                         });

TEST(Batched, OneModelEqualsItsSingleRun) {
  Twin twin = make_twin(false, {}, 0);
  BatchedOptions options;
  options.epochs = 3000;
  options.lrs = {0.1};
  const BatchedResult batch = train_batched({twin.batched}, {twin.data}, options);
  TrainOptions single;
  single.path = TrainPath::exact;  // the batch contract is against the exact path
  single.epochs = 3000;
  single.lr = 0.1;
  const TrainResult alone = train(twin.single, twin.data, single);
  const double drift = expect_within_contract(batch.runs[0], alone, twin, "K=1");
  std::cout << "[ drift    ] K=1: largest parameter drift " << drift << "\n";
  RecordProperty("largest_parameter_drift", std::to_string(drift));
}

void expect_divergence_frozen(Kernels kernels) {
  SCOPED_TRACE(name_of(kernels));
  // SGD on the line at lr 1e-2 grows the error ~65-fold an epoch: non-finite after a few dozen.
  const std::vector<double> lrs = {1e-4, 1e-2, 5e-5};
  std::vector<Twin> twins;
  std::vector<ModelRef> models;
  std::vector<Dataset> data;
  for (size_t k = 0; k < lrs.size(); ++k) {
    twins.push_back(make_twin(true, {}, k));
    models.emplace_back(twins.back().batched);
    data.push_back(twins.back().data);
  }
  BatchedOptions options;
  options.epochs = 2000;
  options.lrs = lrs;
  options.optimizer = OptimizerKind::sgd;
  const BatchedResult batch = train_with(kernels, models, data, options);
  EXPECT_EQ(batch.epochs_run, 2000);
  for (size_t k = 0; k < lrs.size(); ++k) {
    TrainOptions single;
    single.path = TrainPath::exact;  // the batch contract is against the exact path
    single.epochs = options.epochs;
    single.lr = lrs[k];
    single.optimizer = OptimizerKind::sgd;
    const TrainResult alone = train(twins[k].single, twins[k].data, single);
    const TrainResult& ours = batch.runs[k];
    if (k != 1) {
      ASSERT_FALSE(alone.diverged_at_epoch);
      expect_within_contract(ours, alone, twins[k], "model " + std::to_string(k));
      continue;
    }
    ASSERT_TRUE(alone.diverged_at_epoch.has_value());
    EXPECT_GT(*alone.diverged_at_epoch, 2);
    EXPECT_EQ(ours.diverged_at_epoch, alone.diverged_at_epoch);
    EXPECT_EQ(ours.epochs_run, alone.epochs_run);
    EXPECT_EQ(ours.losses.count(), alone.losses.count());
    for (int64_t e = 0; e + 1 < alone.losses.count(); ++e) {  // the finite ones
      EXPECT_LE(relative(*ours.losses.at(e), *alone.losses.at(e)), 1e-4) << "epoch " << e;
    }
    // Frozen: what the diverging epoch's step made of it, as the single run ends.
    EXPECT_EQ(flat_parameters(*twins[k].batched), ours.final_params);
    for (size_t p = 0; p < ours.final_params.size(); ++p) {
      for (size_t j = 0; j < ours.final_params[p].size(); ++j) {
        const float a = ours.final_params[p][j], b = alone.final_params[p][j];
        EXPECT_TRUE(a == b || std::isfinite(a) == std::isfinite(b))
            << "param " << p << ": " << a << " vs " << b;
      }
    }
  }
}

TEST(Batched, ADivergingModelIsFrozenAtItsEpochWhileTheOthersGoOn) {
  for (Kernels kernels : {Kernels::fused, Kernels::fused_baseline, Kernels::aten}) {
    expect_divergence_frozen(kernels);
  }
}

// 50 epochs of two models at these rates, snapshots at 0, 7 and 49 with curves at x = 0, 50.
BatchedOptions snapshot_options(std::vector<double> lrs) {
  BatchedOptions options;
  options.epochs = 50;
  options.lrs = std::move(lrs);
  options.snapshot_epochs = {0, 7, 49};
  options.curve_x = torch::tensor({0.0F, 50.0F}).view({-1, 1});
  return options;
}

TEST(Batched, SnapshotsComeForEveryModelAtEachScheduledEpoch) {
  std::vector<Twin> twins = {make_twin(false, {}, 0), make_twin(false, {}, 1)};
  const BatchedOptions options = snapshot_options({0.1, 0.2});
  std::vector<std::vector<Snapshot>> seen(2);
  const BatchedResult batch =
      train_batched({twins[0].batched, twins[1].batched}, {twins[0].data}, options,
                    {[&](int64_t k, const Snapshot& s) { seen.at(k).push_back(s); }, {}});
  for (size_t k = 0; k < 2; ++k) {
    ASSERT_EQ(seen[k].size(), 3U);
    EXPECT_EQ(seen[k][0].params, batch.runs[k].initial_params);
    EXPECT_EQ(seen[k][0].curve, predict(twins[k].single, options.curve_x));  // untrained twin
    for (const Snapshot& s : seen[k]) {
      EXPECT_EQ(s.loss, *batch.runs[k].losses.at(s.epoch));
      EXPECT_EQ(s.final, s.epoch == 49);
    }
  }
}

TEST(Batched, ShouldStopEndsEveryRunAndEachGetsAFinalSnapshot) {
  std::vector<Twin> twins = {make_twin(false, {}, 0), make_twin(false, {}, 1)};
  BatchedOptions options;
  options.epochs = 100;
  options.lrs = {0.1};
  int polls = 0;
  std::vector<Snapshot> finals(2);
  const BatchedResult batch = train_batched(
      {twins[0].batched, twins[1].batched}, {twins[0].data}, options,
      {[&](int64_t k, const Snapshot& s) { finals.at(k) = s; }, [&] { return ++polls == 10; }});
  EXPECT_TRUE(batch.interrupted);
  EXPECT_EQ(batch.epochs_run, 10);
  for (size_t k = 0; k < 2; ++k) {
    EXPECT_TRUE(batch.runs[k].interrupted);
    EXPECT_EQ(batch.runs[k].epochs_run, 10);
    EXPECT_TRUE(finals[k].final);
    EXPECT_EQ(finals[k].epoch, 10);
    EXPECT_EQ(finals[k].params, batch.runs[k].final_params);
  }
}

TEST(Batched, RefusesWhatNoRunCouldTake) {
  Twin a = make_twin(false, {}, 0);
  BatchedOptions options;
  options.lrs = {0.1};
  const auto message = [&](const auto& train_them) -> std::string {
    try {
      train_them();
    } catch (const InputError& error) {
      const std::string what = error.what();
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
      return what;
    }
    ADD_FAILURE() << "no InputError";
    return {};
  };
  const auto refused = [&](const std::vector<ModelRef>& models, const std::vector<Dataset>& data,
                           const BatchedOptions& o) {
    return message([&] { train_batched(models, data, o); });
  };
  const std::vector<float> untouched = flat_parameters(*a.batched)[0];
  EXPECT_NE(refused({}, {a.data}, options).find("no models"), std::string::npos);
  EXPECT_NE(refused({a.batched, a.batched}, {a.data}, options).find("same module"),
            std::string::npos);
  BatchedOptions three = options;
  three.lrs = {0.1, 0.2, 0.3};
  EXPECT_NE(refused({a.batched, a.single}, {a.data}, three).find("3 rates for 2 models"),
            std::string::npos);
  BatchedOptions negative = options;
  negative.threads = -1;
  EXPECT_NE(refused({a.batched}, {a.data}, negative).find("threads is -1"), std::string::npos);
  BatchedOptions bad = options;
  bad.lrs = {std::nan("")};
  EXPECT_NE(refused({a.batched}, {a.data}, bad).find("lrs[0]"), std::string::npos);
  BatchedOptions none = options;
  none.epochs = 0;
  EXPECT_NE(refused({a.batched}, {a.data}, none).find("epochs is 0"), std::string::npos);
  EXPECT_NE(refused({a.batched}, {a.data, a.data}, options).find("2 datasets for 1 models"),
            std::string::npos);
  // What train() refuses for a model, named by its index, before any model trains.
  auto doubles = make_skip_net(1);
  doubles->to(torch::kFloat64);
  EXPECT_EQ(refused({a.batched, doubles}, {a.data}, options).rfind("model 1: ", 0), 0U);
  EXPECT_EQ(flat_parameters(*a.batched)[0], untouched);

  const auto make = [](int64_t) -> ModelRef { return make_net(kSeedNet); };
  EXPECT_NE(message([&] { train_batched(make, 0, {a.data}, options); }).find("count 0"),
            std::string::npos);
  EXPECT_NE(message([&] { train_batched(nullptr, 2, {a.data}, options); }).find("make_model"),
            std::string::npos);

  EXPECT_TRUE(supports_batched_training(a.batched));
  EXPECT_FALSE(supports_batched_training(torch::nn::Linear(1, 1)));
  EXPECT_FALSE(supports_batched_training(make_skip_net(0)));
}

TEST(Batched, WhatItCannotBatchTrainsInTheSameCall) {
  // Once refused: mixed architectures, a layer the kernels lack, a bare Linear, datasets of
  // different sizes.
  Twin a = make_twin(false, {}, 0);
  Twin wide = make_twin(false, {{4}, Activation::sigmoid}, 1);
  Twin small = make_twin(false, {}, 2, 10);
  torch::nn::Sequential dropout(torch::nn::Linear(1, 1), torch::nn::Dropout(0.5));
  torch::nn::Linear bare(1, 1);
  BatchedOptions options;
  options.epochs = 20;
  options.lrs = {0.01};
  const BatchedResult batch = train_batched({a.batched, wide.batched, dropout, bare, small.batched},
                                            {a.data, a.data, a.data, a.data, small.data}, options);
  ASSERT_EQ(batch.runs.size(), 5U);
  EXPECT_EQ(batch.models_batched, 3);  // three batches of one: architectures and sizes differ
  const std::vector<bool> analytic = {true, true, false, false, true};  // the rest: autograd
  for (size_t k = 0; k < 5; ++k) {
    EXPECT_EQ(batch.runs[k].epochs_run, 20) << k;
    EXPECT_EQ(batch.runs[k].used_analytic_gradients, analytic[k]) << k;
  }
}

TEST(Batched, AMixedListMatchesEachModelsSingleRun) {
  // Two seed nets (one batch), a user's own module (train()), a 1-4-1 sigmoid net (a batch of
  // one), and two lines on datasets of different sizes (a batch each).
  std::vector<Twin> twins = {make_twin(false, kSeedNet, 0), make_twin(false, kSeedNet, 1),
                             make_twin(false, {{4}, Activation::sigmoid}, 2),
                             make_twin(true, {}, 3, 100), make_twin(true, {}, 4, 50)};
  auto own = make_skip_net(5), own_twin = make_skip_net(5);
  const std::vector<ModelRef> models = {twins[0].batched, own,
                                        twins[1].batched, twins[2].batched,
                                        twins[3].batched, twins[4].batched};
  const std::vector<int> twin_of = {0, -1, 1, 2, 3, 4};
  const Dataset& net_data = twins[0].data;
  const std::vector<Dataset> data = {net_data, net_data,      net_data,
                                     net_data, twins[3].data, twins[4].data};
  BatchedOptions options;
  options.epochs = 1000;
  options.lrs = {0.1, 0.01, 0.05, 0.05, 0.1, 0.2};
  const BatchedResult batch = train_batched(models, data, options);
  ASSERT_EQ(batch.runs.size(), models.size());
  ASSERT_EQ(batch.models.size(), models.size());
  EXPECT_EQ(batch.models_batched, 5);
  EXPECT_EQ(batch.epochs_run, 1000);
  EXPECT_FALSE(batch.interrupted);

  for (size_t k = 0; k < models.size(); ++k) {
    EXPECT_EQ(batch.models[k].shared(), models[k].shared()) << "order, model " << k;
    TrainOptions single;
    single.path = TrainPath::exact;  // the batch contract is against the exact path
    single.epochs = options.epochs;
    single.lr = options.lrs[k];
    const std::string label = "model " + std::to_string(k);
    if (twin_of[k] < 0) {
      const TrainResult alone = train(own_twin, data[k], single);
      EXPECT_FALSE(batch.runs[k].used_analytic_gradients);
      expect_same_run(batch.runs[k], alone, label);
      EXPECT_EQ(flat_parameters(*own), batch.runs[k].final_params) << label << ": trained";
      continue;
    }
    const Twin& twin = twins[static_cast<size_t>(twin_of[k])];
    const TrainResult alone = train(twin.single, twin.data, single);
    ASSERT_FALSE(alone.diverged_at_epoch) << label;
    EXPECT_TRUE(batch.runs[k].used_analytic_gradients) << label;
    const double drift = expect_within_contract(batch.runs[k], alone, twin, label);
    std::cout << "[ drift    ] mixed " << label << ": largest parameter drift " << drift << "\n";
  }
}

TEST(Batched, AFactoryMakesTheModelsInOrder) {
  // Models 0 and 1 seed nets (batched), model 2 a user's own module (train()), each seeded with
  // its index inside the factory: each equals a twin drawn the same way.
  std::vector<int64_t> made;
  const auto make = [&](int64_t k) -> ModelRef {
    made.push_back(k);
    if (k == 2) {
      return make_skip_net(2);
    }
    torch::manual_seed(k);
    return make_net(kSeedNet);
  };
  const Dataset data = demos::make_identity(100);
  BatchedOptions options;
  options.epochs = 500;
  options.lrs = {0.1, 0.05, 0.01};
  const BatchedResult batch = train_batched(make, 3, {data}, options);
  EXPECT_EQ(made, (std::vector<int64_t>{0, 1, 2}));
  ASSERT_EQ(batch.models.size(), 3U);
  EXPECT_EQ(batch.models_batched, 2);
  for (int64_t k = 0; k < 3; ++k) {
    TrainOptions single;
    single.path = TrainPath::exact;  // the batch contract is against the exact path
    single.epochs = options.epochs;
    single.lr = options.lrs[static_cast<size_t>(k)];
    const std::string label = "model " + std::to_string(k);
    if (k == 2) {
      EXPECT_EQ(batch.models[2].sequential(), nullptr);
      expect_same_run(batch.runs[2], train(make_skip_net(2), data, single), label);
      continue;
    }
    Twin twin = make_twin(false, kSeedNet, static_cast<uint64_t>(k));
    twin.batched = torch::nn::Sequential(batch.models[static_cast<size_t>(k)].sequential());
    ASSERT_TRUE(twin.batched.ptr() != nullptr);
    expect_within_contract(batch.runs[static_cast<size_t>(k)], train(twin.single, data, single),
                           twin, label);
  }
}

TEST(Batched, ShouldStopInATrainRunKeepsTheLaterRunsFromStarting) {
  // Order: own module (train(), stopped after 10 epochs), a seed net (a batch), another own
  // module: neither of the last two starts.
  Twin net = make_twin(false, kSeedNet, 0);
  auto first = make_skip_net(1), last = make_skip_net(2);
  const std::vector<std::vector<float>> net_before = flat_parameters(*net.batched),
                                        last_before = flat_parameters(*last);
  BatchedOptions options;
  options.epochs = 100;
  options.lrs = {0.01};
  options.snapshot_epochs = {50};
  int polls = 0;
  std::vector<std::vector<Snapshot>> seen(3);
  const BatchedResult batch =
      train_batched({first, net.batched, last}, {net.data}, options,
                    {[&](int64_t k, const Snapshot& s) { seen.at(k).push_back(s); },
                     [&] { return ++polls == 10; }});
  EXPECT_EQ(polls, 10);  // not polled again once it said stop
  EXPECT_TRUE(batch.interrupted);
  EXPECT_EQ(batch.epochs_run, 10);
  EXPECT_EQ(batch.models_batched, 0);
  EXPECT_TRUE(batch.runs[0].interrupted);
  EXPECT_EQ(batch.runs[0].epochs_run, 10);
  EXPECT_FALSE(batch.runs[0].used_analytic_gradients);
  for (size_t k = 1; k < 3; ++k) {
    const TrainResult& run = batch.runs[k];
    EXPECT_TRUE(run.interrupted) << k;
    EXPECT_EQ(run.epochs_run, 0) << k;
    EXPECT_TRUE(run.losses.empty()) << k;
    EXPECT_FALSE(run.used_analytic_gradients) << k;
    EXPECT_EQ(run.final_params, run.initial_params) << k;
  }
  EXPECT_EQ(batch.runs[1].initial_params, net_before);
  EXPECT_EQ(flat_parameters(*net.batched), net_before);
  EXPECT_EQ(batch.runs[2].initial_params, last_before);
  EXPECT_EQ(flat_parameters(*last), last_before);
  // Each run that ended early, started or not, gets one final snapshot of where it is.
  for (size_t k = 0; k < 3; ++k) {
    ASSERT_EQ(seen[k].size(), 1U) << k;
    EXPECT_TRUE(seen[k][0].final) << k;
    EXPECT_EQ(seen[k][0].epoch, batch.runs[k].epochs_run) << k;
    EXPECT_EQ(seen[k][0].params, batch.runs[k].final_params) << k;
  }
  EXPECT_FLOAT_EQ(seen[1][0].loss,
                  static_cast<float>(mse(net.single, net.data.x_train, net.data.y_train)));
}

TEST(Batched, ShouldStopInABatchKeepsALaterTrainRunFromStarting) {
  std::vector<Twin> twins = {make_twin(false, kSeedNet, 0), make_twin(false, kSeedNet, 1)};
  auto own = make_skip_net(2);
  BatchedOptions options;
  options.epochs = 100;
  options.lrs = {0.1};
  int polls = 0;
  const BatchedResult batch =
      train_batched({twins[0].batched, own, twins[1].batched}, {twins[0].data}, options,
                    {{}, [&] { return ++polls == 10; }});
  EXPECT_TRUE(batch.interrupted);
  EXPECT_EQ(batch.models_batched, 2);
  EXPECT_EQ(batch.runs[0].epochs_run, 10);
  EXPECT_EQ(batch.runs[2].epochs_run, 10);
  EXPECT_TRUE(batch.runs[0].interrupted);
  EXPECT_TRUE(batch.runs[1].interrupted);
  EXPECT_EQ(batch.runs[1].epochs_run, 0);
  EXPECT_EQ(flat_parameters(*own), batch.runs[1].initial_params);
}

TEST(Batched, SnapshotsComeForModelsTrainedAloneWithTheirIndex) {
  Twin net = make_twin(false, kSeedNet, 0);
  auto own = make_skip_net(1), own_twin = make_skip_net(1);
  const BatchedOptions options = snapshot_options({0.1, 0.01});
  std::vector<std::vector<Snapshot>> seen(2);
  const BatchedResult batch =
      train_batched({net.batched, own}, {net.data}, options,
                    {[&](int64_t k, const Snapshot& s) { seen.at(k).push_back(s); }, {}});
  TrainOptions single;
  single.path = TrainPath::exact;  // the batch contract is against the exact path
  single.epochs = 50;
  single.lr = 0.01;
  single.snapshot_epochs = options.snapshot_epochs;
  single.curve_x = options.curve_x;
  std::vector<Snapshot> alone;
  train(own_twin, net.data, single, {[&](const Snapshot& s) { alone.push_back(s); }});
  ASSERT_EQ(seen[1].size(), alone.size());
  ASSERT_EQ(seen[1].size(), 3U);
  for (size_t i = 0; i < alone.size(); ++i) {
    EXPECT_EQ(seen[1][i].epoch, alone[i].epoch);
    EXPECT_EQ(seen[1][i].loss, alone[i].loss);
    EXPECT_EQ(seen[1][i].params, alone[i].params);
    EXPECT_EQ(seen[1][i].curve, alone[i].curve);
    EXPECT_EQ(seen[1][i].final, alone[i].final);
  }
  EXPECT_EQ(seen[1][0].params, batch.runs[1].initial_params);
  ASSERT_EQ(seen[0].size(), 3U);
  for (const Snapshot& s : seen[0]) {
    EXPECT_EQ(s.loss, *batch.runs[0].losses.at(s.epoch));
  }
}

// Six nets of one architecture, each with its own seed's data and rate 0.1.
struct SixNets {
  std::vector<Twin> twins;
  std::vector<ModelRef> models;
  std::vector<Dataset> data;
};
SixNets six_nets() {
  SixNets six;
  for (uint64_t seed = 0; seed < 6; ++seed) {
    six.twins.push_back(make_twin(false, {}, seed));
  }
  for (const Twin& twin : six.twins) {
    six.models.emplace_back(twin.batched);
    six.data.push_back(twin.data);
  }
  return six;
}

// A budget too small for two models together trains them one batch each, number for number
// as one batch of six (the fused kernels keep each model's loop to itself).
TEST(BatchedMemory, ABudgetSplitsTheBatchWithoutChangingTheNumbers) {
  SixNets together = six_nets();
  SixNets apart = six_nets();
  BatchedOptions options;
  options.epochs = 200;
  options.lrs = {0.1};
  const BatchedResult one = train_batched(together.models, together.data, options);
  options.batch_memory_bytes = 1.0;
  const BatchedResult split = train_batched(apart.models, apart.data, options);
  EXPECT_EQ(one.batch_size, 6);
  EXPECT_EQ(split.batch_size, 1);
  EXPECT_EQ(split.models_batched, 6);
  EXPECT_FALSE(split.out_of_memory);
  for (size_t k = 0; k < 6; ++k) {
    EXPECT_EQ(split.runs[k].final_params, one.runs[k].final_params) << "model " << k;
    EXPECT_EQ(split.runs[k].losses.last(), one.runs[k].losses.last()) << "model " << k;
  }
}

// Memory that runs out in a batch (here a std::bad_alloc from the snapshot of model 2, in the
// third one-model batch) costs that batch and the later ones; what trained before is kept and
// the result says why the rest did not train.
TEST(BatchedMemory, RunningOutKeepsTheRunsTrainedBefore) {
  SixNets six = six_nets();
  BatchedOptions options;
  options.epochs = 50;
  options.lrs = {0.1};
  options.snapshot_epochs = {0, 49};
  options.batch_memory_bytes = 1.0;
  const BatchedResult result =
      train_batched(six.models, six.data, options, {[](int64_t k, const Snapshot&) {
                      if (k == 2) throw std::bad_alloc();
                    }});
  EXPECT_TRUE(result.out_of_memory);
  for (size_t k = 0; k < 6; ++k) {
    const TrainResult& run = result.runs[k];
    EXPECT_EQ(run.epochs_run, k < 2 ? 50 : 0) << "model " << k;
    EXPECT_EQ(run.final_params.empty(), k >= 2) << "model " << k;
  }
  EXPECT_EQ(result.models_batched, 2);
}

// LibTorch's allocator running out reaches the caller as std::bad_alloc, like any C++
// allocation; other LibTorch errors stay fitreel::Errors with their first line.
TEST(BatchedMemory, AnAllocatorOutOfMemoryIsABadAlloc) {
  EXPECT_THROW(
      detail::translating_torch_errors(
          "call",
          [] { TORCH_CHECK(false, "DefaultCPUAllocator: can't allocate memory: 9 bytes"); }),
      std::bad_alloc);
  EXPECT_THROW(detail::translating_torch_errors(
                   "call", [] { TORCH_CHECK(false, "CUDA out of memory. Tried to allocate"); }),
               std::bad_alloc);
  EXPECT_THROW(
      detail::translating_torch_errors("call", [] { TORCH_CHECK(false, "shapes do not fit"); }),
      Error);
  SixNets six = six_nets();
  BatchedOptions options;
  options.lrs = {0.1};
  options.batch_memory_bytes = -1.0;
  EXPECT_THROW(train_batched(six.models, six.data, options), InputError);
}

// FITREEL_CPU_KERNELS picks the variant; any value it cannot honour is named in a warning (given
// once per process by cpu_kernels()) and the best variant runs.
TEST(CpuKernels, TheVariableChoosesAndAnUnknownValueIsWarnedOf) {
  using detail::choose_cpu_kernels;
  using detail::CpuKernels;
  EXPECT_EQ(choose_cpu_kernels(nullptr, true).kernels, CpuKernels::avx2);
  EXPECT_EQ(choose_cpu_kernels(nullptr, false).kernels, CpuKernels::baseline);
  EXPECT_EQ(choose_cpu_kernels("", true).warning, "");
  EXPECT_EQ(choose_cpu_kernels("baseline", true).kernels, CpuKernels::baseline);
  EXPECT_EQ(choose_cpu_kernels("baseline", true).warning, "");
  EXPECT_EQ(choose_cpu_kernels("avx2", true).kernels, CpuKernels::avx2);

  const detail::CpuKernelsChoice lacking = choose_cpu_kernels("avx2", false);
  EXPECT_EQ(lacking.kernels, CpuKernels::baseline);
  EXPECT_NE(lacking.warning.find("no AVX2"), std::string::npos) << lacking.warning;

  const detail::CpuKernelsChoice typo = choose_cpu_kernels("basline", true);
  EXPECT_EQ(typo.kernels, CpuKernels::avx2);
  EXPECT_NE(typo.warning.find("'basline' is not baseline or avx2"), std::string::npos)
      << typo.warning;
}

}  // namespace
}  // namespace fitreel
