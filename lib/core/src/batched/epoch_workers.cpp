#include "batched/epoch_workers.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

namespace fitreel::detail {

namespace {

// About a millisecond of spinning before a helper sleeps: far longer than one epoch, far
// shorter than anything a user would notice as a busy core after training.
constexpr int kSpinsBeforeSleep = 20000;

void pause_briefly() {
#if defined(__x86_64__) || defined(_M_X64)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

}  // namespace

EpochWorkers::EpochWorkers(int shares) {
  try {
    for (int share = 1; share < shares; ++share) {
      helpers_.emplace_back([this, share] { help(share); });
    }
  } catch (...) {  // no thread to be had: stop the ones started before saying so
    stop();
    throw;
  }
}

EpochWorkers::~EpochWorkers() { stop(); }

void EpochWorkers::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_.store(true);
  }
  wake_.notify_all();
  for (std::thread& helper : helpers_) {
    helper.join();
  }
  helpers_.clear();
}

void EpochWorkers::run(Task task, void* context) {
  task_ = task;
  context_ = context;
  unfinished_.store(static_cast<int>(helpers_.size()), std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mutex_);  // a helper about to sleep cannot miss the epoch
    epoch_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  task(context, 0);
  for (int spins = 0; unfinished_.load(std::memory_order_acquire) != 0; ++spins) {
    if (spins < kSpinsBeforeSleep) {
      pause_briefly();
    } else {
      std::this_thread::yield();  // a helper is not running: give it the core
    }
  }
}

void EpochWorkers::help(int share) {
  uint64_t done = 0;
  for (;;) {
    for (int spins = 0;
         spins < kSpinsBeforeSleep && epoch_.load(std::memory_order_acquire) == done &&
         !stopping_.load(std::memory_order_relaxed);
         ++spins) {
      pause_briefly();
    }
    if (epoch_.load(std::memory_order_acquire) == done) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_.load() || epoch_.load() != done; });
    }
    if (stopping_.load()) {
      return;
    }
    done = epoch_.load(std::memory_order_acquire);
    task_(context_, share);
    unfinished_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace fitreel::detail
