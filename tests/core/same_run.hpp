#pragma once

// Two runs that must be one run: the same epochs, outcome, gradients, parameters and every
// recorded loss, bit for bit (a NaN loss equals a NaN loss here; 0.0 and -0.0 differ).

#include <fitreel/trainer.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace fitreel::testing_support {

inline void expect_same_run(const TrainResult& ours, const TrainResult& alone,
                            const std::string& label) {
  EXPECT_EQ(ours.epochs_run, alone.epochs_run) << label;
  EXPECT_EQ(ours.interrupted, alone.interrupted) << label;
  EXPECT_EQ(ours.diverged_at_epoch, alone.diverged_at_epoch) << label;
  EXPECT_EQ(ours.used_analytic_gradients, alone.used_analytic_gradients) << label;
  const std::vector<EpochLoss> a = ours.losses.points(), b = alone.losses.points();
  ASSERT_EQ(a.size(), b.size()) << label;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].epoch, b[i].epoch) << label;
    EXPECT_EQ(std::memcmp(&a[i].loss, &b[i].loss, sizeof(float)), 0)
        << label << ": epoch " << a[i].epoch << ": " << a[i].loss << " vs " << b[i].loss;
  }
  EXPECT_EQ(ours.initial_params, alone.initial_params) << label;
  EXPECT_EQ(ours.final_params, alone.final_params) << label;
}

}  // namespace fitreel::testing_support
