#pragma once

#include <fitreel/files/atomic_file.hpp>
#include <fitreel/loss_history.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace fitreel::detail {

/// A loss CSV streamed while training runs: "epoch,loss" then one row per epoch, each loss to
/// full float precision (%.9g round-trips), into an AtomicFile. The training thread only
/// stores the pair; rows are formatted and written a batch at a time, so memory stays flat in
/// epochs and the loop pays no formatting per epoch. commit() makes the file appear whole;
/// without it nothing does.
class LossCsvWriter {
 public:
  explicit LossCsvWriter(const std::filesystem::path& path);
  LossCsvWriter(const files::Folder& folder, const std::string& name);
  void add(int64_t epoch, float loss) {
    pending_.emplace_back(epoch, loss);
    if (pending_.size() == kBatch) {
      flush();
    }
  }
  void commit();

 private:
  static constexpr size_t kBatch = 4096;
  void flush();

  files::AtomicFile file_;
  std::vector<std::pair<int64_t, float>> pending_;
  std::string text_;
};

/// "epoch,test_loss" and one row per held-out loss (%.9g), as text.
std::string test_loss_csv(const std::vector<EpochLoss>& test_losses);

}  // namespace fitreel::detail
