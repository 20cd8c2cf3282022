#pragma once

// Text and pictures for index.html: escaped text, relative links, the loss chart as inline SVG.

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

/// One line of the loss chart: (epoch, loss) points.
struct ChartSeries {
  std::string label;
  std::string color;  ///< an SVG colour, e.g. "#1f77b4"
  std::vector<std::pair<double, double>> points;
};

/// An inline <svg> of `series` over epochs with a log-scale y axis; "" when there is nothing
/// to draw.
std::string loss_chart_svg(const std::vector<ChartSeries>& series);

}  // namespace fitreel::app
