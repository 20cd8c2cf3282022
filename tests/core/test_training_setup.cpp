// The training set-up (TrainOptions' loss, optimizer settings, optimizer factory, schedule,
// mini-batches, resume) against the loops a PyTorch user writes by hand: the same seed gives the
// same numbers, bit for bit where fitreel runs the very same kernels (the hand loops here are
// LibTorch's torch::optim, stepped as a Python loop steps them), and within the demos' parity
// bound where Python's own PyTorch runs them (live, when the build knows FITREEL_PYTHON).
// Also: evaluation is evaluation (eval mode, no gradients, the caller's modes kept), the output
// shape is checked before epoch 0, and LibTorch's warnings reach on_warning once each.
#include <fitreel/checkpoint.hpp>
#include <fitreel/data.hpp>
#include <fitreel/demos.hpp>
#include <fitreel/error.hpp>
#include <fitreel/evaluate.hpp>
#include <fitreel/model.hpp>
#include <fitreel/shape.hpp>
#include <fitreel/trainer.hpp>
#include <fitreel/training.hpp>

#include "command_output.hpp"
#include "expect_params.hpp"
#include "modes.hpp"
#include "python_adam.hpp"
#include "scratch_folder.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <ATen/CPUGeneratorImpl.h>

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace fitreel {
namespace {

namespace fs = std::filesystem;
using Params = std::vector<std::vector<float>>;
using LossFn = std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)>;

// ---- helpers ----

// Every value equal, bit for bit (as floats compare: NaN never equals).
void expect_same_params(const Params& actual, const Params& expected, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t i = 0; i < actual.size(); ++i) {
    ASSERT_EQ(actual[i].size(), expected[i].size()) << what;
    for (size_t j = 0; j < actual[i].size(); ++j) {
      EXPECT_EQ(actual[i][j], expected[i][j]) << what << " [" << i << "][" << j << "]";
    }
  }
}

void expect_same_losses(const std::vector<float>& actual, const std::vector<float>& expected,
                        const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  int64_t reported = 0;
  for (size_t e = 0; e < actual.size() && reported < 5; ++e) {
    if (!(actual[e] == expected[e])) {
      ADD_FAILURE() << what << ": loss of epoch " << e << " is " << actual[e] << ", not "
                    << expected[e];
      ++reported;
    }
  }
}

bool one_line(const std::string& text) {
  return !text.empty() && text.find('\n') == std::string::npos;
}

// A smooth 1-D curve that every set-up here fits without diverging.
Dataset wave_data(int64_t points) {
  const torch::Tensor x = torch::linspace(-3.0, 3.0, points).view({-1, 1});
  return Dataset{x, torch::tanh(x) * 0.8 + 0.1 * x};
}

// Trains and keeps every epoch's loss.
struct TrainedRun {
  TrainResult result;
  std::vector<float> losses;
};

TrainedRun run_training(const ModelRef& model, const Dataset& data, const TrainOptions& options) {
  TrainedRun run;
  TrainCallbacks callbacks;
  callbacks.on_loss = [&](int64_t epoch, float loss) {
    EXPECT_EQ(epoch, static_cast<int64_t>(run.losses.size()));
    run.losses.push_back(loss);
  };
  run.result = train(model, data, options, callbacks);
  return run;
}

// The textbook loop over `epochs` full batches: zero_grad, forward, loss, backward, step; the
// epoch's rate set first when `rates` are given.
struct HandRun {
  std::vector<float> losses;
  Params final_params;
};

HandRun hand_loop(torch::nn::Sequential model, torch::optim::Optimizer& optimizer,
                  const LossFn& loss_fn, const Dataset& data, int64_t epochs,
                  const std::vector<double>& rates = {}) {
  HandRun run;
  model->train();
  for (int64_t e = 0; e < epochs; ++e) {
    if (!rates.empty()) {
      for (auto& group : optimizer.param_groups()) {
        group.options().set_lr(rates[static_cast<size_t>(e)]);
      }
    }
    optimizer.zero_grad();
    torch::Tensor loss = loss_fn(model->forward(data.x_train), data.y_train);
    loss.backward();
    optimizer.step();
    run.losses.push_back(loss.item<float>());
  }
  run.final_params = flat_parameters(*model);
  return run;
}

LossFn mse_fn() {
  return [](const torch::Tensor& p, const torch::Tensor& t) { return torch::mse_loss(p, t); };
}

using testing_support::ScratchFolder;

#ifdef FITREEL_PYTHON
using testing_support::output_of;

// scripts/reference_extended.py with these arguments, run now by this platform's Python.
nlohmann::json run_reference(const std::string& arguments) {
  const std::string command =
      std::string(FITREEL_PYTHON) + " " + FITREEL_REFERENCE_SCRIPT + " " + arguments;
  const auto start = std::chrono::steady_clock::now();
  const std::string text = output_of(command);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "Python (" << seconds << " s): " << command << "\n";
  return nlohmann::json::parse(text);
}

using testing_support::expect_params_near;

void expect_loss_near(float actual, double expected, const std::string& what) {
  EXPECT_LE(std::abs(actual - expected), 1e-5 * std::abs(expected))
      << what << ": " << actual << " vs Python's " << expected;
}
#endif

// ---- models ----

// Linear - ReLU - Dropout(0.5) - Linear: a train-mode forward draws a mask each call.
struct DropoutNetImpl : torch::nn::Module {
  DropoutNetImpl()
      : fc1(register_module("fc1", torch::nn::Linear(1, 16))),
        drop(register_module("drop", torch::nn::Dropout(0.5))),
        fc2(register_module("fc2", torch::nn::Linear(16, 1))) {}
  torch::Tensor forward(const torch::Tensor& x) { return fc2(drop(torch::relu(fc1(x)))); }
  torch::nn::Linear fc1;
  torch::nn::Dropout drop;
  torch::nn::Linear fc2;
};
TORCH_MODULE(DropoutNet);

// Linear - BatchNorm1d - ReLU - Linear: train mode normalizes by the batch and updates the
// running statistics; eval mode uses them.
struct NormNetImpl : torch::nn::Module {
  NormNetImpl()
      : fc1(register_module("fc1", torch::nn::Linear(1, 8))),
        norm(register_module("norm", torch::nn::BatchNorm1d(8))),
        fc2(register_module("fc2", torch::nn::Linear(8, 1))) {}
  torch::Tensor forward(const torch::Tensor& x) { return fc2(torch::relu(norm(fc1(x)))); }
  torch::nn::Linear fc1;
  torch::nn::BatchNorm1d norm;
  torch::nn::Linear fc2;
};
TORCH_MODULE(NormNet);

