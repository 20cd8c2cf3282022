#pragma once

// Text and pictures for index.html: escaped text, relative links, the loss chart as inline SVG.

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

/// One line of the loss chart: (epoch, loss) points.
struct ChartSeries {
  std::string label;
  std::string color;  ///< an SVG colour, e.g. "#1f77b4"
  std::vector<std::pair<double, double>> points;
};

/// The (epoch, value) rows of a CSV with a header line (loss.csv, test_loss.csv), thinned as
/// they are read to at most about `max_points` (every k-th row, and always the last), keeping
/// only finite positive values (a log scale shows nothing else); empty when it is unreadable.
std::vector<std::pair<double, double>> read_loss_csv(const std::filesystem::path& csv,
                                                     std::size_t max_points = 500);

/// An inline <svg> of `series` over epochs with a log-scale y axis; "" when there is nothing
/// to draw.
std::string loss_chart_svg(const std::vector<ChartSeries>& series);

}  // namespace fitreel::app
