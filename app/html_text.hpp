#pragma once

// Text and pictures for index.html: escaped text, relative links, the loss chart as inline SVG.

#include <fitreel/files/folder.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace fitreel::app {

/// `text` safe inside HTML elements and quoted attributes. Paths on Linux are bytes, so each
/// byte that is not valid UTF-8 becomes U+FFFD (as json_text does), never a broken page.
std::string escape_html(std::string_view text);

/// A relative URL for the relative path `path` (DIR/… seen from DIR/index.html): every byte
/// but letters, digits, "-._~/" percent-encoded, so odd names still resolve from file://.
std::string relative_href(std::string_view path);

/// The most of a loss CSV the page reads: 10^8 epochs' rows and then some.
inline constexpr std::uint64_t kMostLossCsvBytes = std::uint64_t{4} << 30;

/// One line of the loss chart: (epoch, loss) points.
struct ChartSeries {
  std::string label;
  std::string color;  ///< an SVG colour, e.g. "#1f77b4"
  std::vector<std::pair<double, double>> points;
};

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

/// An inline <svg> of `series` over epochs with a log-scale y axis; "" when there is nothing
/// to draw.
std::string loss_chart_svg(const std::vector<ChartSeries>& series);

}  // namespace fitreel::app