// One value per sample, but as (N) instead of (N, 1).
struct FlatOutputImpl : torch::nn::Module {
  FlatOutputImpl() : fc(register_module("fc", torch::nn::Linear(1, 1))) {}
  torch::Tensor forward(const torch::Tensor& x) { return fc(x).flatten(); }
  torch::nn::Linear fc;
};
TORCH_MODULE(FlatOutput);

// Warns through LibTorch's machinery on every forward, and once more in train mode.
struct WarningNetImpl : torch::nn::Module {
  WarningNetImpl() : fc(register_module("fc", torch::nn::Linear(1, 1))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    TORCH_WARN("fitreel test: every forward warns");
    if (is_training()) {
      TORCH_WARN("fitreel test: a training forward warns");
    }
    return fc(x);
  }
  torch::nn::Linear fc;
};
TORCH_MODULE(WarningNet);

// Every module's mode, root first.
std::vector<bool> modes_of(torch::nn::Module& model) {
  std::vector<bool> modes{model.is_training()};
  for (const auto& module : model.modules(/*include_self=*/false)) {
    modes.push_back(module->is_training());
  }
  return modes;
}

// ---- evaluation ----

// The loss `model->eval(); torch::NoGradGuard; mse_loss(model(x), y)`, by hand; the model is
// put back in train mode after.
template <class Net>
float hand_eval_mse(Net& model, const torch::Tensor& x, const torch::Tensor& y) {
  model->eval();
  torch::NoGradGuard no_grad;
  const float loss = torch::mse_loss(model->forward(x), y).template item<float>();
  model->train();
  return loss;
}

template <class Net>
void expect_evaluation_is_evaluation() {
  torch::manual_seed(1);
  Net model;
  const Dataset data = wave_data(40);
  ASSERT_TRUE(model->is_training());
  std::vector<torch::Tensor> buffers;
  for (const auto& b : model->buffers()) buffers.push_back(b.clone());

  const std::vector<float> first = predict(model, data.x_train);
  const std::vector<float> second = predict(model, data.x_train);
  EXPECT_EQ(first, second) << "two predict() calls agree";
  torch::Tensor by_hand;
  {
    model->eval();
    torch::NoGradGuard no_grad;
    by_hand = model->forward(data.x_train).flatten().contiguous();
    model->train();
  }
  EXPECT_EQ(first, std::vector<float>(by_hand.data_ptr<float>(),
                                      by_hand.data_ptr<float>() + by_hand.numel()));
  // Eval mode treats each sample alone: the first rows' outputs do not depend on the rest.
  const std::vector<float> head = predict(model, data.x_train.narrow(0, 0, 3));
  EXPECT_EQ(head, std::vector<float>(first.begin(), first.begin() + 3));
  // What train mode would give is another thing (the test could fail).
  const torch::Tensor train_mode = model->forward(data.x_train).detach().flatten().contiguous();
  EXPECT_FALSE(torch::equal(train_mode, by_hand));
  {  // put the buffers back: the train-mode forward above moved BatchNorm's running statistics
    torch::NoGradGuard no_grad;
    const auto now = model->buffers();
    for (size_t i = 0; i < now.size(); ++i) now[i].copy_(buffers[i]);
  }

  const double loss = mse(model, data.x_train, data.y_train);
  EXPECT_EQ(loss, static_cast<double>(hand_eval_mse(model, data.x_train, data.y_train)));
  EXPECT_TRUE(model->is_training()) << "predict() and mse() put the caller's mode back";
  const auto now = model->buffers();
  for (size_t i = 0; i < buffers.size(); ++i) {
    EXPECT_TRUE(torch::equal(now[i], buffers[i])) << "evaluation moved buffer " << i;
  }
}

TEST(Evaluation, PredictAndMseRunInEvalModeWithDropout) {
  expect_evaluation_is_evaluation<DropoutNet>();
}

TEST(Evaluation, PredictAndMseRunInEvalModeWithBatchNorm) {
  expect_evaluation_is_evaluation<NormNet>();
}

Dataset held_out_wave() {
  Dataset data = wave_data(48);
  const torch::Tensor x_test = torch::linspace(-2.9, 2.9, 11).view({-1, 1});
  data.x_test = x_test;
  data.y_test = torch::tanh(x_test) * 0.8 + 0.1 * x_test;
  return data;
}

// The test losses train() reports at its snapshot epochs are the eval-mode losses of the model
// that epoch starts from: compared with a run of that many epochs (the same draws, if the
// evaluation draws nothing: a train-mode one would draw a Dropout mask) and the hand computation.
template <class Net>
void expect_test_losses_in_eval_mode() {
  const Dataset data = held_out_wave();
  const std::vector<int64_t> at{0, 3, 7};
  TrainOptions options;
  options.epochs = 8;
  options.lr = 0.05;
  options.snapshot_epochs = at;
  torch::manual_seed(4);
  Net model;
  const TrainResult result = train(model, data, options);
  ASSERT_EQ(result.test_losses.size(), at.size());
  for (size_t i = 0; i < at.size(); ++i) {
    torch::manual_seed(4);
    Net again;
    if (at[i] > 0) {
      TrainOptions part = options;
      part.epochs = at[i];
      part.snapshot_epochs.clear();
      train(again, data, part);
    }
    EXPECT_EQ(result.test_losses[i].epoch, at[i]);
    EXPECT_EQ(result.test_losses[i].loss, hand_eval_mse(again, data.x_test, data.y_test))
        << "test loss at epoch " << at[i];
  }
}

TEST(Evaluation, TestLossesAreEvalModeLossesWithDropout) {
  expect_test_losses_in_eval_mode<DropoutNet>();
}

TEST(Evaluation, TestLossesAreEvalModeLossesWithBatchNorm) {
  expect_test_losses_in_eval_mode<NormNet>();
}

// Training steps run in train mode even when the caller left the model in eval mode: epoch 0's
// loss is the train-mode loss (a Dropout mask drawn), and the modes come back as they were.
TEST(Evaluation, TrainStepsInTrainModeAndPutsTheCallersModesBack) {
  const Dataset data = wave_data(40);
  TrainOptions options;
  options.epochs = 3;
  options.lr = 0.05;

  torch::manual_seed(9);
  DropoutNet model;
  model->eval();
  const TrainedRun run = run_training(model, data, options);
  EXPECT_FALSE(model->is_training());
  for (bool training : modes_of(*model)) EXPECT_FALSE(training) << "eval before, eval after";

  torch::manual_seed(9);
  DropoutNet hand;
  const float train_mode_loss = torch::mse_loss(hand->forward(data.x_train), data.y_train)
                                    .item<float>();  // hand is in train mode
  EXPECT_EQ(run.losses.at(0), train_mode_loss);

  torch::manual_seed(9);
  DropoutNet trained;  // train mode, the default
  train(trained, data, options);
  for (bool training : modes_of(*trained)) EXPECT_TRUE(training) << "train before, train after";

  DropoutNet mixed;
  mixed->drop->eval();  // only the Dropout off: the caller's choice, kept
  const std::vector<bool> before = modes_of(*mixed);
  train(mixed, data, options);
  EXPECT_EQ(modes_of(*mixed), before);
}

