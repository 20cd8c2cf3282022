#pragma once

#include <fitreel/render/fit_plot.hpp>
#include <fitreel/render/plot.hpp>

#include <opencv2/core.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fitreel::render {

/// One loss curve of a chart.
struct LossSeries {
  std::string label{};  ///< legend text; empty = no legend entry
  cv::Scalar color{};
  std::vector<LossPoint> points{};  ///< ascending epochs; non-positive or non-finite are skipped
  /// A faint band behind the curve from `low` to `high` (the range of several runs, say), at the
  /// same epochs; empty: none.
  std::vector<LossPoint> low{}, high{};
  int thickness = 2;  ///< in pixels at 720 px
  /// A mark on the curve's last drawn point: a dot (the best run) or a cross (a run that
  /// diverged there). The legend shows it instead of a line when the series has one point.
  enum class EndMark { none, dot, cross } end_mark = EndMark::none;
};

/// Losses against epochs in `area`: log-scale loss over whole decades, epochs in [0, epochs)
/// on `epoch_scale`, a legend for labelled series (in the corner covering the fewest losses; at
/// its smallest where every corner is crowded), and a dot at `marker` when given.
void draw_loss_chart(cv::Mat& image, cv::Rect area, int64_t epochs, Scale epoch_scale,
                     const std::vector<LossSeries>& series, double text_scale,
                     std::optional<LossPoint> marker = std::nullopt,
                     const std::string& loss_label = "training loss (MSE, log scale)");

/// The legend draw_loss_chart() draws for `series`: one entry per labelled series, marked with a
/// line, or with its end mark where that mark is all the series draws.
std::vector<LegendEntry> loss_legend(const std::vector<LossSeries>& series);

/// A picture of `size` holding `title` above a loss chart of `series` (see draw_loss_chart()),
/// laid out from the measured text: the chart takes what the title and the axes' labels leave.
/// Where the curves leave no corner of the chart free, the legend goes in a row between the
/// title and the chart.
cv::Mat draw_loss_figure(cv::Size size, const std::string& title, int64_t epochs, Scale epoch_scale,
                         const std::vector<LossSeries>& series);

/// A distinct colour for the i-th of several series (BGR).
cv::Scalar series_color(size_t index);

/// How panels tile a frame: columns, rows and the (even-sized) cell of each panel.
struct GridLayout {
  int columns = 1;
  int rows = 1;
  cv::Size cell{};
};
/// The most square grid for `count` panels in a frame of `size`.
GridLayout grid_layout(size_t count, cv::Size size);
/// `count` panels in `columns` columns (>= 1) in a frame of `size`.
GridLayout grid_layout(size_t count, cv::Size size, int columns);

/// Copies panel i into cell i of `frame` (row by row); the rest of the frame, and the cells of
/// empty panels, stay white.
void tile(const std::vector<cv::Mat>& panels, const GridLayout& layout, cv::Size size,
          cv::Mat& frame);

}  // namespace fitreel::render
