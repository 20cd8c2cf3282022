#include "loss_csv.hpp"

#include <cstdio>

namespace fitreel::detail {

namespace {

// "EPOCH,LOSS\n", the loss to full float precision (%.9g round-trips a float).
void append_row(std::string& text, int64_t epoch, float loss) {
  char row[64];
  const int length = std::snprintf(row, sizeof row, "%lld,%.9g\n", static_cast<long long>(epoch),
                                   static_cast<double>(loss));
  text.append(row, static_cast<size_t>(length));
}

}  // namespace

LossCsvWriter::LossCsvWriter(const std::filesystem::path& path) : file_(path) {
  pending_.reserve(kBatch);
  file_.append("epoch,loss\n");
}

LossCsvWriter::LossCsvWriter(const files::Folder& folder, const std::string& name)
    : file_(folder, name) {
  pending_.reserve(kBatch);
  file_.append("epoch,loss\n");
}

void LossCsvWriter::flush() {
  text_.clear();
  for (const auto& [epoch, loss] : pending_) {
    append_row(text_, epoch, loss);
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
  for (const EpochLoss& point : test_losses) {
    append_row(text, point.epoch, point.loss);
  }
  return text;
}

}  // namespace fitreel::detail