// The caller's own exception, not a std::runtime_error (which fitreel turns into its Error).
struct CallerStop {
  int64_t epoch;
};

// Linear - BatchNorm1d - Linear whose eval-mode forward throws once armed: a failure while an
// evaluation (a snapshot's test loss) holds the model in eval mode without gradients.
struct ArmedNetImpl : NormNetImpl {
  torch::Tensor forward(const torch::Tensor& x) {
    if (armed && !is_training()) throw CallerStop{-1};
    return NormNetImpl::forward(x);
  }
  bool armed = false;
};
TORCH_MODULE(ArmedNet);

TEST(Evaluation, ModesComeBackWhenTrainThrows) {
  const Dataset data = held_out_wave();
  TrainOptions options;
  options.epochs = 10;
  options.snapshot_epochs = {0, 2, 4};
  TrainCallbacks callbacks;
  callbacks.on_loss = [](int64_t epoch, float) {
    if (epoch == 3) throw CallerStop{epoch};
  };
  for (bool training : {false, true}) {
    NormNet model;
    model->train(training);
    model->fc2->train(!training);  // a mixture, to be kept as it is
    const std::vector<bool> before = modes_of(*model);
    try {
      train(model, data, options, callbacks);
      ADD_FAILURE() << "the callback's exception was lost";
    } catch (const CallerStop& stop) {
      EXPECT_EQ(stop.epoch, 3) << "the caller's exception comes through as it was";
    }
    EXPECT_EQ(modes_of(*model), before);
  }
  // Thrown from inside an evaluation (eval mode, no gradients): both come back.
  ArmedNet armed;
  callbacks.on_loss = [&armed](int64_t epoch, float) { armed->armed = epoch == 3; };
  armed->fc1->eval();
  const std::vector<bool> before = modes_of(*armed);
  EXPECT_THROW(train(armed, data, options, callbacks), CallerStop);
  EXPECT_EQ(modes_of(*armed), before);
  EXPECT_TRUE(torch::GradMode::is_enabled());
}

// ---- shapes and warnings ----

TEST(TrainingSetup, OutputShapeIsRefusedBeforeEpochZero) {
  const Dataset data = wave_data(20);
  TrainOptions options;
  options.epochs = 5;
  int64_t losses = 0;
  TrainCallbacks callbacks;
  callbacks.on_loss = [&](int64_t, float) { ++losses; };

  torch::nn::Linear two_outputs(1, 2);  // (N, 2)
  const Params before = flat_parameters(*two_outputs);
  try {
    train(two_outputs, data, options, callbacks);
    ADD_FAILURE() << "a (N, 2) output trained";
  } catch (const ShapeError& error) {
    const std::string message = error.what();
    EXPECT_TRUE(one_line(message)) << message;
    EXPECT_NE(message.find("[2, 2]"), std::string::npos) << message;
    EXPECT_NE(message.find("[2, 1]"), std::string::npos) << message;
  }
  expect_same_params(flat_parameters(*two_outputs), before, "after the refusal");

  FlatOutput flat;  // (N)
  try {
    train(flat, data, options, callbacks);
    ADD_FAILURE() << "an (N) output trained";
  } catch (const ShapeError& error) {
    const std::string message = error.what();
    EXPECT_TRUE(one_line(message)) << message;
    EXPECT_NE(message.find("shape [2] "), std::string::npos) << message;
    EXPECT_NE(message.find("[2, 1]"), std::string::npos) << message;
  }
  EXPECT_EQ(losses, 0) << "no epoch ran";
}

TEST(TrainingSetup, EachLibTorchWarningReachesOnWarningOnce) {
  const Dataset data = wave_data(20);
  TrainOptions options;
  options.epochs = 25;
  options.snapshot_epochs = {0, 10, 20};
  options.curve_x = torch::linspace(-1.0, 1.0, 5).view({-1, 1});
  std::vector<std::string> warnings;
  TrainCallbacks callbacks;
  callbacks.on_warning = [&](const std::string& warning) { warnings.push_back(warning); };
  callbacks.on_snapshot = [](const Snapshot&) {};
  WarningNet model;
  const TrainResult result = train(model, data, options, callbacks);
  EXPECT_EQ(result.epochs_run, 25);
  ASSERT_EQ(warnings.size(), 2U) << "each distinct warning once, of 25 epochs' worth";
  EXPECT_NE(warnings[0].find("fitreel test: every forward warns"), std::string::npos);
  EXPECT_NE(warnings[1].find("fitreel test: a training forward warns"), std::string::npos);
  for (const std::string& warning : warnings) EXPECT_TRUE(one_line(warning)) << warning;

  // A second run hears them again (once each), and after it the handler is the one before.
  c10::WarningHandler* const handler = detail::current_warning_handler();
  train(model, data, options, callbacks);
  EXPECT_EQ(warnings.size(), 4U);
  EXPECT_EQ(detail::current_warning_handler(), handler);
  {
    torch::NoGradGuard no_grad;
    model->eval();
    model->forward(data.x_train);  // warns to stderr, not to the finished run's callback
  }
  EXPECT_EQ(warnings.size(), 4U);
}

// ---- losses ----

TrainOptions adagrad_options(int64_t epochs, double lr) {
  TrainOptions options;
  options.epochs = epochs;
  options.lr = lr;
  return options;
}

void expect_loss_matches_hand_loop(const Loss& loss, const LossFn& by_hand) {
  const Dataset data = wave_data(50);
  TrainOptions options = adagrad_options(300, 0.05);
  options.loss = loss;
  torch::manual_seed(12);
  torch::nn::Sequential model = make_net({{6}, Activation::tanh});
  const TrainedRun run = run_training(model, data, options);
  EXPECT_FALSE(run.result.used_analytic_gradients) << "only MSE has the hand-derived chain rule";

  torch::manual_seed(12);
  torch::nn::Sequential hand = make_net({{6}, Activation::tanh});
  torch::optim::Adagrad optimizer(hand->parameters(), torch::optim::AdagradOptions(0.05));
  const HandRun expected = hand_loop(hand, optimizer, by_hand, data, options.epochs);
  expect_same_losses(run.losses, expected.losses, std::string(loss_name(loss)));
  expect_same_params(run.result.final_params, expected.final_params, std::string(loss_name(loss)));
  // The runs went somewhere (the comparison above is not of two untouched models).
  EXPECT_LT(run.losses.back(), 0.5F * run.losses.front());
}

TEST(TrainingSetup, L1LossEqualsAHandLoop) {
  Loss loss;
  loss.kind = Loss::Kind::l1;
  expect_loss_matches_hand_loop(
      loss, [](const torch::Tensor& p, const torch::Tensor& t) { return torch::l1_loss(p, t); });
}

