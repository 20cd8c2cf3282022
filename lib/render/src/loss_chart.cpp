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

// Whether `point` is drawn: a finite loss above 0 (the axis is log).
bool is_drawn(const LossPoint& point) { return std::isfinite(point.loss) && point.loss > 0.0; }

// Appends where `point` is drawn, if it is.
void add_pixel(const Axes& axes, const LossPoint& point, std::vector<cv::Point>& pixels) {
  if (is_drawn(point)) {
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

// The chart's axes in `area`: epochs across, and up the whole decades that hold every drawn
// loss, bands included (so the axis changes only when a loss crosses a decade).
Axes loss_axes(cv::Rect area, int64_t epochs, Scale epoch_scale,
               const std::vector<LossSeries>& series) {
  double lo = std::numeric_limits<double>::infinity();
  double hi = 0.0;
  const auto widen = [&](const LossPoint& point) {
    if (is_drawn(point)) {
      lo = std::min(lo, point.loss);
      hi = std::max(hi, point.loss);
    }
  };
  for (const LossSeries& one : series) {
    std::for_each(one.points.begin(), one.points.end(), widen);
    std::for_each(one.low.begin(), one.low.end(), widen);
    std::for_each(one.high.begin(), one.high.end(), widen);
  }
  const Range y = hi > 0.0 ? Range{std::pow(10.0, std::floor(std::log10(lo))),
                                   std::pow(10.0, std::ceil(std::log10(hi) + 1e-12))}
                           : Range{0.1, 10.0};
  const Range x{0.0, static_cast<double>(std::max<int64_t>(epochs - 1, 1))};
  return Axes(area, x, y, epoch_scale, Scale::log);
}

// Where the losses (and the bands' edges) are drawn: what a legend should not cover.
std::vector<cv::Point> loss_pixels(const Axes& axes, const std::vector<LossSeries>& series) {
  std::vector<cv::Point> pixels;
  const auto add = [&](const LossPoint& point) { add_pixel(axes, point, pixels); };
  for (const LossSeries& one : series) {
    std::for_each(one.points.begin(), one.points.end(), add);
    std::for_each(one.low.begin(), one.low.end(), add);
    std::for_each(one.high.begin(), one.high.end(), add);
  }
  return pixels;
}

// The legend's mark for a series' end mark (a dot or a cross).
LegendEntry::Mark legend_mark_of(LossSeries::EndMark end_mark) {
  return end_mark == LossSeries::EndMark::dot ? LegendEntry::Mark::dot : LegendEntry::Mark::cross;
}

}  // namespace

cv::Scalar series_color(size_t index) {
  // matplotlib's tab10, BGR.
  static const cv::Scalar kPalette[] = {
      {180, 119, 31}, {14, 127, 255},  {44, 160, 44},   {40, 39, 214},  {189, 103, 148},
      {75, 86, 140},  {194, 119, 227}, {127, 127, 127}, {34, 189, 188}, {207, 190, 23}};
  return kPalette[index % std::size(kPalette)];
}

std::vector<LegendEntry> loss_legend(const std::vector<LossSeries>& series) {
  std::vector<LegendEntry> legend;
  for (const LossSeries& one : series) {
    if (one.label.empty()) {
      continue;
    }
    // A series drawn as its end mark alone (one loss) shows that mark; any other, a line.
    const auto drawn = std::count_if(one.points.begin(), one.points.end(), is_drawn);
    const bool lone_mark = drawn == 1 && one.end_mark != LossSeries::EndMark::none;
    legend.push_back(
        {one.label, one.color, lone_mark ? legend_mark_of(one.end_mark) : LegendEntry::Mark::line});
  }
  return legend;
}

void draw_loss_chart(cv::Mat& image, cv::Rect area, int64_t epochs, Scale epoch_scale,
                     const std::vector<LossSeries>& series, double text_scale,
                     std::optional<LossPoint> marker, const std::string& loss_label) {
  std::vector<std::vector<double>> xs(series.size()), ys(series.size());
  for (size_t s = 0; s < series.size(); ++s) {
    for (const LossPoint& point : series[s].points) {
      if (is_drawn(point)) {
        xs[s].push_back(static_cast<double>(point.epoch));
        ys[s].push_back(point.loss);
      }
    }
  }
  const Axes axes = loss_axes(area, epochs, epoch_scale, series);
  draw_axes(image, axes, epoch_scale == Scale::log1p ? "epoch (log scale)" : "epoch", loss_label,
            text_scale);
  for (const LossSeries& one : series) {
    draw_band(image, axes, one);
  }
  for (size_t s = 0; s < series.size(); ++s) {
    const LossSeries& one = series[s];
    draw_polyline(image, axes, xs[s], ys[s], one.color, scaled(one.thickness, text_scale));
    if (xs[s].size() == 1 && one.end_mark == LossSeries::EndMark::none) {
      // A lone loss (a one-epoch run, the last before a divergence) is a dot, not nothing.
      cv::circle(image, fixed_point(axes.to_pixel(xs[s][0], ys[s][0])),
                 (scaled(one.thickness, text_scale) + 1) << kShift, one.color, cv::FILLED,
                 cv::LINE_AA, kShift);
    }
    if (one.end_mark != LossSeries::EndMark::none && !xs[s].empty()) {
      const cv::Point2d at = axes.to_pixel(xs[s].back(), ys[s].back());
      draw_legend_mark(image, {one.label, one.color, legend_mark_of(one.end_mark)},
                       {static_cast<int>(std::lround(at.x)), static_cast<int>(std::lround(at.y))},
                       0, text_scale);
    }
  }
  if (marker && is_drawn(*marker)) {
    const cv::Point2d at = axes.to_pixel(static_cast<double>(marker->epoch), marker->loss);
    if (area.contains(cv::Point(static_cast<int>(at.x), static_cast<int>(at.y)))) {
      cv::circle(image, fixed_point(at), px(6, text_scale) << kShift, colors::kTruth, cv::FILLED,
                 cv::LINE_AA, kShift);
    }
  }
  // The legend goes where it covers the fewest drawn losses (and bands' edges); it names what
  // the curves are (rates, train and test), so a crowded chart still gets it, at its smallest.
  draw_legend_off(image, area, loss_legend(series), loss_pixels(axes, series), text_scale,
                  Crowded::draw_smallest);
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
  const cv::Rect chart = axes_area(box, text_scale);
  const std::vector<LegendEntry> legend = loss_legend(series);
  const std::vector<cv::Point> drawn =
      loss_pixels(loss_axes(chart, epochs, epoch_scale, series), series);
  if (!legend.empty() &&
      !legend_place_off(chart, legend, drawn, text_scale, Crowded::leave_out).has_value()) {
    // No corner is free: the legend goes in a row under the title, at the largest size that
    // fits across, and the chart below it; one too long for any keeps to the chart, at its
    // smallest.
    for (const double smaller : kLegendSizes) {
      const cv::Size row = legend_row_size(legend, text_scale * smaller);
      if (row.width > box.width || row.height + margin > box.height / 4) {
        continue;
      }
      draw_legend_row(image, {box.x, box.y, box.width, row.height}, legend, text_scale * smaller);
      std::vector<LossSeries> unlabelled = series;
      for (LossSeries& one : unlabelled) {
        one.label.clear();
      }
      const int chart_top = box.y + row.height + margin;
      draw_loss_chart(
          image,
          axes_area({box.x, chart_top, box.width, box.y + box.height - chart_top}, text_scale),
          epochs, epoch_scale, unlabelled, text_scale);
      return image;
    }
  }
  draw_loss_chart(image, chart, epochs, epoch_scale, series, text_scale);
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
