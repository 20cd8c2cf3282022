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

}  // namespace fitreel::detail
