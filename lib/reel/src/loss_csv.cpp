#include "loss_csv.hpp"

#include <cstdio>

namespace fitreel::detail {

LossCsvWriter::LossCsvWriter(const std::filesystem::path& path) : file_(path) {
  pending_.reserve(kBatch);
  file_.append("epoch,loss\n");
}

void LossCsvWriter::flush() {
  text_.clear();
  char row[64];
  for (const auto& [epoch, loss] : pending_) {
    const int length = std::snprintf(row, sizeof row, "%lld,%.9g\n", static_cast<long long>(epoch),
                                     static_cast<double>(loss));
    text_.append(row, static_cast<size_t>(length));
  }
  pending_.clear();
  file_.append(text_);
}

void LossCsvWriter::commit() {
  flush();
  file_.commit();
}

std::string test_loss_csv(const std::vector<EpochLoss>& test_losses) {
  std::string text = "epoch,test_loss\n";
  char row[64];
  for (const EpochLoss& point : test_losses) {
    const int length =
        std::snprintf(row, sizeof row, "%lld,%.9g\n", static_cast<long long>(point.epoch),
                      static_cast<double>(point.loss));
    text.append(row, static_cast<size_t>(length));
  }
  return text;
}

}  // namespace fitreel::detail
