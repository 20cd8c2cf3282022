#pragma once

// The losses a run keeps in memory: bounded however many epochs run (10^9 epochs cost what
// 10^6 do). Every loss still reaches TrainCallbacks::on_loss as it is computed, for a caller
// that streams them (the CLI's loss.csv).

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace fitreel {

/// One recorded loss.
struct EpochLoss {
  int64_t epoch = 0;
  float loss = 0.0F;
};

/// Losses of a run, thinned to a fixed budget: every epoch while fewer than `capacity` were
/// added, then an even sample (every 2nd, 4th, ... epoch: the stride doubles each time the
/// budget fills), plus the landmarks 0, 1, 2, 10, 100, 1000, ... and the last epoch, always.
class LossHistory {
 public:
  explicit LossHistory(std::size_t capacity = 4096) : capacity_(capacity < 2 ? 2 : capacity) {}

  /// Adds the loss of `epoch`; epochs come in ascending order.
  void add(int64_t epoch, float loss);

  /// The kept losses, ascending by epoch, each epoch once.
  std::vector<EpochLoss> points() const;
  /// The loss of `epoch` when it was kept (landmarks and the last epoch always are).
  std::optional<float> at(int64_t epoch) const;
  /// Losses added (epochs run).
  int64_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  /// The first and the latest loss (NaN when empty).
  float first() const;
  float last() const;
  /// Losses held in memory now (at most about capacity + 20).
  std::size_t kept() const { return sample_.size() + landmarks_.size() + (empty() ? 0 : 1); }

  /// Whether `epoch` is a landmark: 0, 1, 2 or a power of ten.
  static bool is_landmark(int64_t epoch);
  /// The landmarks of a run of `count` epochs, and its last epoch: 0, 1, 2, 10, 100, ...,
  /// count - 1 (what summaries report; at() has each of them).
  static std::vector<int64_t> landmark_epochs(int64_t count);

 private:
  std::size_t capacity_;
  int64_t stride_ = 1;
  int64_t count_ = 0;
  std::vector<EpochLoss> sample_;       // epochs divisible by stride_
  std::map<int64_t, float> landmarks_;  // 0, 1, 2, 10, 100, ...
  EpochLoss last_{};
  std::optional<EpochLoss> first_;
};

}  // namespace fitreel
