#include <fitreel/error.hpp>
#include <fitreel/schedule.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace fitreel {
namespace {

void expect_valid(const std::vector<int64_t>& epochs, int64_t total, int64_t frames) {
  ASSERT_EQ(static_cast<int64_t>(epochs.size()), std::min(frames, total));
  EXPECT_EQ(epochs.front(), 0);
  EXPECT_EQ(epochs.back(), total - 1);
  EXPECT_TRUE(std::is_sorted(epochs.begin(), epochs.end()));
  EXPECT_EQ(std::set<int64_t>(epochs.begin(), epochs.end()).size(), epochs.size()) << "repeats";
}

TEST(Schedule, ExactCountFirstAndLastForManySettings) {
  for (Schedule schedule : {Schedule::linear, Schedule::log}) {
    for (int64_t total : {1, 2, 3, 10, 299, 300, 301, 1000, 30000}) {
      for (int64_t frames : {2, 3, 7, 300, 1000}) {
        if (total == 1) {
          EXPECT_EQ(frame_epochs(1, frames, schedule), (std::vector<int64_t>{0}));
          continue;
        }
        expect_valid(frame_epochs(total, frames, schedule), total, frames);
      }
    }
  }
}

TEST(Schedule, LinearIsEvenlySpaced) {
  EXPECT_EQ(frame_epochs(101, 5, Schedule::linear), (std::vector<int64_t>{0, 25, 50, 75, 100}));
}

TEST(Schedule, LogIsDenseEarlyAndTakesTheNextUnusedEpoch) {
  const auto epochs = frame_epochs(30000, 300, Schedule::log);
  // The first frames would round to the same early epochs; they become 0, 1, 2, ...
  EXPECT_EQ(std::vector<int64_t>(epochs.begin(), epochs.begin() + 5),
            (std::vector<int64_t>{0, 1, 2, 3, 4}));
  // Half the frames fall in the first ~1 % of the run, where the line moves most.
  EXPECT_LT(epochs[150], 300);
  // And in log(1 + epoch) the late frames are evenly spaced: epoch 30000^(k/299) - 1.
  EXPECT_NEAR(static_cast<double>(epochs[298]), std::expm1(298.0 / 299.0 * std::log1p(29999.0)),
              1.0);
}

TEST(Schedule, MoreFramesThanEpochsGivesEveryEpoch) {
  EXPECT_EQ(frame_epochs(4, 300, Schedule::log), (std::vector<int64_t>{0, 1, 2, 3}));
}

TEST(Schedule, NamesRoundTrip) {
  EXPECT_EQ(schedule_from_name("log"), Schedule::log);
  EXPECT_EQ(schedule_from_name(schedule_name(Schedule::linear)), Schedule::linear);
  EXPECT_FALSE(schedule_from_name("cubic"));
}

TEST(Schedule, RejectsFewerThanTwoFrames) {
  EXPECT_THROW(frame_epochs(10, 1, Schedule::linear), InputError);
  EXPECT_THROW(frame_epochs(0, 5, Schedule::linear), InputError);
}

}  // namespace
}  // namespace fitreel
