#include "loss_csv.hpp"

#include <fitreel/files/unique_fd.hpp>
#include <fitreel/reel/loss_csv.hpp>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

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

namespace fitreel {

std::vector<std::pair<double, double>> read_loss_csv(const files::Folder& folder,
                                                     const std::string& name,
                                                     std::size_t max_points,
                                                     std::uint64_t max_bytes) {
  // Thinned while read, so a run of a million epochs costs no more memory than a short one:
  // every `stride`-th row is kept, and each time the points fill up every other one goes.
  constexpr std::size_t kLongestLine = 256;
  std::vector<std::pair<double, double>> kept;
  std::optional<std::pair<double, double>> last;
  std::size_t stride = 1, row = 0;
  const auto take = [&](std::string_view line) {
    if (row++ == 0) return;  // the header
    const std::string text(line);
    const std::size_t comma = text.find(',');
    const double epoch = std::strtod(text.c_str(), nullptr);
    const double value =
        comma == std::string::npos ? 0.0 : std::strtod(text.c_str() + comma + 1, nullptr);
    if (!std::isfinite(epoch) || !std::isfinite(value) || value <= 0.0) {
      return;  // a log scale shows no zero, no inf, no NaN
    }
    last = {epoch, value};
    if ((row - 2) % stride != 0) return;
    kept.emplace_back(epoch, value);
    if (kept.size() > std::max<std::size_t>(max_points, 2)) {
      std::size_t half = 0;
      for (std::size_t i = 0; i < kept.size(); i += 2) {
        kept[half++] = kept[i];
      }
      kept.resize(half);
      stride *= 2;
    }
  };
  try {
    const files::UniqueFd reader(folder.open_for_reading(name));
    std::string line;
    bool too_long = false;
    std::uint64_t total = 0;
    char buffer[1 << 16];
    for (;;) {
      const ssize_t got = ::read(reader.get(), buffer, sizeof buffer);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      total += static_cast<std::uint64_t>(got);
      if (total > max_bytes) break;  // what was read so far is shown
      for (ssize_t i = 0; i < got; ++i) {
        if (buffer[i] == '\n') {
          if (!too_long) take(line);
          line.clear();
          too_long = false;
        } else if (line.size() < kLongestLine) {
          line += buffer[i];
        } else {
          too_long = true;
        }
      }
    }
    if (!line.empty() && !too_long) take(line);
  } catch (const files::FileError&) {
    return {};
  }
  if (last && (kept.empty() || kept.back() != *last)) {
    kept.push_back(*last);  // where the run ended
  }
  return kept;
}

}  // namespace fitreel
