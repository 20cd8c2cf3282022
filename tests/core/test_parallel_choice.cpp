// ParallelChoice against simulated machines: epochs that cost what a quiet or a busy machine
// makes them cost (a busy one collapses the parallel epoch to a scheduler slice), on a
// simulated clock, so the figures are exact and the test cannot be flaky.
#include "batched/parallel_choice.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

namespace fitreel::detail {
namespace {

// Seconds one epoch takes: in parallel or not, at simulated time `now`.
using EpochCost = std::function<double(bool parallel, double now)>;

struct Simulated {
  long epochs = 0;
  double parallel_share = 0;  // of its epochs, the share run in parallel
  bool settled_parallel = false;
};

// Runs epochs until `until` (simulated seconds) with the choice deciding each; the first
// parallel epoch after a serial one also pays `wake` (helpers asleep).
Simulated simulate(ParallelChoice& choice, const EpochCost& cost, double from, double until,
                   double wake = 0.0) {
  Simulated run;
  double now = from;
  bool was_parallel = true;
  long parallel_epochs = 0;
  while (now < until) {
    const bool parallel = choice.parallel_next();
    double seconds = cost(parallel, now);
    if (parallel && !was_parallel) {
      seconds += wake;
    }
    was_parallel = parallel;
    now += seconds;
    choice.record(seconds, now);
    ++run.epochs;
    parallel_epochs += parallel ? 1 : 0;
  }
  run.parallel_share = static_cast<double>(parallel_epochs) / static_cast<double>(run.epochs);
  run.settled_parallel = choice.settled_parallel();
  return run;
}

// The epochs a run with the choice gets done, as a share of those of the best mode alone.
double share_of_best(const EpochCost& cost, double from, double until, double wake) {
  ParallelChoice choice;
  const Simulated run = simulate(choice, cost, from, until, wake);
  long best_epochs = 0;
  for (double t = from; t < until; ++best_epochs) {
    t += std::min(cost(true, t), cost(false, t));
  }
  return static_cast<double>(run.epochs) / static_cast<double>(best_epochs);
}

const EpochCost quiet = [](bool parallel, double) { return parallel ? 10e-6 : 18e-6; };
// One other process busy on a 2-core machine: a parallel epoch waits for a helper's time slice.
const EpochCost busy = [](bool parallel, double) { return parallel ? 3e-3 : 20e-6; };

TEST(ParallelChoice, QuietMachineRunsInParallel) {
  ParallelChoice choice;
  const Simulated run = simulate(choice, quiet, 0.0, 5.0, /*wake=*/100e-6);
  EXPECT_TRUE(run.settled_parallel);
  EXPECT_GT(run.parallel_share, 0.99);
  EXPECT_GT(share_of_best(quiet, 0.0, 5.0, 100e-6), 0.99);
}

TEST(ParallelChoice, BusyMachineRunsAsFastAsOneThread) {
  ParallelChoice choice;
  const Simulated run = simulate(choice, busy, 0.0, 10.0, 100e-6);
  EXPECT_FALSE(run.settled_parallel);
  // The goal: no more than 1.1x the one-thread time; the tries of the workers cost < 2 %.
  EXPECT_GT(share_of_best(busy, 0.0, 10.0, 100e-6), 0.98);
}

// A sweep of 32 small models for 3000 epochs lasts about a tenth of a second: the tries must
// cost little from the start, not only once the interval has grown.
TEST(ParallelChoice, AShortRunOnABusyMachineLosesLittle) {
  EXPECT_GT(share_of_best(busy, 0.0, 0.1, 100e-6), 0.95);
  const EpochCost long_slices = [](bool parallel, double) { return parallel ? 12e-3 : 20e-6; };
  EXPECT_GT(share_of_best(long_slices, 0.0, 1.0, 100e-6), 0.95);
}

TEST(ParallelChoice, FollowsTheMachineBothWays) {
  const double change = 3.0;
  const EpochCost busy_then_quiet = [&](bool parallel, double now) {
    return now < change ? busy(parallel, now) : quiet(parallel, now);
  };
  ParallelChoice choice;
  EXPECT_FALSE(simulate(choice, busy_then_quiet, 0.0, change).settled_parallel);
  // Back to the workers within the longest interval between tries.
  EXPECT_TRUE(
      simulate(choice, busy_then_quiet, change, change + ParallelChoice::kLongestInterval + 0.01)
          .settled_parallel);

  const EpochCost quiet_then_busy = [&](bool parallel, double now) {
    return now < change ? quiet(parallel, now) : busy(parallel, now);
  };
  ParallelChoice second;
  EXPECT_TRUE(simulate(second, quiet_then_busy, 0.0, change).settled_parallel);
  // A collapse is seen at the end of its first block: alone again within a few slices.
  EXPECT_FALSE(simulate(second, quiet_then_busy, change, change + 0.01).settled_parallel);
  EXPECT_GT(share_of_best(quiet_then_busy, 0.0, 2 * change, 100e-6), 0.97);
}

TEST(ParallelChoice, NearlyEqualModesDoNotFlipBackAndForth) {
  const EpochCost equal = [](bool parallel, double now) {
    // Jitter of +-3 %, below the margin, alternating with time.
    const double jitter = (static_cast<long>(now * 1e5) % 2 == 0) ? 1.03 : 0.97;
    return (parallel ? 10e-6 : 10.2e-6) * jitter;
  };
  ParallelChoice choice;
  const Simulated run = simulate(choice, equal, 0.0, 2.0);
  EXPECT_TRUE(run.settled_parallel);
  EXPECT_GT(run.parallel_share, 0.98);
}

}  // namespace
}  // namespace fitreel::detail
