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
  EXPECT_EQ(schedule_from_name(schedule_name(Schedule::adaptive)), Schedule::adaptive);
  EXPECT_FALSE(schedule_from_name("cubic"));
}

TEST(Schedule, RejectsFewerThanTwoFrames) {
  EXPECT_THROW(frame_epochs(10, 1, Schedule::linear), InputError);
  EXPECT_THROW(frame_epochs(0, 5, Schedule::linear), InputError);
}

// Adaptive frames: a first pass's curve, as drawn, at each probe.

TEST(Schedule, AdaptiveHasNoEpochsBeforeARunIsMeasured) {
  EXPECT_THROW(frame_epochs(3000, 150, Schedule::adaptive), InputError);
}

TEST(Schedule, ProbesAreEveryEpochOfAShortRunAndDenseEarlyInALongOne) {
  EXPECT_EQ(motion_probe_epochs(5, 2048), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  const std::vector<int64_t> probes = motion_probe_epochs(30000, 2048);
  EXPECT_LE(probes.size(), 2048U);
  EXPECT_GT(probes.size(), 1500U);  // the even and the early half overlap only a little
  expect_valid(probes, 30000, static_cast<int64_t>(probes.size()));
  EXPECT_EQ(std::vector<int64_t>(probes.begin(), probes.begin() + 4),
            (std::vector<int64_t>{0, 1, 2, 3}));
  // Evenly spread too: no gap wider than the even half's step.
  for (size_t k = 1; k < probes.size(); ++k) {
    EXPECT_LE(probes[k] - probes[k - 1], 30000 / 1023 + 1);
  }
}

// One pixel row per point: `points` points that all sit at `row(probe)`.
std::vector<std::vector<double>> rows_of(const std::vector<int64_t>& probes, double (*row)(int64_t),
                                         size_t points = 3) {
  std::vector<std::vector<double>> rows;
  for (int64_t probe : probes) rows.emplace_back(points, row(probe));
  return rows;
}

TEST(Schedule, AdaptiveFramesGoWhereTheCurveMoves) {
  const std::vector<int64_t> probes = motion_probe_epochs(3000);
  // 400 px of motion, most of it in the first few hundred epochs: a fit that converges early.
  const auto converging = [](int64_t epoch) {
    return 400.0 * -std::expm1(-static_cast<double>(epoch) / 100.0);
  };
  const std::vector<int64_t> epochs =
      frame_epochs_by_motion(probes, rows_of(probes, converging), 150);
  expect_valid(epochs, 3000, 150);
  EXPECT_GE(std::count_if(epochs.begin(), epochs.end(), [](int64_t e) { return e <= 300; }), 100)
      << "most frames where the fit moves";
  // The rest of the run still gets a few frames, spread over its time.
  EXPECT_GE(std::count_if(epochs.begin(), epochs.end(), [](int64_t e) { return e > 1500; }), 2);
  // At most a fifth of the steps move the curve less than a pixel (linear: most of them).
  const auto still_steps = [&](const std::vector<int64_t>& frames) {
    size_t still = 0;
    for (size_t f = 1; f < frames.size(); ++f) {
      still += std::abs(converging(frames[f]) - converging(frames[f - 1])) < 1.0 ? 1 : 0;
    }
    return still;
  };
  EXPECT_LE(still_steps(epochs), epochs.size() / 5);
  EXPECT_GE(still_steps(frame_epochs(3000, 150, Schedule::linear)), epochs.size() / 2);
}

TEST(Schedule, AdaptiveFramesOfACurveThatNeverMovesSpreadOverTheRun) {
  const auto standing = [](int64_t) { return 10.0; };
  for (const int64_t epochs : {1000, 2000, 30000}) {
    for (const int64_t frames : {11, 300}) {
      const std::vector<int64_t> probes = motion_probe_epochs(epochs, 2 * frames + 2048);
      const std::vector<int64_t> picked =
          frame_epochs_by_motion(probes, rows_of(probes, standing), frames);
      expect_valid(picked, epochs, frames);
      const double even = static_cast<double>(epochs) / static_cast<double>(frames - 1);
      for (size_t f = 1; f < picked.size(); ++f) {
        EXPECT_LE(static_cast<double>(picked[f] - picked[f - 1]), 2.5 * even)
            << epochs << " epochs, " << frames << " frames: frame " << f;
      }
    }
  }
}

TEST(Schedule, AdaptiveFramesCatchACurveThatVanishes) {
  const std::vector<int64_t> probes = motion_probe_epochs(400);
  // Still, then gone (NaN: diverged) from epoch 237 on: that step is filmed.
  const auto vanishing = [](int64_t epoch) { return epoch < 237 ? 50.0 : std::nan(""); };
  const std::vector<int64_t> epochs = frame_epochs_by_motion(probes, rows_of(probes, vanishing), 5);
  EXPECT_NE(std::find(epochs.begin(), epochs.end(), 237), epochs.end());
}

TEST(Schedule, AdaptiveFramesAreAllProbesWhenFramesAreMore) {
  const std::vector<int64_t> probes{0, 1, 2};
  EXPECT_EQ(frame_epochs_by_motion(probes, rows_of(probes, [](int64_t) { return 0.0; }), 300),
            probes);
  EXPECT_THROW(frame_epochs_by_motion(probes, {}, 300), InputError);
  EXPECT_THROW(frame_epochs_by_motion(probes, rows_of(probes, [](int64_t) { return 0.0; }), 1),
               InputError);
}

}  // namespace
}  // namespace fitreel
