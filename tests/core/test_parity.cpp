// Parity with Python PyTorch: the same seed gives the same numbers. The golden files are the
// output of ../shared/reference/seed_reference.py (scripts/make-goldens.sh), for several seeds,
// sizes, epoch counts and learning rates, on Debian's LibTorch 1.13.1 (CPU). Where the build
// knows this platform's Python PyTorch (FITREEL_PYTHON: scripts/test.sh installs python3-torch,
// 1.13 on Debian 12, 2.6 on Debian 13), the same settings are also run there, live, by
// scripts/reference_extended.py, and compared the same way: parity with the Python beside this
// LibTorch, whichever version it is.
#include "command_output.hpp"
#include "expect_params.hpp"

#include <fitreel/data.hpp>
#include <fitreel/demos.hpp>
#include <fitreel/evaluate.hpp>
#include <fitreel/model.hpp>
#include <fitreel/trainer.hpp>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <torch/version.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace fitreel {
namespace {

// PyTorch 2.x's Adam differs from 1.13's (lerp against mul, then add): a LibTorch 2.x build
// reads the goldens Python 2.x made where there are any (scripts/make-goldens.sh).
std::string golden_path(const std::string& name) {
  const std::string dir = FITREEL_GOLDEN_DIR;
  if (TORCH_VERSION_MAJOR >= 2 && std::filesystem::exists(dir + "/pytorch2/" + name + ".json")) {
    return dir + "/pytorch2/" + name + ".json";
  }
  return dir + "/" + name + ".json";
}

nlohmann::json read_golden(const std::string& name) {
  std::ifstream in(golden_path(name));
  EXPECT_TRUE(in.good()) << "missing golden file " << name;
  return nlohmann::json::parse(in);
}

using Params = std::vector<std::vector<float>>;

using testing_support::expect_params_near;

void expect_losses_near(const std::vector<float>& losses, const nlohmann::json& expected) {
  ASSERT_FALSE(expected.empty());
  for (const auto& [epoch, value] : expected.items()) {
    const auto e = static_cast<size_t>(std::stoll(epoch));
    ASSERT_LT(e, losses.size());
    const double want = value.get<double>();
    EXPECT_LE(std::abs(losses[e] - want), 1e-5 * std::abs(want)) << "loss at epoch " << e;
  }
}

struct Case {
  std::string golden;
  Gradients gradients;
  bool live = false;  // compare with this platform's Python, run now, not the golden file
};

#ifdef FITREEL_PYTHON
// The reference's output for the golden's settings, from this platform's Python PyTorch.
nlohmann::json run_python_reference(const nlohmann::json& golden) {
  std::string command = std::string(FITREEL_PYTHON) + " " + FITREEL_REFERENCE_SCRIPT + " " +
                        golden.at("demo").get<std::string>() + " --seed " +
                        std::to_string(golden.at("seed").get<uint64_t>()) + " --points " +
                        std::to_string(golden.at("points").get<int64_t>()) + " --epochs " +
                        std::to_string(golden.at("epochs").get<int64_t>()) + " --lr " +
                        golden.at("lr").dump();
  if (golden.contains("hidden")) {
    std::string hidden;
    for (const auto& width : golden.at("hidden")) {
      hidden += (hidden.empty() ? "" : ",") + width.dump();
    }
    command +=
        " --hidden " + hidden + " --activation " + golden.at("activation").get<std::string>();
  }
  if (golden.contains("optimizer")) {
    command += " --optimizer " + golden.at("optimizer").get<std::string>();
  }
  nlohmann::json reference = nlohmann::json::parse(testing_support::output_of(command));
  reference["epochs"] = golden.at("epochs");
  reference["lr"] = golden.at("lr");
  std::cout << "Python PyTorch " << reference.value("torch_version", std::string("?")) << ": "
            << command << "\n";
  return reference;
}
#endif

nlohmann::json expected_for(const Case& c) {
  const nlohmann::json golden = read_golden(c.golden);
#ifdef FITREEL_PYTHON
  if (c.live) {
    return run_python_reference(golden);
  }
#endif
  return golden;
}

void PrintTo(const Case& c, std::ostream* out) { *out << c.golden; }

std::string case_name(const testing::TestParamInfo<Case>& info) {
  std::string name = info.param.golden +
                     (info.param.gradients == Gradients::autograd ? "_autograd" : "_analytic") +
                     (info.param.live ? "_live" : "");
  for (char& c : name) {
    if (c == '-') {
      c = '_';
    }
  }
  return name;
}

class Parity : public testing::TestWithParam<Case> {};

TEST_P(Parity, MatchesPythonPyTorch) {
  const nlohmann::json golden = expected_for(GetParam());
  const std::string demo = golden.at("demo");
  const auto points = golden.at("points").get<int64_t>();

  torch::manual_seed(golden.at("seed").get<uint64_t>());
  const Dataset data =
      demo == "line" ? demos::make_noisy_line(points) : demos::make_identity(points);
  NetSpec spec;  // the seed's 1-2-1 sigmoid unless the golden says otherwise
  if (golden.contains("hidden")) {
    spec.hidden = golden.at("hidden").get<std::vector<int64_t>>();
    spec.activation = *activation_from_name(golden.at("activation").get<std::string>());
  }
  torch::nn::Sequential model = demo == "line" ? demos::make_line_model() : make_net(spec);

  if (demo == "line") {  // the data itself: x = index, so x_train lists the training indices
    const auto train = golden.at("train_indices").get<std::vector<float>>();
    const auto test = golden.at("test_indices").get<std::vector<float>>();
    const auto y = golden.at("y").get<std::vector<float>>();
    ASSERT_EQ(data.x_train.size(0), static_cast<int64_t>(train.size()));
    ASSERT_EQ(data.x_test.size(0), static_cast<int64_t>(test.size()));
    for (size_t i = 0; i < train.size(); ++i) {
      EXPECT_EQ(data.x_train[static_cast<int64_t>(i)][0].item<float>(), train[i]);
      EXPECT_EQ(data.y_train[static_cast<int64_t>(i)][0].item<float>(),
                y[static_cast<size_t>(train[i])]);
    }
    for (size_t i = 0; i < test.size(); ++i) {
      EXPECT_EQ(data.x_test[static_cast<int64_t>(i)][0].item<float>(), test[i]);
    }
  }

  TrainOptions options;
  options.epochs = golden.at("epochs");
  options.lr = golden.at("lr");
  options.gradients = GetParam().gradients;
  if (golden.contains("optimizer")) {
    options.optimizer = *optimizer_from_name(golden.at("optimizer").get<std::string>());
  }
  std::vector<float> losses;  // every epoch's, as a caller streaming them sees them
  TrainCallbacks callbacks;
  callbacks.on_loss = [&](int64_t epoch, float loss) {
    EXPECT_EQ(epoch, static_cast<int64_t>(losses.size())) << "in order, none skipped";
    losses.push_back(loss);
  };
  const TrainResult result = train(model, data, options, callbacks);

  expect_params_near(result.initial_params, golden.at("initial_params"), 0.0, "initial params");
  expect_params_near(result.final_params, golden.at("final_params"), 1e-5, "final params");
  expect_losses_near(losses, golden.at("loss_at_epoch"));
  for (const auto& [epoch, value] : golden.at("loss_at_epoch").items()) {
    EXPECT_EQ(result.losses.at(std::stoll(epoch)), losses[std::stoull(epoch)])
        << "the bounded history keeps the landmark epochs exactly";
  }
  EXPECT_EQ(result.epochs_run, options.epochs);
  if (golden.contains("test_mse")) {
    const double want = golden.at("test_mse");
    const double got = mse(model, data.x_test, data.y_test);
    EXPECT_LE(std::abs(got - want), 1e-5 * std::abs(want));
  }
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (const char* golden :
       {"line-seed0", "line-seed7", "line-seed123", "net-seed0", "net-seed3", "net-seed42",
        // beyond the seed: scripts/reference_extended.py
        "net-h8-4-tanh-adam", "net-h5-relu-sgd", "net-h16-sigmoid-adagrad", "line-sgd",
        "line-adam"}) {
    for (Gradients gradients : {Gradients::analytic, Gradients::autograd}) {
      cases.push_back({golden, gradients});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Goldens, Parity, testing::ValuesIn(all_cases()), case_name);

#ifdef FITREEL_PYTHON
// The same settings against this platform's Python PyTorch, run now (once each: the gradient
// paths agree with each other in the golden cases above).
std::vector<Case> live_cases() {
  std::vector<Case> cases;
  for (const Case& c : all_cases()) {
    if (c.gradients == Gradients::analytic) {
      cases.push_back({c.golden, c.gradients, /*live=*/true});
    }
  }
  return cases;
}
INSTANTIATE_TEST_SUITE_P(ThisPlatformsPython, Parity, testing::ValuesIn(live_cases()), case_name);
#endif

}  // namespace
}  // namespace fitreel