TEST(TrainingSetup, HuberLossEqualsAHandLoop) {
  Loss loss;
  loss.kind = Loss::Kind::huber;
  loss.huber_delta = 0.5;
  expect_loss_matches_hand_loop(loss, [](const torch::Tensor& p, const torch::Tensor& t) {
    return torch::huber_loss(p, t, at::Reduction::Mean, 0.5);
  });
}

TEST(TrainingSetup, CustomLossEqualsAHandLoop) {
  const LossFn custom = [](const torch::Tensor& p, const torch::Tensor& t) {
    return (p - t).pow(2).mean() + 0.1 * (p - t).abs().max();
  };
  Loss loss;
  loss.kind = Loss::Kind::l1;  // the custom callable wins
  loss.custom = custom;
  expect_loss_matches_hand_loop(loss, custom);
}

TEST(TrainingSetup, CustomLossOfTwoValuesIsAnInputError) {
  const Dataset data = wave_data(20);
  TrainOptions options = adagrad_options(3, 0.05);
  options.loss.custom = [](const torch::Tensor& p, const torch::Tensor& t) {
    return (p - t).pow(2).mean(0).repeat({2});
  };
  torch::nn::Sequential model = make_net();
  try {
    train(model, data, options);
    ADD_FAILURE() << "a loss of two values trained";
  } catch (const InputError& error) {
    EXPECT_TRUE(one_line(error.what())) << error.what();
    EXPECT_NE(std::string(error.what()).find("2 values"), std::string::npos) << error.what();
  }
}

// ---- optimizer settings ----

struct SettingsCase {
  std::string name;
  OptimizerKind kind;
  double lr;
  OptimizerSettings settings;
  // The same optimizer from torch::optim, as a hand loop makes it.
  std::function<std::unique_ptr<torch::optim::Optimizer>(std::vector<torch::Tensor>)> make;
};

std::vector<SettingsCase> settings_cases() {
  std::vector<SettingsCase> cases;
  {
    OptimizerSettings s;
    s.momentum = 0.9;
    cases.push_back({"sgd_momentum", OptimizerKind::sgd, 0.01, s, [](auto params) {
                       return std::make_unique<torch::optim::SGD>(
                           params, torch::optim::SGDOptions(0.01).momentum(0.9));
                     }});
  }
  {
    OptimizerSettings s;
    s.momentum = 0.9;
    s.nesterov = true;
    cases.push_back({"sgd_nesterov", OptimizerKind::sgd, 0.01, s, [](auto params) {
                       return std::make_unique<torch::optim::SGD>(
                           params, torch::optim::SGDOptions(0.01).momentum(0.9).nesterov(true));
                     }});
  }
  {
    OptimizerSettings s;
    s.momentum = 0.5;
    s.dampening = 0.1;
    s.weight_decay = 0.01;
    cases.push_back(
        {"sgd_weight_decay", OptimizerKind::sgd, 0.02, s, [](auto params) {
           return std::make_unique<torch::optim::SGD>(
               params,
               torch::optim::SGDOptions(0.02).momentum(0.5).dampening(0.1).weight_decay(0.01));
         }});
  }
  {
    OptimizerSettings s;
    s.beta1 = 0.8;
    s.beta2 = 0.99;
    s.amsgrad = true;
    cases.push_back(
        {"adam_betas_amsgrad", OptimizerKind::adam, 0.01, s, [](auto params) {
           return std::make_unique<detail::AdamOfThisPython>(
               params,
               torch::optim::AdamOptions(0.01).betas(std::make_tuple(0.8, 0.99)).amsgrad(true));
         }});
  }
  {
    OptimizerSettings s;
    s.weight_decay = 0.01;
    s.eps = 1e-6;
    cases.push_back({"adam_weight_decay_eps", OptimizerKind::adam, 0.01, s, [](auto params) {
                       return std::make_unique<detail::AdamOfThisPython>(
                           params, torch::optim::AdamOptions(0.01).weight_decay(0.01).eps(1e-6));
                     }});
  }
  {
    OptimizerSettings s;
    s.lr_decay = 0.01;
    s.initial_accumulator_value = 0.1;
    cases.push_back(
        {"adagrad_lr_decay", OptimizerKind::adagrad, 0.1, s, [](auto params) {
           return std::make_unique<torch::optim::Adagrad>(
               params,
               torch::optim::AdagradOptions(0.1).lr_decay(0.01).initial_accumulator_value(0.1));
         }});
  }
  return cases;
}

struct SettingsParam {
  SettingsCase c;
  Gradients gradients;
};

void PrintTo(const SettingsParam& p, std::ostream* out) { *out << p.c.name; }

class OptimizerSettingsTest : public testing::TestWithParam<SettingsParam> {};

TEST_P(OptimizerSettingsTest, EqualsAHandLoopBitForBit) {
  const SettingsCase& c = GetParam().c;
  const Dataset data = wave_data(64);
  TrainOptions options;
  options.epochs = 400;
  options.lr = c.lr;
  options.optimizer = c.kind;
  options.optimizer_settings = c.settings;
  options.gradients = GetParam().gradients;
  const NetSpec spec{{5, 3}, Activation::sigmoid};
  torch::manual_seed(33);
  torch::nn::Sequential model = make_net(spec);
  const TrainedRun run = run_training(model, data, options);
  EXPECT_EQ(run.result.used_analytic_gradients, GetParam().gradients == Gradients::analytic);

  torch::manual_seed(33);
  torch::nn::Sequential hand = make_net(spec);
  const auto optimizer = c.make(hand->parameters());
  const HandRun expected = hand_loop(hand, *optimizer, mse_fn(), data, options.epochs);
  expect_same_losses(run.losses, expected.losses, c.name);
  expect_same_params(run.result.final_params, expected.final_params, c.name);
  EXPECT_LT(run.losses.back(), 0.5F * run.losses.front());
}

std::vector<SettingsParam> settings_params() {
  std::vector<SettingsParam> params;
  for (const SettingsCase& c : settings_cases()) {
    for (Gradients gradients : {Gradients::analytic, Gradients::autograd}) {
      params.push_back({c, gradients});
    }
  }
  return params;
}

INSTANTIATE_TEST_SUITE_P(TrainingSetup, OptimizerSettingsTest, testing::ValuesIn(settings_params()),
                         [](const testing::TestParamInfo<SettingsParam>& param_info) {
                           return param_info.param.c.name +
                                  (param_info.param.gradients == Gradients::analytic ? "_analytic"
                                                                                     : "_autograd");
                         });

