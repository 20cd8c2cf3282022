#include <fitreel/data.hpp>
#include <fitreel/demos.hpp>
#include <fitreel/error.hpp>
#include <fitreel/shape.hpp>

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
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

// ---- split_train_test(x, y, test_fraction, seed) ----

// x = 0..N-1 (as floats), so each part's x are the indices it took; y = 10 x keeps pairs.
struct Indexed {
  explicit Indexed(int64_t points)
      : x(torch::arange(points, torch::kFloat32)), y(10 * torch::arange(points, torch::kFloat32)) {}
  torch::Tensor x, y;
};

void expect_split_of(const Dataset& data, const torch::Tensor& permutation, int64_t test_count) {
  const int64_t points = permutation.size(0);
  EXPECT_EQ(as_indices(data.x_test), as_indices(permutation.slice(0, 0, test_count)))
      << "the test part is the permutation's first int(fraction N), in its order";
  EXPECT_EQ(as_indices(data.x_train),
            as_indices(std::get<0>(torch::sort(permutation.slice(0, test_count)))))
      << "the training part is the rest, ascending";
  EXPECT_EQ(data.x_train.size(0) + data.x_test.size(0), points);
  EXPECT_TRUE(torch::equal(data.y_train, 10 * data.x_train)) << "y stays with its x";
  EXPECT_TRUE(torch::equal(data.y_test, 10 * data.x_test));
  EXPECT_EQ(data.x_test.dim(), 2);
  EXPECT_EQ(data.x_test.size(1), 1);
}

TEST(Split, TwoArgumentsAreTheDefaultFractionFromTheGlobalGenerator) {
  for (int64_t points : {5, 10, 101}) {
    const Indexed data(points);
    torch::manual_seed(42);
    const Dataset plain = split_train_test(data.x, data.y);
    const float after_plain = torch::rand({1}).item<float>();
    torch::manual_seed(42);
    const Dataset spelled = split_train_test(data.x, data.y, kTestFraction, std::nullopt);
    const float after_spelled = torch::rand({1}).item<float>();
    EXPECT_TRUE(torch::equal(plain.x_train, spelled.x_train));
    EXPECT_TRUE(torch::equal(plain.x_test, spelled.x_test));
    EXPECT_TRUE(torch::equal(plain.y_test, spelled.y_test));
    EXPECT_EQ(after_plain, after_spelled) << "both draw the same from the global generator";
    torch::manual_seed(42);
    expect_split_of(plain, torch::randperm(points), static_cast<int64_t>(0.2 * points));
  }
}

TEST(Split, HoldsOutIntFractionTimesN) {
  for (double fraction : {0.0, 0.25, 0.5}) {
    for (int64_t points : {5, 8, 99}) {
      const Indexed data(points);
      torch::manual_seed(3);
      const Dataset split = split_train_test(data.x, data.y, fraction, std::nullopt);
      const auto test_count = static_cast<int64_t>(fraction * static_cast<double>(points));
      EXPECT_EQ(split.x_test.size(0), test_count) << fraction << " of " << points;
      EXPECT_EQ(split.holds_out(), test_count > 0);
      torch::manual_seed(3);
      expect_split_of(split, torch::randperm(points), test_count);
    }
  }
}

TEST(Split, AFractionOutsideZeroToOneIsRefusedInOneLine) {
  const Indexed data(10);
  for (double fraction : {-0.1, 1.0, 1.5, std::nan(""), std::numeric_limits<double>::infinity()}) {
    try {
      split_train_test(data.x, data.y, fraction, uint64_t{0});
      ADD_FAILURE() << "accepted test_fraction " << fraction;
    } catch (const InputError& error) {
      const std::string message = error.what();
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
      EXPECT_NE(message.find("test_fraction is "), std::string::npos) << message;
      EXPECT_NE(message.find("from 0"), std::string::npos) << message;
      EXPECT_NE(message.find("not including 1"), std::string::npos) << message;
    }
  }
  try {
    split_train_test(data.x, data.y, -0.1, std::nullopt);
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("is -0.1;"), std::string::npos) << error.what();
  }
  try {
    split_train_test(data.x, data.y, std::nan(""), std::nullopt);
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("is nan;"), std::string::npos) << error.what();
  }
}

TEST(Split, ASeedGivesTheSameSplitAndLeavesTheGlobalGeneratorAlone) {
  const Indexed data(50);
  torch::manual_seed(9);
  const Dataset first = split_train_test(data.x, data.y, 0.3, uint64_t{123});
  const Dataset second = split_train_test(data.x, data.y, 0.3, uint64_t{123});
  const float after_splits = torch::rand({1}).item<float>();
  torch::manual_seed(9);
  const float without_split = torch::rand({1}).item<float>();
  EXPECT_EQ(after_splits, without_split) << "the global generator drew nothing";
  EXPECT_TRUE(torch::equal(first.x_train, second.x_train));
  EXPECT_TRUE(torch::equal(first.x_test, second.x_test));

  // The global seed does not change a seeded split; another seed does.
  torch::manual_seed(10);
  EXPECT_TRUE(
      torch::equal(split_train_test(data.x, data.y, 0.3, uint64_t{123}).x_test, first.x_test));
  EXPECT_FALSE(
      torch::equal(split_train_test(data.x, data.y, 0.3, uint64_t{124}).x_test, first.x_test));
}

// Python: torch.randperm(n, generator=torch.Generator().manual_seed(seed)). A generator made
// with the seed runs the same ATen code, so it gives the expected permutation here. Checked
// once by hand against Debian's python3-torch 1.13 (/usr/bin/python3): n=10, seed 123 gives
// [2, 0, 8, 1, 3, 7, 4, 9, 5, 6] there and here, as does n=20 with seed 2^64 - 1.
TEST(Split, ASeededSplitIsPythonsRandpermWithAGeneratorOfThatSeed) {
  struct Case {
    int64_t points;
    uint64_t seed;
    double fraction;
  };
  for (const auto& [points, seed, fraction] : std::vector<Case>{
           {10, 123, 0.2}, {100, 0, 0.25}, {20, std::numeric_limits<uint64_t>::max(), 0.5}}) {
    const Indexed data(points);
    const Dataset split = split_train_test(data.x, data.y, fraction, seed);
    const torch::Tensor permutation =
        torch::randperm(points, at::make_generator<at::CPUGeneratorImpl>(seed));
    expect_split_of(split, permutation,
                    static_cast<int64_t>(fraction * static_cast<double>(points)));
  }
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
