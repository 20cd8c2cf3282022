#include <fitreel/data.hpp>
#include <fitreel/demos.hpp>
#include <fitreel/error.hpp>
#include <fitreel/evaluate.hpp>
#include <fitreel/model.hpp>
#include <fitreel/shape.hpp>
#include <fitreel/trainer.hpp>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace fitreel {
namespace {

// A Linear(1, 1) with chosen parameters and three points, small enough to follow by hand.
struct HandCase {
  torch::nn::Sequential model = demos::make_line_model();
  Dataset data;
  HandCase(float weight, float bias) {
    torch::NoGradGuard no_grad;
    model->parameters()[0].fill_(weight);
    model->parameters()[1].fill_(bias);
    data.x_train = torch::tensor({1.0F, 2.0F, 3.0F}).view({-1, 1});
    data.y_train = torch::tensor({2.0F, 3.0F, 5.0F}).view({-1, 1});
  }
};

class ByHand : public testing::TestWithParam<Gradients> {};

TEST_P(ByHand, OneAdagradStep) {
  HandCase hand(0.5F, -1.0F);
  TrainOptions options;
  options.epochs = 1;
  options.lr = 0.1;
  options.gradients = GetParam();
  const TrainResult result = train(hand.model, hand.data, options);

  // Predictions -0.5, 0, 0.5; residuals r = -2.5, -3, -4.5.
  const double loss = (2.5 * 2.5 + 3.0 * 3.0 + 4.5 * 4.5) / 3.0;
  ASSERT_EQ(result.losses.count(), 1);
  EXPECT_NEAR(*result.losses.at(0), loss, 1e-5);
  // dL/dw = 2/3 sum(r x) = -44/3 and dL/db = 2/3 sum(r) = -20/3. Adagrad's first step:
  // sum = g^2, so w -= lr * g / (sqrt(g^2) + 1e-10): each parameter moves by lr against its
  // gradient's sign.
  const double grad_w = 2.0 / 3.0 * (-2.5 * 1 - 3.0 * 2 - 4.5 * 3);
  const double grad_b = 2.0 / 3.0 * (-2.5 - 3.0 - 4.5);
  const double w = 0.5 - 0.1 * grad_w / (std::abs(grad_w) + 1e-10);
  const double b = -1.0 - 0.1 * grad_b / (std::abs(grad_b) + 1e-10);
  EXPECT_NEAR(result.final_params[0][0], w, 1e-6);
  EXPECT_NEAR(result.final_params[1][0], b, 1e-6);
}

TEST_P(ByHand, SecondStepUsesTheAccumulatedSquares) {
  HandCase hand(0.5F, -1.0F);
  TrainOptions options;
  options.epochs = 2;
  options.lr = 0.1;
  options.gradients = GetParam();
  const TrainResult result = train(hand.model, hand.data, options);

  double w = 0.5, b = -1.0, sum_w = 0.0, sum_b = 0.0;
  const double xs[] = {1, 2, 3}, ys[] = {2, 3, 5};
  for (int step = 0; step < 2; ++step) {
    double gw = 0.0, gb = 0.0;
    for (int i = 0; i < 3; ++i) {
      const double r = w * xs[i] + b - ys[i];
      gw += 2.0 / 3.0 * r * xs[i];
      gb += 2.0 / 3.0 * r;
    }
    sum_w += gw * gw;
    sum_b += gb * gb;
    w -= 0.1 * gw / (std::sqrt(sum_w) + 1e-10);
    b -= 0.1 * gb / (std::sqrt(sum_b) + 1e-10);
  }
  EXPECT_NEAR(result.final_params[0][0], w, 1e-6);
  EXPECT_NEAR(result.final_params[1][0], b, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(BothGradients, ByHand,
                         testing::Values(Gradients::analytic, Gradients::autograd));

struct NetCase {
  NetSpec spec;
  OptimizerKind optimizer;
};

void PrintTo(const NetCase& c, std::ostream* out) {
  *out << describe(c.spec) << " " << optimizer_name(c.optimizer);
}

class AnalyticMatchesAutograd : public testing::TestWithParam<NetCase> {};

TEST_P(AnalyticMatchesAutograd, OverManyEpochs) {
  TrainResult results[2];
  int i = 0;
  for (Gradients gradients : {Gradients::analytic, Gradients::autograd}) {
    torch::manual_seed(21);
    const Dataset data = demos::make_identity(30);
    torch::nn::Sequential model = make_net(GetParam().spec);
    TrainOptions options;
    options.epochs = 200;
    options.lr = 0.05;
    options.optimizer = GetParam().optimizer;
    options.gradients = gradients;
    results[i++] = train(model, data, options);
  }
  EXPECT_TRUE(results[0].used_analytic_gradients);
  EXPECT_FALSE(results[1].used_analytic_gradients);
  for (int64_t e = 0; e < results[0].losses.count(); ++e) {
    EXPECT_NEAR(*results[0].losses.at(e), *results[1].losses.at(e),
                1e-6 * std::abs(*results[1].losses.at(e)))
        << "epoch " << e;
  }
  for (size_t p = 0; p < results[0].final_params.size(); ++p) {
    for (size_t j = 0; j < results[0].final_params[p].size(); ++j) {
      EXPECT_NEAR(results[0].final_params[p][j], results[1].final_params[p][j], 1e-5);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Nets, AnalyticMatchesAutograd,
    testing::Values(NetCase{{{2}, Activation::sigmoid}, OptimizerKind::adagrad},
                    NetCase{{{8, 4}, Activation::tanh}, OptimizerKind::adagrad},
                    NetCase{{{5}, Activation::relu}, OptimizerKind::sgd},
                    NetCase{{{3, 3}, Activation::sigmoid}, OptimizerKind::adam}));

TEST(Trainer, SnapshotsAtRequestedEpochsShowTheModelBeforeThatEpochsStep) {
  torch::manual_seed(0);
  const Dataset data = demos::make_noisy_line(20);
  torch::nn::Sequential model = demos::make_line_model();
  TrainOptions options;
  options.epochs = 50;
  options.lr = 0.1;
  options.snapshot_epochs = {0, 3, 49};
  options.curve_x = torch::tensor({0.0F, 10.0F}).view({-1, 1});
  std::vector<Snapshot> seen;
  const TrainResult result =
      train(model, data, options, {[&](const Snapshot& s) { seen.push_back(s); }, {}, {}});

  ASSERT_EQ(seen.size(), 3U);
  EXPECT_EQ(seen[0].epoch, 0);
  EXPECT_EQ(seen[0].params, result.initial_params);
  for (const Snapshot& s : seen) {
    EXPECT_EQ(s.loss, *result.losses.at(s.epoch));
    ASSERT_EQ(s.curve.size(), 2U);
    const float w = s.params[0][0], b = s.params[1][0];
    EXPECT_NEAR(s.curve[0], b, 1e-5);
    EXPECT_NEAR(s.curve[1], 10 * w + b, 1e-4);
  }
  EXPECT_FALSE(seen[1].final);
  EXPECT_TRUE(seen[2].final);
  EXPECT_NE(seen[2].params, result.final_params) << "epoch 49's snapshot precedes its step";
}

TEST(Trainer, StopRequestEndsAfterTheCurrentEpochWithAFinalSnapshot) {
  torch::manual_seed(0);
  const Dataset data = demos::make_identity(10);
  torch::nn::Sequential model = make_net();
  TrainOptions options;
  options.epochs = 1000;
  options.snapshot_epochs = {0, 999};
  int polls = 0;
  std::vector<Snapshot> seen;
  const TrainResult result =
      train(model, data, options,
            {[&](const Snapshot& s) { seen.push_back(s); }, {}, [&] { return ++polls >= 5; }});
  EXPECT_TRUE(result.interrupted);
  EXPECT_EQ(result.epochs_run, 5);
  EXPECT_EQ(result.losses.count(), 5);
  ASSERT_EQ(seen.size(), 2U);
  EXPECT_TRUE(seen.back().final);
  EXPECT_EQ(seen.back().epoch, 5);
  EXPECT_EQ(seen.back().params, result.final_params);
}

TEST(Trainer, StopsAtTheFirstNonFiniteLoss) {
  torch::manual_seed(0);
  const Dataset data = demos::make_noisy_line(100);
  torch::nn::Sequential model = demos::make_line_model();
  TrainOptions options;
  options.epochs = 1000;
  options.lr = 1e30;
  const TrainResult result = train(model, data, options);
  ASSERT_TRUE(result.diverged_at_epoch.has_value());
  const int64_t at = *result.diverged_at_epoch;
  EXPECT_EQ(result.epochs_run, *result.diverged_at_epoch + 1);
  EXPECT_FALSE(std::isfinite(*result.losses.at(at)));
  for (int64_t e = 0; e < at; ++e) {
    EXPECT_TRUE(std::isfinite(*result.losses.at(e)));
  }
  EXPECT_FALSE(result.interrupted);
}

TEST(Trainer, HugeButNormalizedStepsDoNotDiverge) {
  // Adagrad moves each parameter by about lr per step, so lr 1e6 is a bad fit, not a blow-up.
  torch::manual_seed(0);
  const Dataset data = demos::make_identity(100);
  torch::nn::Sequential model = make_net();
  TrainOptions options;
  options.epochs = 300;
  options.lr = 1e6;
  const TrainResult result = train(model, data, options);
  EXPECT_FALSE(result.diverged_at_epoch.has_value());
  EXPECT_EQ(result.epochs_run, 300);
}

TEST(Trainer, ReportsProgressFirstAtTheStart) {
  torch::manual_seed(0);
  const Dataset data = demos::make_identity(10);
  torch::nn::Sequential model = make_net();
  TrainOptions options;
  options.epochs = 20;
  std::vector<Progress> reports;
  train(model, data, options, {{}, [&](const Progress& p) { reports.push_back(p); }, {}});
  ASSERT_GE(reports.size(), 2U);
  EXPECT_EQ(reports.front().epoch, 0);
  EXPECT_EQ(reports.front().epochs, 20);
  EXPECT_EQ(reports.back().epoch, 20);
}

TEST(Trainer, RejectsBadOptionsAndShapes) {
  torch::nn::Sequential model = demos::make_line_model();
  Dataset data = demos::make_identity(10);
  TrainOptions options;
  options.epochs = 0;
  EXPECT_THROW(train(model, data, options), InputError);
  options.epochs = 1;
  options.lr = std::nan("");
  EXPECT_THROW(train(model, data, options), InputError);
  options.lr = 0.1;
  data.x_train = data.x_train.flatten();
  EXPECT_THROW(train(model, data, options), ShapeError);
}

TEST(Trainer, AutomaticFallsBackToAutogradForOtherLayers) {
  torch::manual_seed(0);
  const Dataset data = demos::make_identity(10);
  torch::nn::Sequential model(torch::nn::Linear(1, 4), torch::nn::GELU(), torch::nn::Linear(4, 1));
  TrainOptions options;
  options.epochs = 3;
  const TrainResult result = train(model, data, options);
  EXPECT_FALSE(result.used_analytic_gradients);
  options.gradients = Gradients::analytic;
  EXPECT_THROW(train(model, data, options), InputError);
}

TEST(Trainer, HeldOutLossIsMeasuredAtSnapshotEpochsOnlyEvenWithNoOneListening) {
  torch::manual_seed(0);
  const Dataset data = demos::make_noisy_line(100);
  torch::nn::Sequential model = demos::make_line_model();
  torch::nn::Sequential copy = demos::make_line_model();
  copy->parameters()[0].data().copy_(model->parameters()[0].data());
  copy->parameters()[1].data().copy_(model->parameters()[1].data());
  const double before = mse(copy, data.x_test, data.y_test);  // the untrained model
  TrainOptions options;
  options.epochs = 50;
  options.snapshot_epochs = {0, 7, 49};
  const TrainResult result = train(model, data, options);  // no callbacks at all
  ASSERT_EQ(result.test_losses.size(), 3U);
  EXPECT_EQ(result.test_losses[0].epoch, 0);
  EXPECT_EQ(result.test_losses[1].epoch, 7);
  EXPECT_EQ(result.test_losses[2].epoch, 49);
  EXPECT_FLOAT_EQ(result.test_losses[0].loss, static_cast<float>(before));
  // Measured before epoch 49's step: within a step of the final model's test MSE.
  const double after = mse(model, data.x_test, data.y_test);
  EXPECT_NEAR(result.test_losses[2].loss, after, 0.05 * after);

  // Nothing held out: no test losses, and every snapshot says NaN.
  const Dataset all = demos::make_identity(10);
  torch::nn::Sequential net = make_net();
  std::vector<float> seen;
  TrainCallbacks callbacks;
  callbacks.on_snapshot = [&](const Snapshot& s) { seen.push_back(s.test_loss); };
  const TrainResult alone = train(net, all, options, callbacks);
  EXPECT_TRUE(alone.test_losses.empty());
  ASSERT_EQ(seen.size(), 3U);
  EXPECT_TRUE(std::isnan(seen[0]));
}

TEST(Trainer, OptimizerNamesRoundTrip) {
  for (OptimizerKind kind : {OptimizerKind::adagrad, OptimizerKind::sgd, OptimizerKind::adam}) {
    EXPECT_EQ(optimizer_from_name(optimizer_name(kind)), kind);
  }
  EXPECT_FALSE(optimizer_from_name("lbfgs"));
}

}  // namespace
}  // namespace fitreel