TEST(TrainingSetup, AnOptimizerFactoryIsUsed) {
  const Dataset data = wave_data(64);
  const NetSpec spec{{4}, Activation::tanh};
  TrainOptions options;
  options.epochs = 300;
  options.lr = 0.01;
  torch::manual_seed(8);
  torch::nn::Sequential adagrad_model = make_net(spec);
  const TrainedRun adagrad = run_training(adagrad_model, data, options);

  int64_t made = 0;
  options.make_optimizer = [&made](const std::vector<torch::Tensor>& params) {
    ++made;
    return std::make_unique<torch::optim::RMSprop>(params, torch::optim::RMSpropOptions(0.01));
  };
  torch::manual_seed(8);
  torch::nn::Sequential model = make_net(spec);
  const TrainedRun rmsprop = run_training(model, data, options);
  EXPECT_EQ(made, 1);
  EXPECT_FALSE(rmsprop.result.used_analytic_gradients);
  EXPECT_TRUE(rmsprop.result.state.optimizer.empty()) << "a user's optimizer's state is theirs";
  EXPECT_NE(rmsprop.result.final_params, adagrad.result.final_params);

  torch::manual_seed(8);
  torch::nn::Sequential hand = make_net(spec);
  torch::optim::RMSprop optimizer(hand->parameters(), torch::optim::RMSpropOptions(0.01));
  const HandRun expected = hand_loop(hand, optimizer, mse_fn(), data, options.epochs);
  expect_same_losses(rmsprop.losses, expected.losses, "RMSprop");
  expect_same_params(rmsprop.result.final_params, expected.final_params, "RMSprop");

  // A factory that makes nothing, and a state a factory cannot take.
  TrainOptions none = options;
  none.make_optimizer = [](const std::vector<torch::Tensor>&) {
    return std::unique_ptr<torch::optim::Optimizer>();
  };
  EXPECT_THROW(train(model, data, none), InputError);
  TrainOptions resumed = options;
  resumed.resume = adagrad.result.state;
  EXPECT_THROW(train(model, data, resumed), InputError);
}

TEST(TrainingSetup, InvalidSettingsAreOneLineInputErrors) {
  const Dataset data = wave_data(20);
  struct Bad {
    std::string names;  // what the message must name
    std::function<void(TrainOptions&)> change;
  };
  const double nan = std::nan("");
  const std::vector<Bad> bad{
      {"momentum", [](TrainOptions& o) { o.optimizer_settings.momentum = -0.5; }},
      {"nesterov",
       [](TrainOptions& o) {
         o.optimizer = OptimizerKind::sgd;
         o.optimizer_settings.nesterov = true;
       }},
      {"nesterov",
       [](TrainOptions& o) {
         o.optimizer_settings.nesterov = true;
         o.optimizer_settings.momentum = 0.9;
         o.optimizer_settings.dampening = 0.1;
       }},
      {"weight_decay", [nan](TrainOptions& o) { o.optimizer_settings.weight_decay = nan; }},
      {"weight_decay", [](TrainOptions& o) { o.optimizer_settings.weight_decay = -1.0; }},
      {"dampening", [](TrainOptions& o) { o.optimizer_settings.dampening = INFINITY; }},
      {"lr_decay", [](TrainOptions& o) { o.optimizer_settings.lr_decay = -0.1; }},
      {"initial_accumulator_value",
       [](TrainOptions& o) { o.optimizer_settings.initial_accumulator_value = -1.0; }},
      {"eps", [](TrainOptions& o) { o.optimizer_settings.eps = -1e-8; }},
      {"beta1", [](TrainOptions& o) { o.optimizer_settings.beta1 = 1.0; }},
      {"beta2", [](TrainOptions& o) { o.optimizer_settings.beta2 = -0.1; }},
      {"beta2", [nan](TrainOptions& o) { o.optimizer_settings.beta2 = nan; }},
      {"huber_delta", [](TrainOptions& o) { o.loss.huber_delta = 0.0; }},
      {"batch_size", [](TrainOptions& o) { o.batch_size = -16; }},
      {"step_size", [](TrainOptions& o) { o.lr_schedule = LrSchedule::step(0, 0.5); }},
      {"gamma", [](TrainOptions& o) { o.lr_schedule = LrSchedule::exponential(0.0); }},
      {"gamma", [nan](TrainOptions& o) { o.lr_schedule = LrSchedule::step(3, nan); }},
      {"t_max", [](TrainOptions& o) { o.lr_schedule = LrSchedule::cosine(-1); }},
      {"eta_min", [](TrainOptions& o) { o.lr_schedule = LrSchedule::cosine(10, -0.1); }},
      {"custom", [nan](TrainOptions& o) { o.lr_schedule.custom = [nan](int64_t) { return nan; }; }},
      {"epochs_done", [](TrainOptions& o) { o.resume = TrainingState{-1, {}, {}}; }},
      {"resume",
       [](TrainOptions& o) {
         TrainingState state;
         state.optimizer.name = "adam";
         o.resume = state;  // an Adam state for an Adagrad run
       }},
  };
  for (const Bad& b : bad) {
    TrainOptions options;
    options.epochs = 3;
    b.change(options);
    torch::nn::Sequential model = make_net();
    try {
      train(model, data, options);
      ADD_FAILURE() << b.names << ": trained";
    } catch (const InputError& error) {
      const std::string message = error.what();
      EXPECT_TRUE(one_line(message)) << message;
      EXPECT_NE(message.find(b.names), std::string::npos) << b.names << ": " << message;
    } catch (const std::exception& error) {
      ADD_FAILURE() << b.names << ": not an InputError: " << error.what();
    }
  }
  EXPECT_THROW(scheduled_rates(LrSchedule::step(0, 0.1), 0.1, 5), InputError);
  EXPECT_THROW(scheduled_rates(LrSchedule::exponential(0.9), 0.1, -1), InputError);
}

// ---- schedules ----

// What PyTorch's closed forms give (not bit for bit: the schedulers use their recurrences).
TEST(Schedules, RatesFollowTheSchedulersFormulas) {
  const double lr = 0.1;
  const std::vector<double> step = scheduled_rates(LrSchedule::step(3, 0.5), lr, 12);
  const std::vector<double> exponential = scheduled_rates(LrSchedule::exponential(0.9), lr, 12);
  const std::vector<double> cosine = scheduled_rates(LrSchedule::cosine(10, 0.001), lr, 11);
  const std::vector<double> whole_run = scheduled_rates(LrSchedule::cosine(0), lr, 8);
  for (int64_t e = 0; e < 12; ++e) {
    const auto i = static_cast<size_t>(e);
    EXPECT_NEAR(step[i], lr * std::pow(0.5, static_cast<double>(e / 3)), 1e-15) << e;
    EXPECT_NEAR(exponential[i], lr * std::pow(0.9, static_cast<double>(e)), 1e-15) << e;
    if (e <= 10) {
      EXPECT_NEAR(cosine[i], 0.001 + (lr - 0.001) * (1 + std::cos(M_PI * e / 10.0)) / 2, 1e-15);
    }
    if (e < 8) {
      EXPECT_NEAR(whole_run[i], lr * (1 + std::cos(M_PI * e / 8.0)) / 2, 1e-15) << e;
    }
  }
  EXPECT_EQ(scheduled_rates(LrSchedule{}, lr, 4), std::vector<double>(4, lr));
}

