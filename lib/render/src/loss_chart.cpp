#include <fitreel/render/loss_chart.hpp>

#include "drawing_units.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace fitreel::render {

namespace {

using detail::fixed_point;
using detail::kShift;
using detail::px;
using detail::scaled;

// Appends where `point` is drawn, if it is: a finite loss above 0 (the axis is log).
void add_pixel(const Axes& axes, const LossPoint& point, std::vector<cv::Point>& pixels) {
  if (std::isfinite(point.loss) && point.loss > 0.0) {
    const cv::Point2d at = axes.to_pixel(static_cast<double>(point.epoch), point.loss);
    pixels.emplace_back(static_cast<int>(std::lround(at.x)), static_cast<int>(std::lround(at.y)));
  }
}

// The band of `series` as a filled polygon, blended at a quarter of its colour's strength.
void draw_band(cv::Mat& image, const Axes& axes, const LossSeries& series) {
  if (series.low.size() < 2 || series.low.size() != series.high.size()) {
    return;
  }
  std::vector<cv::Point> outline;
  const auto add = [&](const LossPoint& point) { add_pixel(axes, point, outline); };
  std::for_each(series.low.begin(), series.low.end(), add);
  std::for_each(series.high.rbegin(), series.high.rend(), add);
  if (outline.size() < 3) {
    return;
  }
  cv::Mat layer = image.clone();
  cv::fillPoly(layer, std::vector<std::vector<cv::Point>>{outline}, series.color, cv::LINE_AA);
  cv::Mat inside = image(axes.area());
  cv::addWeighted(layer(axes.area()), 0.25, inside, 0.75, 0.0, inside);
}

}  // namespace

cv::Scalar series_color(size_t index) {
  // matplotlib's tab10, BGR.
  static const cv::Scalar kPalette[] = {
      {180, 119, 31}, {14, 127, 255},  {44, 160, 44},   {40, 39, 214},  {189, 103, 148},
      {75, 86, 140},  {194, 119, 227}, {127, 127, 127}, {34, 189, 188}, {207, 190, 23}};
  return kPalette[index % std::size(kPalette)];
}

void draw_loss_chart(cv::Mat& image, cv::Rect area, int64_t epochs, Scale epoch_scale,
                     const std::vector<LossSeries>& series, double text_scale,
                     std::optional<LossPoint> marker, const std::string& loss_label) {
  double lo = std::numeric_limits<double>::infinity();
  double hi = 0.0;
  std::vector<std::vector<double>> xs(series.size()), ys(series.size());
  const auto widen = [&](const LossPoint& point) {
    const bool drawn = std::isfinite(point.loss) && point.loss > 0.0;
    if (drawn) {
      lo = std::min(lo, point.loss);
      hi = std::max(hi, point.loss);
    }
    return drawn;
  };
  for (size_t s = 0; s < series.size(); ++s) {
    for (const LossPoint& point : series[s].points) {
      if (widen(point)) {
        xs[s].push_back(static_cast<double>(point.epoch));
        ys[s].push_back(point.loss);
      }
    }
    std::for_each(series[s].low.begin(), series[s].low.end(), widen);
    std::for_each(series[s].high.begin(), series[s].high.end(), widen);
  }
  // Whole decades, so the axis changes only when a loss crosses one.
  const Range y = hi > 0.0 ? Range{std::pow(10.0, std::floor(std::log10(lo))),
                                   std::pow(10.0, std::ceil(std::log10(hi) + 1e-12))}
                           : Range{0.1, 10.0};
  const Range x{0.0, static_cast<double>(std::max<int64_t>(epochs - 1, 1))};
  const Axes axes(area, x, y, epoch_scale, Scale::log);
  draw_axes(image, axes, epoch_scale == Scale::log1p ? "epoch (log scale)" : "epoch", loss_label,
            text_scale);
  for (const LossSeries& one : series) {
    draw_band(image, axes, one);
  }
  std::vector<LegendEntry> legend;
  for (size_t s = 0; s < series.size(); ++s) {
    const LossSeries& one = series[s];
    draw_polyline(image, axes, xs[s], ys[s], one.color, scaled(one.thickness, text_scale));
    if (xs[s].size() == 1 && one.end_mark == LossSeries::EndMark::none) {
      // A lone loss (a one-epoch run, the last before a divergence) is a dot, not nothing.
      cv::circle(image, fixed_point(axes.to_pixel(xs[s][0], ys[s][0])),
                 (scaled(one.thickness, text_scale) + 1) << kShift, one.color, cv::FILLED,
                 cv::LINE_AA, kShift);
    }
    LegendEntry::Mark mark = LegendEntry::Mark::line;
    if (one.end_mark != LossSeries::EndMark::none && !xs[s].empty()) {
      mark = one.end_mark == LossSeries::EndMark::dot ? LegendEntry::Mark::dot
                                                      : LegendEntry::Mark::cross;
      const cv::Point2d at = axes.to_pixel(xs[s].back(), ys[s].back());
      draw_legend_mark(image, {one.label, one.color, mark},
                       {static_cast<int>(std::lround(at.x)), static_cast<int>(std::lround(at.y))},
                       0, text_scale);
      mark = xs[s].size() == 1 ? mark : LegendEntry::Mark::line;
    }
    if (!one.label.empty()) {
      legend.push_back({one.label, one.color, mark});
    }
  }
  if (marker && std::isfinite(marker->loss) && marker->loss > 0.0) {
    const cv::Point2d at = axes.to_pixel(static_cast<double>(marker->epoch), marker->loss);
    if (area.contains(cv::Point(static_cast<int>(at.x), static_cast<int>(at.y)))) {
      cv::circle(image, fixed_point(at), px(6, text_scale) << kShift, colors::kTruth, cv::FILLED,
                 cv::LINE_AA, kShift);
    }
  }
  // The legend goes where it covers the fewest drawn losses (and bands' edges); it names what
  // the curves are (rates, train and test), so a crowded chart still gets it, at its smallest.
  std::vector<cv::Point> drawn;
  const auto add = [&](const LossPoint& point) { add_pixel(axes, point, drawn); };
  for (const LossSeries& one : series) {
    std::for_each(one.points.begin(), one.points.end(), add);
    std::for_each(one.low.begin(), one.low.end(), add);
    std::for_each(one.high.begin(), one.high.end(), add);
  }
  draw_legend_off(image, area, legend, drawn, text_scale, Crowded::draw_smallest);
}

