#include "parallel_choice.hpp"

#include <algorithm>

namespace fitreel::detail {

void ParallelChoice::record(double seconds, double now) {
  if (warming_up_) {  // woken helpers and cold caches are the switch's cost, not the mode's
    warming_up_ = false;
    return;
  }
  block_seconds_ += seconds;
  ++block_epochs_;
  if (block_epochs_ >= kBlockEpochs || block_seconds_ >= kLongestBlock) {
    end_block(now);
  }
}

void ParallelChoice::end_block(double now) {
  const bool block_parallel = parallel_next();
  per_epoch_[block_parallel ? 1 : 0] = block_seconds_ / block_epochs_;
  block_seconds_ = 0.0;
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
    next_try_ = now + interval_;
  } else {
    // The settled mode got slower than the other was: the machine changed, look again now.
    const bool got_slower = other >= 0.0 && other < settled * (1.0 - kMargin);
    trying_other_ = other < 0.0 || got_slower || now >= next_try_;
  }
  warming_up_ = parallel_next() != block_parallel;
}

}  // namespace fitreel::detail