#ifdef FITREEL_PYTHON
// The rates Python's scheduler sets, epoch by epoch, as exact doubles (repr round-trips).
std::vector<double> python_rates(const std::string& scheduler, double lr, int64_t epochs) {
  std::ostringstream code;
  code.precision(17);
  code << "import torch\n"
       << "o = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=" << lr << ")\n"
       << "s = torch.optim.lr_scheduler." << scheduler << "\n"
       << "r = []\n"
       << "for e in range(" << epochs << "):\n"
       << "    r.append(o.param_groups[0]['lr'])\n"
       << "    o.step()\n"
       << "    s.step()\n"
       << "print(' '.join(repr(v) for v in r))\n";
  const std::string command = std::string(FITREEL_PYTHON) + " -c \"" + code.str() + "\"";
  std::istringstream words(output_of(command));
  std::vector<double> rates;
  for (std::string word; words >> word;) rates.push_back(std::strtod(word.c_str(), nullptr));
  return rates;
}

TEST(Schedules, RatesAreExactlyPythonSchedulers) {
  struct RateCase {
    LrSchedule schedule;
    std::string python;
    double lr;
    int64_t epochs;
  };
  const std::vector<RateCase> cases{
      {LrSchedule::step(3, 0.5), "StepLR(o, step_size=3, gamma=0.5)", 0.1, 20},
      {LrSchedule::step(7, 0.3), "StepLR(o, step_size=7, gamma=0.3)", 0.05, 40},
      {LrSchedule::exponential(0.9), "ExponentialLR(o, gamma=0.9)", 0.1, 60},
      {LrSchedule::cosine(10, 0.001), "CosineAnnealingLR(o, T_max=10, eta_min=0.001)", 0.1, 45},
      {LrSchedule::cosine(7), "CosineAnnealingLR(o, T_max=7)", 0.3, 30},
      {LrSchedule::cosine(0), "CosineAnnealingLR(o, T_max=25)", 0.01, 25},  // 0: the run's
      {LrSchedule::cosine(1000), "CosineAnnealingLR(o, T_max=1000)", 0.01, 1000},
  };
  for (const RateCase& c : cases) {
    const std::vector<double> expected = python_rates(c.python, c.lr, c.epochs);
    const std::vector<double> rates = scheduled_rates(c.schedule, c.lr, c.epochs);
    ASSERT_EQ(rates.size(), expected.size()) << c.python;
    int64_t differing = 0;
    for (size_t e = 0; e < rates.size(); ++e) {
      if (rates[e] != expected[e] && differing++ < 5) {
        ADD_FAILURE() << c.python << " epoch " << e << ": " << rates[e] << " vs Python's "
                      << expected[e] << " (differ by " << rates[e] - expected[e] << ")";
      }
    }
  }
}
#endif

struct ScheduleParam {
  std::string name;
  LrSchedule schedule;
  OptimizerKind kind;
  OptimizerSettings settings;
  double lr;
  Gradients gradients;
};

void PrintTo(const ScheduleParam& p, std::ostream* out) { *out << p.name; }

class ScheduledTraining : public testing::TestWithParam<ScheduleParam> {};

TEST_P(ScheduledTraining, EqualsAHandLoopSettingTheRates) {
  const ScheduleParam& p = GetParam();
  const Dataset data = wave_data(64);
  TrainOptions options;
  options.epochs = 200;
  options.lr = p.lr;
  options.optimizer = p.kind;
  options.optimizer_settings = p.settings;
  options.lr_schedule = p.schedule;
  options.gradients = p.gradients;
  const NetSpec spec{{6}, Activation::tanh};
  torch::manual_seed(17);
  torch::nn::Sequential model = make_net(spec);
  const TrainedRun run = run_training(model, data, options);

  torch::manual_seed(17);
  torch::nn::Sequential hand = make_net(spec);
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  switch (p.kind) {
    case OptimizerKind::adagrad:
      optimizer = std::make_unique<torch::optim::Adagrad>(hand->parameters(),
                                                          torch::optim::AdagradOptions(p.lr));
      break;
    case OptimizerKind::sgd:
      optimizer = std::make_unique<torch::optim::SGD>(
          hand->parameters(), torch::optim::SGDOptions(p.lr).momentum(p.settings.momentum));
      break;
    case OptimizerKind::adam:
      optimizer = std::make_unique<detail::AdamOfThisPython>(hand->parameters(),
                                                             torch::optim::AdamOptions(p.lr));
      break;
  }
  const std::vector<double> rates = scheduled_rates(p.schedule, p.lr, options.epochs);
  EXPECT_NE(rates.front(), rates.back());
  const HandRun expected = hand_loop(hand, *optimizer, mse_fn(), data, options.epochs, rates);
  expect_same_losses(run.losses, expected.losses, p.name);
  expect_same_params(run.result.final_params, expected.final_params, p.name);

  // Not the constant rate's run (the schedule mattered).
  TrainOptions constant = options;
  constant.lr_schedule = {};
  torch::manual_seed(17);
  torch::nn::Sequential again = make_net(spec);
  EXPECT_NE(train(again, data, constant).final_params, run.result.final_params);
}

std::vector<ScheduleParam> schedule_params() {
  OptimizerSettings momentum;
  momentum.momentum = 0.9;
  LrSchedule custom;
  custom.custom = [](int64_t epoch) { return epoch < 50 ? 0.02 : 0.005; };
  const std::vector<ScheduleParam> base{
      {"step_sgd", LrSchedule::step(40, 0.5), OptimizerKind::sgd, momentum, 0.02, {}},
      {"exponential_adam", LrSchedule::exponential(0.99), OptimizerKind::adam, {}, 0.02, {}},
      {"cosine_adagrad", LrSchedule::cosine(0, 0.001), OptimizerKind::adagrad, {}, 0.1, {}},
      {"cosine_periodic_adam", LrSchedule::cosine(30), OptimizerKind::adam, {}, 0.02, {}},
      {"custom_adam", custom, OptimizerKind::adam, {}, 0.02, {}},
  };
  std::vector<ScheduleParam> params;
  for (ScheduleParam p : base) {
    for (Gradients gradients : {Gradients::analytic, Gradients::autograd}) {
      p.gradients = gradients;
      params.push_back(p);
    }
  }
  return params;
}