cv::Mat draw_loss_figure(cv::Size size, const std::string& title, int64_t epochs, Scale epoch_scale,
                         const std::vector<LossSeries>& series) {
  cv::Mat image(size, CV_8UC3, colors::kBackground);
  const double text_scale = size.height / 720.0;
  const int margin = scaled(24, text_scale);
  const TextStyle title_style{1.5 * text_scale, colors::kInk, true};
  const int title_height = text_size(title, title_style).height;
  draw_text(image, title, {margin, margin + title_height}, title_style);
  const int below_title = margin + title_height + margin;
  const cv::Rect box(margin, below_title, size.width - 2 * margin,
                     size.height - below_title - margin);
  draw_loss_chart(image, axes_area(box, text_scale), epochs, epoch_scale, series, text_scale);
  return image;
}

GridLayout grid_layout(size_t count, cv::Size size) {
  return grid_layout(count, size,
                     static_cast<int>(std::ceil(std::sqrt(static_cast<double>(count)))));
}

GridLayout grid_layout(size_t count, cv::Size size, int columns) {
  GridLayout layout;
  layout.columns = std::max(1, columns);
  layout.rows = std::max(1, static_cast<int>((count + layout.columns - 1) / layout.columns));
  layout.cell = {size.width / layout.columns / 2 * 2, size.height / layout.rows / 2 * 2};
  return layout;
}

void tile(const std::vector<cv::Mat>& panels, const GridLayout& layout, cv::Size size,
          cv::Mat& frame) {
  frame.create(size, CV_8UC3);
  frame.setTo(colors::kBackground);
  for (size_t i = 0; i < panels.size(); ++i) {
    if (panels[i].empty()) {
      continue;
    }
    const int column = static_cast<int>(i) % layout.columns;
    const int row = static_cast<int>(i) / layout.columns;
    const cv::Rect cell(column * layout.cell.width, row * layout.cell.height, layout.cell.width,
                        layout.cell.height);
    // The panel's top-left part that fits the cell, and where that lands in the frame.
    const cv::Rect part(0, 0, std::min(cell.width, panels[i].cols),
                        std::min(cell.height, panels[i].rows));
    panels[i](part).copyTo(frame(part + cell.tl()));
  }
}

}  // namespace fitreel::render
