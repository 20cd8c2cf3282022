// Every public core call reports a mistake as a fitreel exception whose message is one line
// naming the values and the fix; no c10::Error (with its backtrace) leaves a fitreel call.

#include <fitreel/checkpoint.hpp>
#include <fitreel/demos.hpp>
#include <fitreel/device.hpp>
#include <fitreel/error.hpp>
#include <fitreel/evaluate.hpp>
#include <fitreel/model.hpp>
#include <fitreel/shape.hpp>
#include <fitreel/trainer.hpp>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <string>
#include <type_traits>
#include <vector>

namespace fitreel {
namespace {

// Runs `call`, expects an exception of type E (a fitreel::Error), and checks its message is one
// line, carries no LibTorch backtrace and contains every one of `parts`.
template <class E>
void expect_one_line(const std::function<void()>& call, const std::vector<std::string>& parts) {
  try {
    call();
    FAIL() << "no exception";
  } catch (const E& error) {
    static_assert(std::is_base_of_v<Error, E>);
    const std::string message = error.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_EQ(message.find("Exception raised from"), std::string::npos) << message;
    for (const std::string& part : parts) {
      EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
    }
  } catch (const c10::Error& error) {
    FAIL() << "a c10::Error left fitreel: " << error.what_without_backtrace();
  } catch (const std::exception& error) {
    FAIL() << "not the expected fitreel exception: " << error.what();
  }
}

// A module of the user's own whose layers do not fit a (N, 1) input.
struct WideInput : torch::nn::Module {
  torch::nn::Linear fc{register_module("fc", torch::nn::Linear(2, 1))};
  torch::Tensor forward(torch::Tensor x) { return fc(x); }
};

Dataset column_data(int64_t n) {
  const torch::Tensor x = torch::linspace(0, 1, n).view({-1, 1});
  return Dataset{x, 2 * x};
}

// One header declares every kind (the CLI's UsageError too), so one catch of fitreel::Error, or
// of InputError for what fixing the call fixes, covers each component's.
TEST(Errors, EveryKindComesFromOneHeaderAndIsAFitreelError) {
  static_assert(std::is_base_of_v<InputError, ShapeError>);
  static_assert(std::is_base_of_v<InputError, DeviceError>);
  static_assert(std::is_base_of_v<InputError, UsageError>);
  static_assert(std::is_base_of_v<InputError, files::NotOwnedError>);
  static_assert(std::is_base_of_v<Error, CheckpointError>);
  static_assert(std::is_base_of_v<Error, CsvError>);
  static_assert(std::is_base_of_v<Error, files::FileError>);
  static_assert(std::is_base_of_v<Error, files::WriteError>);
  static_assert(std::is_base_of_v<Error, render::VideoError>);
  try {
    throw UsageError("--lr takes a number");
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "--lr takes a number");
  }
}

TEST(Errors, ACudaDeviceThisMachineLacksNamesTheDeviceAndTheFix) {
  // cuda:0 on a machine without CUDA; on one with K devices, cuda:K.
  const auto missing =
      static_cast<c10::DeviceIndex>(torch::cuda::is_available() ? torch::cuda::device_count() : 0);
  TrainOptions options;
  options.device = torch::Device(torch::kCUDA, missing);
  const std::string fix = torch::cuda::is_available() ? "cuda:0 to" : "torch::kCPU";
  expect_one_line<DeviceError>([&] { train(make_net(), column_data(8), options); },
                               {"TrainOptions::device", "cuda:" + std::to_string(missing), fix});
}

TEST(Errors, Float64DataNamesTheDtypeAndTheConversion) {
  Dataset data = column_data(8);
  data.x_train = data.x_train.to(torch::kFloat64);
  expect_one_line<InputError>([&] { train(make_net(), data, {}); },
                              {"x_train", "Double", "float32", "torch::kFloat32"});
}

TEST(Errors, Float64ModelNamesTheParameter) {
  torch::nn::Sequential net = make_net();
  net->to(torch::kFloat64);
  expect_one_line<InputError>([&] { train(net, column_data(8), {}); },
                              {"0.weight", "Double", "to(torch::kFloat32)"});
}

TEST(Errors, OneDimensionalInputToPredictSaysHowToReshape) {
  expect_one_line<ShapeError>([] { predict(make_net(), torch::linspace(0, 1, 5)); },
                              {"shape (N, 1)", "[5]", "view({-1, 1})"});
}

TEST(Errors, LengthMismatchGivesBothCounts) {
  const torch::Tensor x = torch::zeros({10, 1});
  expect_one_line<InputError>([&] { train(make_net(), Dataset{x, torch::zeros({9, 1})}, {}); },
                              {"x_train has 10 rows", "y_train has 9"});
  expect_one_line<InputError>([&] { mse(make_net(), x, torch::zeros({7, 1})); },
                              {"x has 10 rows", "y has 7"});
}

TEST(Errors, NonFiniteDataIsNamedBeforeTrainingNotCalledDivergence) {
  Dataset data = column_data(20);
  data.y_train[13][0] = std::nanf("");
  data.y_train[17][0] = INFINITY;
  expect_one_line<InputError>([&] { train(make_net(), data, {}); },
                              {"y_train", "2 value(s)", "row 13"});
}

TEST(Errors, UnsortedSnapshotEpochsAreRefusedNotDropped) {
  TrainOptions options;
  options.epochs = 50;
  options.snapshot_epochs = {0, 10, 5, 20};
  expect_one_line<InputError>([&] { train(make_net(), column_data(8), options); },
                              {"snapshot_epochs", "entry 2 is 5 after 10"});
}

TEST(Errors, BadOptionsNameTheirValue) {
  TrainOptions options;
  options.epochs = 0;
  expect_one_line<InputError>([&] { train(make_net(), column_data(8), options); },
                              {"TrainOptions::epochs is 0"});
  options.epochs = 1;
  options.lr = -1;
  expect_one_line<InputError>([&] { train(make_net(), column_data(8), options); },
                              {"TrainOptions::lr", "greater than 0"});
}

TEST(Errors, AModuleWhoseLayersDoNotFitFailsWithLibTorchsReasonInOneLine) {
  auto model = std::make_shared<WideInput>();
  expect_one_line<Error>([&] { train(model, column_data(8), {}); }, {"train: "});
  expect_one_line<Error>([&] { predict(model, torch::zeros({4, 1})); }, {"predict: "});
}

TEST(Errors, AModuleWithTwoOutputsPerSampleIsNamed) {
  auto two = torch::nn::Linear(1, 2);
  expect_one_line<InputError>([&] { predict(two, torch::zeros({4, 1})); },
                              {"8 outputs for 4 inputs"});
}

TEST(Errors, EveryKindIsAFitreelError) {
  // One catch clause catches them all.
  EXPECT_THROW(resolve_device("tpu"), Error);
  EXPECT_THROW(load_checkpoint(make_net(), "/nonexistent/m.pt"), Error);
  EXPECT_THROW(demos::make_noisy_line(2), Error);
  EXPECT_THROW(least_squares(torch::ones({3}), torch::ones({2})), InputError);
}

}  // namespace
}  // namespace fitreel