INSTANTIATE_TEST_SUITE_P(Schedules, ScheduledTraining, testing::ValuesIn(schedule_params()),
                         [](const testing::TestParamInfo<ScheduleParam>& param_info) {
                           return param_info.param.name +
                                  (param_info.param.gradients == Gradients::analytic ? "_analytic"
                                                                                     : "_autograd");
                         });

// ---- mini-batches ----

// The DataLoader loop written out in LibTorch: per epoch, iter(loader) draws its base seed,
// RandomSampler draws its own and shuffles with a generator seeded with it; a step per batch;
// the epoch's loss the mean of the batches' loss.item() in double.
HandRun hand_data_loader_loop(torch::nn::Sequential model, torch::optim::Optimizer& optimizer,
                              const Dataset& data, int64_t batch_size, int64_t epochs) {
  HandRun run;
  const int64_t rows = data.x_train.size(0);
  for (int64_t e = 0; e < epochs; ++e) {
    torch::empty({}, torch::kInt64).random_();  // _BaseDataLoaderIter's _base_seed
    const int64_t seed = torch::empty({}, torch::kInt64).random_().item<int64_t>();
    torch::Generator generator =
        at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(seed));
    const torch::Tensor order = torch::randperm(rows, generator, torch::kInt64);
    double sum = 0.0;
    int64_t batches = 0;
    for (int64_t begin = 0; begin < rows; begin += batch_size, ++batches) {
      const torch::Tensor rows_now = order.narrow(0, begin, std::min(batch_size, rows - begin));
      optimizer.zero_grad();
      torch::Tensor loss = torch::mse_loss(model->forward(data.x_train.index_select(0, rows_now)),
                                           data.y_train.index_select(0, rows_now));
      loss.backward();
      optimizer.step();
      sum += loss.item<float>();
    }
    run.losses.push_back(static_cast<float>(sum / static_cast<double>(batches)));
  }
  run.final_params = flat_parameters(*model);
  return run;
}

TEST(MiniBatches, DrawAsDataLoaderDoes) {
  const Dataset data = wave_data(100);
  for (Gradients gradients : {Gradients::autograd, Gradients::analytic}) {
    TrainOptions options;
    options.epochs = 60;
    options.lr = 0.05;
    options.batch_size = 16;
    options.gradients = gradients;
    torch::manual_seed(2);
    torch::nn::Sequential model = make_net({{4}, Activation::tanh});
    const TrainedRun run = run_training(model, data, options);

    torch::manual_seed(2);
    torch::nn::Sequential hand = make_net({{4}, Activation::tanh});
    torch::optim::Adagrad optimizer(hand->parameters(), torch::optim::AdagradOptions(0.05));
    const HandRun expected = hand_data_loader_loop(hand, optimizer, data, 16, options.epochs);
    const std::string what = gradients == Gradients::analytic ? "analytic" : "autograd";
    expect_same_losses(run.losses, expected.losses, what);
    expect_same_params(run.result.final_params, expected.final_params, what);
  }
}

#ifdef FITREEL_PYTHON
// Python's DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True) loop, run now. On
// Debian 12 (LibTorch and Python PyTorch 1.13) the whole run is bit-exact on both gradient
// paths: every epoch's loss and every final parameter (counted and printed below); the bound
// asserted is the demos' parity bound, which holds with other Python versions too.
TEST(PythonInterop, MiniBatchesMatchPythonsDataLoader) {
  const int64_t epochs = 300;
  const nlohmann::json python =
      run_reference("net --seed 3 --points 100 --epochs " + std::to_string(epochs) +
                    " --lr 0.1 --batch-size 16 --every-loss");
  for (Gradients gradients : {Gradients::analytic, Gradients::autograd}) {
    const std::string what = gradients == Gradients::analytic ? "analytic" : "autograd";
    torch::manual_seed(3);
    const Dataset data = demos::make_identity(100);
    torch::nn::Sequential model = make_net();
    TrainOptions options;
    options.epochs = epochs;
    options.lr = 0.1;
    options.batch_size = 16;
    options.gradients = gradients;
    const TrainedRun run = run_training(model, data, options);
    expect_params_near(run.result.initial_params, python.at("initial_params"), 0.0,
                       what + " initial params");
    expect_params_near(run.result.final_params, python.at("final_params"), 1e-5,
                       what + " final params");
    const auto& losses = python.at("losses");
    ASSERT_EQ(losses.size(), run.losses.size());
    int64_t exact_losses = 0;
    for (size_t e = 0; e < run.losses.size(); ++e) {
      const double want = losses[e].get<double>();
      expect_loss_near(run.losses[e], want, what + " epoch " + std::to_string(e));
      exact_losses += run.losses[e] == static_cast<float>(want) ? 1 : 0;
    }
    int64_t exact_params = 0, params = 0;
    for (size_t i = 0; i < run.result.final_params.size(); ++i) {
      for (size_t j = 0; j < run.result.final_params[i].size(); ++j, ++params) {
        exact_params += run.result.final_params[i][j] ==
                                static_cast<float>(python.at("final_params")[i][j].get<double>())
                            ? 1
                            : 0;
      }
    }
    std::cout << what << ": " << exact_losses << " of " << run.losses.size() << " epoch losses and "
              << exact_params << " of " << params
              << " final parameters equal Python's bit for bit\n";
  }
}
#endif

// ---- resume ----

struct ResumeParam {
  std::string name;
  OptimizerKind kind;
  double lr;
  OptimizerSettings settings;
  int64_t batch_size;
  bool cosine;
};

void PrintTo(const ResumeParam& p, std::ostream* out) { *out << p.name; }

class HalfAndHalf : public testing::TestWithParam<ResumeParam> {};

