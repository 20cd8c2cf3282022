#pragma once

// Internal: a few threads that each run a share of one epoch and are handed the next at once.
// An epoch of a sweep is tens of microseconds, so the hand-over must cost far less: the helpers
// spin on an epoch counter while training runs (sleeping after a millisecond without one), as
// the caller spins for the last share to finish (sleeping after a millisecond too), where a
// wake-up through the kernel would cost about as much as the work. No LibTorch here:
// its at::parallel_for only runs in parallel in code compiled with OpenMP, and Debian's
// LibTorch starts with one thread.

#include <atomic>
#include <condition_variable>
#include <cstdint>
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

  /// One share of an epoch: task(context, share). It must not throw.
  using Task = void (*)(void* context, int share);

  int shares() const { return static_cast<int>(helpers_.size()) + 1; }
  /// Runs task(context, 0), ..., task(context, shares - 1) at once and returns when all have
  /// finished.
  void run(Task task, void* context);

 private:
  void help(int share);
  void stop();

  std::vector<std::thread> helpers_;
  std::mutex mutex_;
  std::condition_variable wake_;      // helpers: an epoch (or the stop) is here
  std::condition_variable finished_;  // the caller: every share has finished
  Task task_ = nullptr;
  void* context_ = nullptr;
  // Apart from each other: helpers spin reading epoch_ while others count down unfinished_.
  alignas(64) std::atomic<uint64_t> epoch_{0};
  alignas(64) std::atomic<int> unfinished_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> caller_waiting_{false};  // the caller sleeps on finished_
};

}  // namespace fitreel::detail
