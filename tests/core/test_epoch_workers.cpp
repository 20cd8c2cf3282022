// EpochWorkers, the sweep's spinning pool, on its own: every share of every epoch runs once and
// is finished (its writes visible) when run() returns, whether the helpers were spinning or
// asleep, and the pool stops cleanly in any state. CI also runs these under ThreadSanitizer
// (preset tsan), which reports any write a share makes that run() does not order before the
// caller's next read.
#include "batched/epoch_workers.hpp"

#include <gtest/gtest.h>

#include <time.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace fitreel::detail {
namespace {

// What each share writes: plain (non-atomic) values, as the kernels write their models.
struct Ledger {
  std::vector<long> runs_by_share;  // how many epochs each share ran
  std::vector<long> last_epoch;     // the epoch each share last saw
  long epoch = 0;                   // written by the caller between runs only
};

void count_share(void* context, int share) {
  auto& ledger = *static_cast<Ledger*>(context);
  ++ledger.runs_by_share[static_cast<size_t>(share)];
  ledger.last_epoch[static_cast<size_t>(share)] = ledger.epoch;
}

void expect_every_share_ran(const Ledger& ledger, long epochs) {
  for (size_t share = 0; share < ledger.runs_by_share.size(); ++share) {
    EXPECT_EQ(ledger.runs_by_share[share], epochs) << "share " << share;
    EXPECT_EQ(ledger.last_epoch[share], ledger.epoch) << "share " << share;
  }
}

TEST(EpochWorkers, EveryShareRunsOnceAnEpochAndIsDoneWhenRunReturns) {
  for (int shares : {1, 2, 3}) {  // 3: more threads than these 2-core machines have
    EpochWorkers workers(shares);
    ASSERT_EQ(workers.shares(), shares);
    Ledger ledger{std::vector<long>(static_cast<size_t>(shares)),
                  std::vector<long>(static_cast<size_t>(shares)), 0};
    constexpr long kEpochs = 3000;
    for (long epoch = 1; epoch <= kEpochs; ++epoch) {
      ledger.epoch = epoch;
      workers.run(count_share, &ledger);
      // Read right away: a share still running would show the previous epoch here.
      for (long seen : ledger.last_epoch) {
        ASSERT_EQ(seen, epoch) << shares << " shares";
      }
    }
    expect_every_share_ran(ledger, kEpochs);
  }
}

// Helpers sleep after about a millisecond without work; the next epoch must wake them.
TEST(EpochWorkers, SleepingHelpersWakeForTheNextEpoch) {
  EpochWorkers workers(3);
  Ledger ledger{std::vector<long>(3), std::vector<long>(3), 0};
  for (long epoch = 1; epoch <= 20; ++epoch) {
    std::this_thread::sleep_for(std::chrono::milliseconds(epoch % 2 == 0 ? 15 : 0));
    ledger.epoch = epoch;
    workers.run(count_share, &ledger);
  }
  expect_every_share_ran(ledger, 20);
}

// A share that takes a while (a model of a large batch): the caller waits for it, spinning
// first, then asleep, and the other shares' results are all there.
void slow_share(void* context, int share) {
  if (share == 1) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  count_share(context, share);
}

TEST(EpochWorkers, TheCallerWaitsForASlowShare) {
  EpochWorkers workers(2);
  Ledger ledger{std::vector<long>(2), std::vector<long>(2), 0};
  for (long epoch = 1; epoch <= 10; ++epoch) {
    ledger.epoch = epoch;
    workers.run(slow_share, &ledger);
    ASSERT_EQ(ledger.last_epoch[1], epoch);
  }
  expect_every_share_ran(ledger, 10);
}

// CPU time this thread has used.
std::chrono::nanoseconds thread_cpu_time() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
}

void sleepy_share(void* context, int share) {
  if (share == 1) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  count_share(context, share);
}

// Past its millisecond of spinning the caller sleeps until the last share is done, instead of
// taking a core from it (or from anything else) for the whole wait.
TEST(EpochWorkers, TheCallerSleepsThroughALongWait) {
  EpochWorkers workers(2);
  Ledger ledger{std::vector<long>(2), std::vector<long>(2), 1};
  const auto wall_start = std::chrono::steady_clock::now();
  const auto cpu_start = thread_cpu_time();
  workers.run(sleepy_share, &ledger);
  const auto cpu_used = thread_cpu_time() - cpu_start;
  EXPECT_GE(std::chrono::steady_clock::now() - wall_start, std::chrono::milliseconds(100));
  // Spinning through the wait would use ~100 ms; a sleeper uses its millisecond and a wake-up.
  EXPECT_LT(cpu_used, std::chrono::milliseconds(30));
  expect_every_share_ran(ledger, 1);
}

// Destroyed while the helpers spin (right after an epoch), while they sleep, and never used.
TEST(EpochWorkers, StopsCleanlyInAnyState) {
  Ledger ledger{std::vector<long>(4), std::vector<long>(4), 1};
  {
    EpochWorkers spinning(4);
    spinning.run(count_share, &ledger);
  }
  {
    EpochWorkers sleeping(4);
    sleeping.run(count_share, &ledger);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  {
    EpochWorkers unused(4);
  }
  expect_every_share_ran(ledger, 2);
}

}  // namespace
}  // namespace fitreel::detail