// 1000 epochs straight, or 500, a checkpoint, a fresh model loaded from it and 500 more: the
// same numbers, bit for bit.
TEST_P(HalfAndHalf, EqualsStraightBitForBit) {
  const ResumeParam& p = GetParam();
  const Dataset data = wave_data(100);
  const NetSpec spec{{6}, Activation::tanh};
  TrainOptions options;
  options.epochs = 1000;
  options.lr = p.lr;
  options.optimizer = p.kind;
  options.optimizer_settings = p.settings;
  options.batch_size = p.batch_size;
  if (p.cosine) options.lr_schedule = LrSchedule::cosine(1000);

  torch::manual_seed(21);
  torch::nn::Sequential straight_model = make_net(spec);
  const TrainedRun straight = run_training(straight_model, data, options);

  torch::manual_seed(21);
  torch::nn::Sequential model = make_net(spec);
  TrainOptions half = options;
  half.epochs = 500;
  const TrainedRun first = run_training(model, data, half);
  EXPECT_EQ(first.result.state.epochs_done, 500);
  EXPECT_EQ(first.result.state.optimizer.name, optimizer_name(p.kind));
  ScratchFolder dir("fitreel-setup");
  const std::string path = (dir / "half.pt").string();
  save_checkpoint(model, first.result.state, path);

  torch::manual_seed(1234);  // another start, another generator state: the checkpoint restores
  torch::rand({77});
  torch::nn::Sequential fresh = make_net(spec);
  const TrainingState loaded = load_checkpoint(fresh, path);
  EXPECT_EQ(loaded.epochs_done, 500);
  EXPECT_EQ(loaded.optimizer.name, optimizer_name(p.kind));
  EXPECT_TRUE(loaded.generator_state.defined());
  expect_same_params(flat_parameters(*fresh), first.result.final_params, "loaded weights");
  half.resume = loaded;
  const TrainedRun second = run_training(fresh, data, half);
  EXPECT_EQ(second.result.state.epochs_done, 1000);

  expect_same_params(second.result.final_params, straight.result.final_params, p.name);
  expect_same_losses(first.losses,
                     std::vector<float>(straight.losses.begin(), straight.losses.begin() + 500),
                     p.name + " first half");
  expect_same_losses(second.losses,
                     std::vector<float>(straight.losses.begin() + 500, straight.losses.end()),
                     p.name + " second half");

  // Without the optimizer's state the second half is another run (the test could fail).
  torch::nn::Sequential bare = make_net(spec);
  load_checkpoint(bare, path);
  TrainOptions no_state = half;
  no_state.resume->optimizer = {};
  EXPECT_NE(train(bare, data, no_state).final_params, straight.result.final_params);
}

std::vector<ResumeParam> resume_params() {
  OptimizerSettings momentum;
  momentum.momentum = 0.9;
  const std::vector<ResumeParam> base{
      {"adagrad", OptimizerKind::adagrad, 0.05, {}, 0, false},
      {"sgd_momentum", OptimizerKind::sgd, 0.01, momentum, 0, false},
      {"adam", OptimizerKind::adam, 0.01, {}, 0, false},
  };
  std::vector<ResumeParam> params;
  for (bool cosine : {false, true}) {
    for (int64_t batch_size : {0, 16}) {
      for (ResumeParam p : base) {
        p.batch_size = batch_size;
        p.cosine = cosine;
        p.name += std::string(batch_size > 0 ? "_batches" : "_full") + (cosine ? "_cosine" : "");
        params.push_back(p);
      }
    }
  }
  return params;
}

INSTANTIATE_TEST_SUITE_P(Resume, HalfAndHalf, testing::ValuesIn(resume_params()),
                         [](const testing::TestParamInfo<ResumeParam>& param_info) {
                           return param_info.param.name;
                         });

// ---- Python both ways ----

#ifdef FITREEL_PYTHON
struct InteropParam {
  std::string optimizer;
  double lr;
};

void PrintTo(const InteropParam& p, std::ostream* out) { *out << p.optimizer; }

class BothWays : public testing::TestWithParam<InteropParam> {};

constexpr int64_t kHalf = 5000;  // each half of the net demo's 10000 epochs

std::string lr_text(double lr) {
  std::ostringstream text;
  text << lr;
  return text.str();
}

// Python trains 5000 epochs and saves model + optimizer + epoch (+ its generator); fitreel loads
// that and trains 5000 more; Python's 10000 straight is the reference (the same Python run
// saved its checkpoint half-way).
TEST_P(BothWays, FitreelContinuesPythonsCheckpoint) {
  const InteropParam& p = GetParam();
  ScratchFolder dir("fitreel-setup");
  const std::string path = (dir / "python.pt").string();
  const nlohmann::json python = run_reference(
      "net --seed 0 --points 100 --epochs " + std::to_string(2 * kHalf) + " --lr " + lr_text(p.lr) +
      " --optimizer " + p.optimizer + " --save " + path + " --save-at " + std::to_string(kHalf));

  torch::manual_seed(0);
  const Dataset data = demos::make_identity(100);
  torch::nn::Sequential model = make_net();
  const TrainingState state = load_checkpoint(model, path);
  EXPECT_EQ(state.epochs_done, kHalf);
  EXPECT_EQ(state.optimizer.name, p.optimizer);
  TrainOptions options;
  options.epochs = kHalf;
  options.lr = p.lr;
  options.optimizer = *optimizer_from_name(p.optimizer);
  options.path = TrainPath::exact;  // Python's numbers, which only the exact path promises
  options.resume = state;
  const TrainedRun run = run_training(model, data, options);
  expect_params_near(run.result.final_params, python.at("final_params"), 1e-5, "final params");
  expect_loss_near(run.losses.back(),
                   python.at("loss_at_epoch").at(std::to_string(2 * kHalf - 1)).get<double>(),
                   "final loss");
}

// fitreel trains 5000 epochs and saves; Python loads that (torch.load) and trains 5000 more;
// fitreel's 10000 straight is the reference.
TEST_P(BothWays, PythonContinuesFitreelsCheckpoint) {
  const InteropParam& p = GetParam();
  TrainOptions options;
  options.epochs = kHalf;
  options.lr = p.lr;
  options.optimizer = *optimizer_from_name(p.optimizer);
  options.path = TrainPath::exact;  // Python's numbers, which only the exact path promises
  ScratchFolder dir("fitreel-setup");
  const std::string path = (dir / "fitreel.pt").string();
  Params half_params;
  {
    torch::manual_seed(0);
    const Dataset data = demos::make_identity(100);
    torch::nn::Sequential model = make_net();
    const TrainResult half = train(model, data, options);
    save_checkpoint(model, half.state, path, describe(NetSpec{}));
    half_params = half.final_params;
  }
  torch::manual_seed(0);
  const Dataset data = demos::make_identity(100);
  torch::nn::Sequential model = make_net();
  TrainOptions straight = options;
  straight.epochs = 2 * kHalf;
  const TrainedRun run = run_training(model, data, straight);

  const nlohmann::json python =
      run_reference("net --seed 0 --points 100 --epochs " + std::to_string(kHalf) + " --lr " +
                    lr_text(p.lr) + " --optimizer " + p.optimizer + " --load " + path);
  EXPECT_EQ(python.at("start_epoch").get<int64_t>(), kHalf);
  expect_params_near(half_params, python.at("initial_params"), 0.0, "the weights Python loaded");
  expect_params_near(run.result.final_params, python.at("final_params"), 1e-5, "final params");
  expect_loss_near(run.losses.back(),
                   python.at("loss_at_epoch").at(std::to_string(kHalf - 1)).get<double>(),
                   "final loss");
}

INSTANTIATE_TEST_SUITE_P(PythonInterop, BothWays,
                         testing::Values(InteropParam{"adam", 0.01}, InteropParam{"adagrad", 0.1}),
                         [](const testing::TestParamInfo<InteropParam>& param_info) {
                           return param_info.param.optimizer;
                         });
#endif

}  // namespace
}  // namespace fitreel
