#include <fitreel/demos.hpp>
#include <fitreel/error.hpp>
#include <fitreel/evaluate.hpp>
#include <fitreel/model.hpp>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace fitreel {
namespace {

TEST(LeastSquares, RecoversAnExactLine) {
  const torch::Tensor x = torch::arange(10, torch::kFloat32);
  const Line line = least_squares(x, 3.5 * x - 7);
  EXPECT_NEAR(line.slope, 3.5, 1e-9);
  EXPECT_NEAR(line.intercept, -7.0, 1e-9);
}

TEST(LeastSquares, MatchesTheNormalEquationsByHand) {
  // Points (0,1), (1,3), (2,2): mean x = 1, mean y = 2, slope = sum dx*dy / sum dx^2 = 1/2.
  const torch::Tensor x = torch::tensor({0.0F, 1.0F, 2.0F}).view({-1, 1});
  const torch::Tensor y = torch::tensor({1.0F, 3.0F, 2.0F}).view({-1, 1});
  const Line line = least_squares(x, y);
  EXPECT_DOUBLE_EQ(line.slope, 0.5);
  EXPECT_DOUBLE_EQ(line.intercept, 1.5);
}

TEST(LeastSquares, RejectsDegenerateInput) {
  EXPECT_THROW(least_squares(torch::ones({4}), torch::arange(4)), InputError);
  EXPECT_THROW(least_squares(torch::ones({1}), torch::ones({1})), InputError);
}

TEST(Mse, OfAKnownLinearModel) {
  torch::nn::Sequential model = demos::make_line_model();
  {
    torch::NoGradGuard no_grad;
    model->parameters()[0].fill_(2.0);  // weight
    model->parameters()[1].fill_(1.0);  // bias
  }
  const torch::Tensor x = torch::tensor({0.0F, 1.0F, 2.0F}).view({-1, 1});
  const torch::Tensor y = torch::tensor({1.0F, 4.0F, 3.0F}).view({-1, 1});  // residuals 0, -1, 2
  EXPECT_NEAR(mse(model, x, y), 5.0 / 3.0, 1e-6);
  EXPECT_TRUE(std::isnan(mse(model, torch::empty({0, 1}), torch::empty({0, 1}))));
  const std::vector<float> out = predict(model, x);
  EXPECT_EQ(out, (std::vector<float>{1.0F, 3.0F, 5.0F}));
}

TEST(HiddenUnitCurves, AddUpWithTheBiasToTheModel) {
  torch::manual_seed(3);
  const torch::nn::Sequential net = make_net({{5}, Activation::tanh});
  const torch::Tensor x = torch::linspace(-2, 2, 11).view({-1, 1});
  const UnitCurves curves = hidden_unit_curves(net, x, 8);
  ASSERT_EQ(curves.total, 5);
  ASSERT_EQ(curves.units.size(), 5U);  // fewer than asked: all of them
  const std::vector<float> model = predict(net, x);
  for (size_t point = 0; point < model.size(); ++point) {
    double sum = curves.bias;
    for (const auto& unit : curves.units) {
      sum += unit[point];
    }
    EXPECT_NEAR(sum, model[point], 1e-5) << "at point " << point;
  }
  // Capped: the first units of the layer, and how many there are.
  const UnitCurves capped = hidden_unit_curves(make_net({{32}}), x, 8);
  EXPECT_EQ(capped.units.size(), 8U);
  EXPECT_EQ(capped.total, 32);
  // No hidden layer, or not a Sequential: none.
  EXPECT_EQ(hidden_unit_curves(demos::make_line_model(), x, 8).total, 0);
  EXPECT_EQ(hidden_unit_curves(torch::nn::Linear(1, 1), x, 8).total, 0);
  EXPECT_TRUE(hidden_unit_curves(net, x, 0).units.empty());
}

}  // namespace
}  // namespace fitreel
