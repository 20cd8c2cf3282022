#include <fitreel/loss_history.hpp>

#include <algorithm>
#include <cmath>

namespace fitreel {

bool LossHistory::is_landmark(int64_t epoch) {
  if (epoch <= 2) {
    return epoch >= 0;
  }
  for (; epoch % 10 == 0; epoch /= 10) {
  }
  return epoch == 1;
}

void LossHistory::add(int64_t epoch, float loss) {
  if (!first_) {
    first_ = EpochLoss{epoch, loss};
  }
  ++count_;
  last_ = {epoch, loss};
  if (is_landmark(epoch)) {
    landmarks_[epoch] = loss;
  }
  if (epoch % stride_ != 0) {
    return;
  }
  sample_.push_back({epoch, loss});
  if (sample_.size() > capacity_) {  // keep every other one and sample half as often
    stride_ *= 2;
    const auto off_stride = [this](const EpochLoss& kept) { return kept.epoch % stride_ != 0; };
    sample_.erase(std::remove_if(sample_.begin(), sample_.end(), off_stride), sample_.end());
  }
}

std::vector<EpochLoss> LossHistory::points() const {
  std::vector<EpochLoss> all = sample_;
  for (const auto& [epoch, loss] : landmarks_) {
    all.push_back({epoch, loss});
  }
  if (count_ > 0) {
    all.push_back(last_);
  }
  std::sort(all.begin(), all.end(),
            [](const EpochLoss& a, const EpochLoss& b) { return a.epoch < b.epoch; });
  all.erase(std::unique(all.begin(), all.end(),
                        [](const EpochLoss& a, const EpochLoss& b) { return a.epoch == b.epoch; }),
            all.end());
  return all;
}

std::optional<float> LossHistory::at(int64_t epoch) const {
  if (count_ > 0 && epoch == last_.epoch) {
    return last_.loss;
  }
  if (const auto landmark = landmarks_.find(epoch); landmark != landmarks_.end()) {
    return landmark->second;
  }
  const auto kept =
      std::lower_bound(sample_.begin(), sample_.end(), epoch,
                       [](const EpochLoss& point, int64_t wanted) { return point.epoch < wanted; });
  if (kept != sample_.end() && kept->epoch == epoch) {
    return kept->loss;
  }
  return std::nullopt;
}

float LossHistory::first() const { return first_ ? first_->loss : std::nanf(""); }

float LossHistory::last() const { return count_ > 0 ? last_.loss : std::nanf(""); }

std::vector<int64_t> LossHistory::landmark_epochs(int64_t count) {
  std::vector<int64_t> epochs;
  for (int64_t e : {int64_t{0}, int64_t{1}, int64_t{2}}) {
    if (e < count) {
      epochs.push_back(e);
    }
  }
  for (int64_t e = 10; e < count; e *= 10) {
    epochs.push_back(e);
  }
  if (count > 0 && (epochs.empty() || epochs.back() != count - 1)) {
    epochs.push_back(count - 1);
  }
  return epochs;
}

}  // namespace fitreel
