#include <fitreel/data.hpp>
#include <fitreel/demos.hpp>
#include <fitreel/error.hpp>
#include <fitreel/shape.hpp>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>
#include <string>

namespace fitreel {
namespace {

std::vector<int64_t> as_indices(const torch::Tensor& column) {
  const torch::Tensor flat = column.flatten().to(torch::kInt64);
  return {flat.data_ptr<int64_t>(), flat.data_ptr<int64_t>() + flat.numel()};
}

TEST(NoisyLine, SplitsTwentyPercentDisjointAndComplete) {
  for (int64_t points : {5, 9, 10, 100, 1001}) {
    torch::manual_seed(3);
    const Dataset data = demos::make_noisy_line(points);
    const auto train = as_indices(data.x_train);
    const auto test = as_indices(data.x_test);
    EXPECT_EQ(static_cast<int64_t>(test.size()),
              static_cast<int64_t>(0.2 * static_cast<double>(points)));
    EXPECT_EQ(static_cast<int64_t>(train.size() + test.size()), points);
    std::set<int64_t> all(train.begin(), train.end());
    all.insert(test.begin(), test.end());
    EXPECT_EQ(static_cast<int64_t>(all.size()), points) << "parts overlap";
    EXPECT_EQ(*all.begin(), 0);
    EXPECT_EQ(*all.rbegin(), points - 1);
    EXPECT_TRUE(std::is_sorted(train.begin(), train.end())) << "training part is ascending";
  }
}

TEST(NoisyLine, NoiseStaysWithinFiveOfTheTrueLine) {
  torch::manual_seed(11);
  const Dataset data = demos::make_noisy_line(500);
  for (const auto& [x, y] :
       {std::pair{data.x_train, data.y_train}, std::pair{data.x_test, data.y_test}}) {
    const torch::Tensor residual = y - (demos::kTrueSlope * x + demos::kTrueIntercept);
    EXPECT_LE(residual.abs().max().item<float>(), 5.0F + 1e-4F);
  }
  EXPECT_EQ(data.x_train.sizes(), (std::vector<int64_t>{400, 1}));
  EXPECT_EQ(data.x_train.dtype(), torch::kFloat32);
}

TEST(NoisyLine, SameSeedSameData) {
  torch::manual_seed(5);
  const Dataset a = demos::make_noisy_line(50);
  torch::manual_seed(5);
  const Dataset b = demos::make_noisy_line(50);
  torch::manual_seed(6);
  const Dataset c = demos::make_noisy_line(50);
  EXPECT_TRUE(torch::equal(a.y_train, b.y_train));
  EXPECT_TRUE(torch::equal(a.x_test, b.x_test));
  EXPECT_FALSE(torch::equal(a.y_train, c.y_train));
}

TEST(NoisyLine, RejectsTooFewPoints) {
  EXPECT_THROW(demos::make_noisy_line(kMinPoints - 1), InputError);
}

TEST(Identity, IsXEqualsYWithNoTestPart) {
  const Dataset data = demos::make_identity(7);
  EXPECT_TRUE(torch::equal(data.x_train, torch::arange(7, torch::kFloat32).view({-1, 1})));
  EXPECT_TRUE(torch::equal(data.x_train, data.y_train));
  EXPECT_EQ(data.x_test.size(0), 0);
}

TEST(Shape, ColumnPasses) { EXPECT_NO_THROW(require_column(torch::zeros({20, 1}), "x")); }

TEST(Shape, OneDimensionalTensorNamesTheShapeAndTheFix) {
  try {
    require_column(torch::zeros({20}), "x_test");
    FAIL() << "a 1-D tensor was accepted";
  } catch (const ShapeError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("(N, 1)"), std::string::npos) << message;
    EXPECT_NE(message.find("[20]"), std::string::npos) << message;
    EXPECT_NE(message.find("x_test.view({-1, 1})"), std::string::npos) << message;
  }
}

TEST(Shape, RowInsteadOfColumnIsRejected) {
  EXPECT_THROW(require_column(torch::zeros({1, 20}), "x"), ShapeError);
  EXPECT_THROW(require_column(torch::Tensor(), "x"), ShapeError);
}

TEST(Shape, LinearReallyFailsOnTheOneDimensionalInput) {
  // The lesson the app shows: LibTorch's own error for the seed's mistake.
  torch::nn::Linear line(1, 1);
  EXPECT_THROW(line(torch::arange(20, torch::kFloat32)), c10::Error);
  EXPECT_EQ(line(torch::arange(20, torch::kFloat32).view({-1, 1})).sizes(),
            (std::vector<int64_t>{20, 1}));
}

}  // namespace
}  // namespace fitreel
