#include "batched/epoch_workers.hpp"

#include <chrono>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

namespace fitreel::detail {

namespace {

using Clock = std::chrono::steady_clock;

// About a millisecond of spinning before a thread sleeps: far longer than one epoch, far
// shorter than anything a user would notice as a busy core after training. Counted in time, not
// in pause instructions, whose cost varies about tenfold between CPUs.
constexpr auto kSpinTime = std::chrono::milliseconds(1);

#if defined(__x86_64__) || defined(_M_X64)
void pause_briefly() { _mm_pause(); }
constexpr unsigned kPausesPerClockRead = 64;  // a pause is tens of cycles, a clock read more
#else
void pause_briefly() { std::this_thread::yield(); }
constexpr unsigned kPausesPerClockRead = 1;  // a yield may take a whole time slice
#endif

// Spins until done() or kSpinTime has passed; true when done. The clock is first read once the
// first pauses are spent: most hand-overs finish before that, at no clock read at all.
template <class Done>
bool spin_until(Done done) {
  Clock::time_point deadline{};
  for (unsigned spins = 1;; ++spins) {
    if (done()) {
      return true;
    }
    if (spins % kPausesPerClockRead == 0) {
      const Clock::time_point now = Clock::now();
      if (deadline == Clock::time_point{}) {
        deadline = now + kSpinTime;
      } else if (now >= deadline) {
        return false;
      }
    }
    pause_briefly();
  }
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
  const auto all_finished = [&] { return unfinished_.load() == 0; };  // seq_cst: see help()
  if (!spin_until(all_finished)) {  // a helper is not running: give it the core until it is done
    std::unique_lock<std::mutex> lock(mutex_);
    caller_waiting_.store(true);  // seq_cst, as the last helper's count-down and its look at it
    finished_.wait(lock, all_finished);
    caller_waiting_.store(false);
  }
}

void EpochWorkers::help(int share) {
  uint64_t done = 0;
  for (;;) {
    const bool handed = spin_until([&] {
      return epoch_.load(std::memory_order_acquire) != done ||
             stopping_.load(std::memory_order_relaxed);
    });
    if (!handed) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_.load() || epoch_.load() != done; });
    }
    if (stopping_.load()) {
      return;
    }
    done = epoch_.load(std::memory_order_acquire);
    task_(context_, share);
    // The last share wakes a sleeping caller. Both sides are seq_cst: either this sees
    // caller_waiting_, or the caller's look at unfinished_ (after setting it) sees 0. Under the
    // lock, a caller that is about to sleep is asleep by then and cannot miss the wake-up; a
    // spinning caller (the usual case) costs no lock.
    if (unfinished_.fetch_sub(1) == 1 && caller_waiting_.load()) {
      std::lock_guard<std::mutex> lock(mutex_);
      finished_.notify_one();
    }
  }
}

}  // namespace fitreel::detail
