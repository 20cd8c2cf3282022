#include "batched/parallel_choice.hpp"

#include <algorithm>

namespace fitreel::detail {

void ParallelChoice::record(double seconds, double now) {
  block_wall_ += seconds;
  // The first epoch after a switch pays for woken helpers and cold caches, not for the mode;
  // unless it alone is a whole block's worth (a collapse), it is not timed.
  if (warming_up_ && seconds < kLongestBlock) {
    warming_up_ = false;
    return;
  }
  warming_up_ = false;
  block_seconds_ += seconds;
  ++block_epochs_;
  if (block_epochs_ >= kBlockEpochs || block_seconds_ >= kLongestBlock) {
    end_block(now);
  }
}

void ParallelChoice::end_block(double now) {
  const bool block_parallel = parallel_next();
  per_epoch_[block_parallel ? 1 : 0] = block_seconds_ / block_epochs_;
  block_cost_[block_parallel ? 1 : 0] = block_wall_;
  block_seconds_ = 0.0;
  block_wall_ = 0.0;
  block_epochs_ = 0;
  const double settled = per_epoch_[settled_parallel_ ? 1 : 0];
  const double other = per_epoch_[settled_parallel_ ? 0 : 1];
  if (trying_other_) {
    trying_other_ = false;
    if (other < settled * (1.0 - kMargin)) {
      settled_parallel_ = !settled_parallel_;
      interval_ = kFirstInterval;
    } else {
      interval_ = std::min(2.0 * interval_, kLongestInterval);
    }
    // A try of the mode now unsettled costs what its last block cost: keep that a small share.
    const double try_cost = block_cost_[settled_parallel_ ? 0 : 1];
    next_try_ = now + std::max(interval_, try_cost / kTryShare);
  } else {
    // The settled mode got slower than the other was: the machine changed, look again now.
    const bool got_slower = other >= 0.0 && other < settled * (1.0 - kMargin);
    trying_other_ = other < 0.0 || got_slower || now >= next_try_;
  }
  warming_up_ = parallel_next() != block_parallel;
}

}  // namespace fitreel::detail
