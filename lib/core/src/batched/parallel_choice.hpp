#pragma once

// Internal: whether the next epoch runs on the worker threads or on the calling thread alone,
// decided by timing both as training goes. On a quiet machine the workers win; on a busy one
// the scheduler takes a helper's core away for whole time slices (milliseconds) and an epoch
// that waits for it is 10-40x slower than the calling thread alone. Both give the same numbers
// (each model's arithmetic is the same on any thread), so the choice may change at any epoch.
//
// Epochs run in blocks of one mode. After each block the mode it ran in has a fresh time per
// epoch; the other mode is tried for one block when the current one has become slower than it
// was, and otherwise at intervals that double (up to a second) each time the try loses and
// that are at least 50 times what the try costs, so a mode that collapses costs a small share
// of the run however long it lasts. The first epoch after a switch is not timed.

namespace fitreel::detail {

class ParallelChoice {
 public:
  /// Whether the next epoch should run on the workers.
  bool parallel_next() const { return trying_other_ ? !settled_parallel_ : settled_parallel_; }
  /// The mode it runs in when it is not trying the other.
  bool settled_parallel() const { return settled_parallel_; }
  /// The epoch parallel_next() asked for took `seconds` and ended at `now` (seconds on a
  /// steady clock).
  void record(double seconds, double now);

  static constexpr int kBlockEpochs = 8;
  /// A block also ends after this long, so trying a collapsed mode costs a few epochs at most.
  static constexpr double kLongestBlock = 2e-3;
  static constexpr double kFirstInterval = 0.02;
  static constexpr double kLongestInterval = 1.0;
  /// The other mode must be this much faster to take over (timings jitter).
  static constexpr double kMargin = 0.05;
  /// Tries of the other mode take at most about this share of the time: the next comes no
  /// sooner than its cost (its mode's last block) divided by this.
  static constexpr double kTryShare = 0.02;

 private:
  void end_block(double now);

  bool settled_parallel_ = true;
  bool trying_other_ = false;
  bool warming_up_ = false;  // the next epoch is the first after a switch: not timed
  int block_epochs_ = 0;
  double block_seconds_ = 0.0;  // its timed epochs
  double block_wall_ = 0.0;     // all its epochs
  // What the latest block of each mode took, untimed epoch included; < 0: none yet.
  double block_cost_[2] = {-1.0, -1.0};
  // Seconds per epoch of each mode's latest block ([0] alone, [1] parallel); < 0: not timed.
  double per_epoch_[2] = {-1.0, -1.0};
  double interval_ = kFirstInterval;
  double next_try_ = 0.0;  // 0: try the other mode after the first block
};

}  // namespace fitreel::detail
