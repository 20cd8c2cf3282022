#pragma once

// Internal: a few threads that each run a share of one epoch and are handed the next at once.
// An epoch of a sweep is tens of microseconds, so the hand-over must cost far less: the helpers
// spin on an epoch counter while training runs (sleeping only after a pause of milliseconds),
// where a wake-up through the kernel would cost about as much as the work. No LibTorch here:
// its at::parallel_for only runs in parallel in code compiled with OpenMP, and Debian's
// LibTorch starts with one thread.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace fitreel::detail {

class EpochWorkers {
 public:
  /// `shares` parts per epoch: share 0 runs on the calling thread, the others on helpers.
  explicit EpochWorkers(int shares);
  ~EpochWorkers();
  EpochWorkers(const EpochWorkers&) = delete;
  EpochWorkers& operator=(const EpochWorkers&) = delete;

  int shares() const { return static_cast<int>(helpers_.size()) + 1; }
  /// Runs task(0), ..., task(shares - 1) at once and returns when all have finished. The task
  /// must not throw.
  void run(const std::function<void(int share)>& task);

 private:
  void help(int share);

  std::vector<std::thread> helpers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  const std::function<void(int)>* task_ = nullptr;
  std::atomic<uint64_t> epoch_{0};
  std::atomic<int> unfinished_{0};
  std::atomic<bool> stopping_{false};
};

}  // namespace fitreel::detail
