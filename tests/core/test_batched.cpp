// The batched trainer against single runs: each model of a batch must follow the run train()
// gives it alone (same seed, same initial parameters) within the contract of issue 15 — final
// loss within 1e-5 relative, every recorded loss within 1e-4 relative, predictions on the data
// within 1e-3 of the data's y range. Batched kernels sum in another order, so parameters may
// drift in a flat valley while the loss agrees: the drift is measured and reported, not bounded.
#include <fitreel/batched.hpp>
#include <fitreel/demos.hpp>
#include <fitreel/error.hpp>
#include <fitreel/evaluate.hpp>
#include <fitreel/model.hpp>
#include <fitreel/trainer.hpp>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

namespace fitreel {
namespace {

torch::nn::Sequential copy_of(const torch::nn::Sequential& model) {
  return torch::nn::Sequential(
      std::dynamic_pointer_cast<torch::nn::SequentialImpl>(model->clone()));
}

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

TEST_P(BatchedMatchesSingle, EveryModelWithinTheContract) {
  const BatchCase& c = GetParam();
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
  const BatchedResult batch = train_batched(models, data, options);
  ASSERT_EQ(batch.runs.size(), c.lrs.size());
  EXPECT_EQ(batch.epochs_run, c.epochs);

  double drift = 0.0;
  for (size_t k = 0; k < c.lrs.size(); ++k) {
    TrainOptions single;
    single.epochs = c.epochs;
    single.lr = c.lrs[k];
    single.optimizer = c.optimizer;
    const TrainResult alone = train(twins[k].single, twins[k].data, single);
    ASSERT_FALSE(alone.diverged_at_epoch) << "pick a rate the single run survives";
    drift = std::max(drift, expect_within_contract(batch.runs[k], alone, twins[k],
                                                   c.name + " model " + std::to_string(k)));
  }
  std::cout << "[ drift    ] " << c.name << ": largest parameter drift " << drift << "\n";
  RecordProperty("largest_parameter_drift", std::to_string(drift));
}

// Rates where the batched runs meet the contract. At larger rates Adam (line 0.05, net 0.01)
// and SGD (net 1e-4) runs amplify the per-epoch rounding differences of the batched sums until
// recorded losses differ by 1e-3 to 1 (relative) late in the run (measured; open, issue 15).
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
  single.epochs = 3000;
  single.lr = 0.1;
  const TrainResult alone = train(twin.single, twin.data, single);
  const double drift = expect_within_contract(batch.runs[0], alone, twin, "K=1");
  std::cout << "[ drift    ] K=1: largest parameter drift " << drift << "\n";
  RecordProperty("largest_parameter_drift", std::to_string(drift));
}

TEST(Batched, ADivergingModelIsFrozenAtItsEpochWhileTheOthersGoOn) {
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
  const BatchedResult batch = train_batched(models, data, options);
  EXPECT_EQ(batch.epochs_run, 2000);
  for (size_t k = 0; k < lrs.size(); ++k) {
    TrainOptions single;
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

TEST(Batched, SnapshotsComeForEveryModelAtEachScheduledEpoch) {
  std::vector<Twin> twins = {make_twin(false, {}, 0), make_twin(false, {}, 1)};
  BatchedOptions options;
  options.epochs = 50;
  options.lrs = {0.1, 0.2};
  options.snapshot_epochs = {0, 7, 49};
  options.curve_x = torch::tensor({0.0F, 50.0F}).view({-1, 1});
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

TEST(Batched, RefusesWhatItCannotBatch) {
  Twin a = make_twin(false, {}, 0);
  Twin wide = make_twin(false, {{4}, Activation::sigmoid}, 1);
  BatchedOptions options;
  options.lrs = {0.1};
  const auto message = [&](const std::vector<ModelRef>& models, const std::vector<Dataset>& data,
                           const BatchedOptions& o) -> std::string {
    try {
      train_batched(models, data, o);
    } catch (const InputError& error) {
      const std::string what = error.what();
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
      return what;
    }
    ADD_FAILURE() << "no InputError";
    return {};
  };
  EXPECT_NE(message({}, {a.data}, options).find("no models"), std::string::npos);
  EXPECT_NE(message({a.batched, wide.batched}, {a.data}, options).find("one architecture"),
            std::string::npos);
  EXPECT_NE(message({a.batched, a.batched}, {a.data}, options).find("same module"),
            std::string::npos);
  torch::nn::Sequential conv(torch::nn::Linear(1, 1), torch::nn::Dropout(0.5));
  EXPECT_NE(message({conv}, {a.data}, options).find("cannot batch"), std::string::npos);
  torch::nn::Linear bare(1, 1);
  EXPECT_NE(message({bare}, {a.data}, options).find("not a torch::nn::Sequential"),
            std::string::npos);
  BatchedOptions three = options;
  three.lrs = {0.1, 0.2, 0.3};
  EXPECT_NE(message({a.batched, a.single}, {a.data}, three).find("3 rates for 2 models"),
            std::string::npos);
  BatchedOptions bad = options;
  bad.lrs = {std::nan("")};
  EXPECT_NE(message({a.batched}, {a.data}, bad).find("lrs[0]"), std::string::npos);
  Twin small = make_twin(false, {}, 2, 10);
  EXPECT_NE(message({a.batched, small.batched}, {a.data, small.data}, options).find("one size"),
            std::string::npos);
  EXPECT_NE(message({a.batched}, {a.data, a.data}, options).find("2 datasets for 1 models"),
            std::string::npos);
  EXPECT_TRUE(supports_batched_training(a.batched));
  EXPECT_FALSE(supports_batched_training(conv));
}

}  // namespace
}  // namespace fitreel
