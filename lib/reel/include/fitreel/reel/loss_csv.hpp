#pragma once

// Reading back the loss CSVs a Film writes (loss.csv: "epoch,loss"; test_loss.csv:
// "epoch,test_loss"), beside the writer (lib/reel/src/loss_csv.cpp), e.g. to chart them.

#include <fitreel/files/folder.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fitreel {

/// The most of a loss CSV read_loss_csv reads by default: 10^8 epochs' rows and then some.
inline constexpr std::uint64_t kMostLossCsvBytes = std::uint64_t{4} << 30;

/// The (epoch, value) rows of a CSV with a header line (loss.csv, test_loss.csv) named `name`
/// in `folder`, thinned as they are read to at most about `max_points` (every k-th row, and
/// always the last), keeping only finite positive values (a log scale shows nothing else).
/// Streamed through a descriptor: a regular file only, no link followed, at most `max_bytes`
/// read and lines past 256 bytes skipped, so memory stays flat whatever is there. Empty when it
/// is unreadable.
std::vector<std::pair<double, double>> read_loss_csv(const files::Folder& folder,
                                                     const std::string& name,
                                                     std::size_t max_points = 500,
                                                     std::uint64_t max_bytes = kMostLossCsvBytes);

}  // namespace fitreel
