// The losses a run keeps in memory stay bounded however many epochs run, while every loss
// still reaches on_loss in order.
#include <fitreel/data.hpp>
#include <fitreel/demos.hpp>
#include <fitreel/loss_history.hpp>
#include <fitreel/model.hpp>
#include <fitreel/trainer.hpp>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace fitreel {
namespace {

TEST(LossHistory, KeepsEveryEpochUnderItsCapacity) {
  LossHistory history(100);
  for (int64_t e = 0; e < 50; ++e) {
    history.add(e, static_cast<float>(e) * 0.5F);
  }
  EXPECT_EQ(history.points().size(), 50U);
  EXPECT_EQ(history.at(17), 8.5F);
  EXPECT_EQ(history.first(), 0.0F);
  EXPECT_EQ(history.last(), 24.5F);
}

TEST(LossHistory, ThinsEvenlyAndKeepsLandmarksAndTheLastEpoch) {
  LossHistory history(64);
  const int64_t epochs = 1'000'003;
  for (int64_t e = 0; e < epochs; ++e) {
    history.add(e, static_cast<float>(e));
  }
  EXPECT_EQ(history.count(), epochs);
  EXPECT_LE(history.kept(), 64U + 10U);
  const std::vector<EpochLoss> points = history.points();
  for (size_t i = 1; i < points.size(); ++i) {
    ASSERT_LT(points[i - 1].epoch, points[i].epoch);
    EXPECT_EQ(points[i].loss, static_cast<float>(points[i].epoch)) << "each kept with its loss";
  }
  for (int64_t landmark : {0, 1, 2, 10, 100, 1000, 10000, 100000, 1000000}) {
    EXPECT_EQ(history.at(landmark), static_cast<float>(landmark)) << landmark;
  }
  EXPECT_EQ(history.at(epochs - 1), static_cast<float>(epochs - 1));
  EXPECT_FALSE(history.at(3).has_value()) << "thinned away";
  // Spread over the whole run, not bunched at the start.
  EXPECT_GT(points[points.size() / 2].epoch, epochs / 4);
}

TEST(LossHistory, StaysBoundedOverALongRunWhileOnLossSeesEveryEpoch) {
  torch::manual_seed(0);
  const Dataset data = demos::make_noisy_line(100);
  torch::nn::Sequential model = demos::make_line_model();
  TrainOptions options;
  options.epochs = 200'000;
  int64_t streamed = 0;
  bool in_order = true;
  TrainCallbacks callbacks;
  callbacks.on_loss = [&](int64_t epoch, float) {
    in_order = in_order && epoch == streamed;
    ++streamed;
  };
  const TrainResult result = train(model, data, options, callbacks);
  EXPECT_EQ(streamed, options.epochs);
  EXPECT_TRUE(in_order);
  EXPECT_EQ(result.losses.count(), options.epochs);
  EXPECT_LE(result.losses.kept(), 4096U + 20U) << "bounded, not one float per epoch";
  EXPECT_TRUE(result.losses.at(options.epochs - 1).has_value());
  EXPECT_TRUE(std::isfinite(result.losses.last()));
}

}  // namespace
}  // namespace fitreel
