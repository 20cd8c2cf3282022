#include <fitreel/render/fit_plot.hpp>

#include <fitreel/render/loss_chart.hpp>

#include "drawing_units.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <limits>

namespace fitreel::render {

namespace {

using detail::px;
using detail::scaled;

constexpr double kPanelSplit = 0.66;  // share of the width the fit plot gets beside the panel

void widen(Range& range, const std::vector<double>& values) {
  for (double v : values) {
    if (std::isfinite(v)) {
      range.lo = std::min(range.lo, v);
      range.hi = std::max(range.hi, v);
    }
  }
}

std::string format_number(double value, const char* format = "%.4g") {
  if (!std::isfinite(value)) {  // printf writes "-nan" for a NaN with its sign bit set
    return std::isnan(value) ? "nan" : value > 0 ? "inf" : "-inf";
  }
  char text[48];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

// A parameter with four decimals, or in scientific notation once it is large (a 1e30 weight
// written out in full would not fit its line).
std::string format_parameter(double value) {
  return format_number(value, std::abs(value) >= 1e8 ? "%.4e" : "%.4f");
}

std::string with_thousands(size_t value) {
  std::string digits = std::to_string(value);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) {
    digits.insert(static_cast<size_t>(i), ",");
  }
  return digits;
}

// `rect` cut to the image and never smaller than 2x2, so tiny frames (--size 64x64) still draw.
cv::Rect inside(cv::Rect rect, cv::Size size) {
  rect &= cv::Rect(0, 0, size.width, size.height);
  rect.width = std::max(rect.width, 2);
  rect.height = std::max(rect.height, 2);
  rect.x = std::clamp(rect.x, 0, size.width - 2);
  rect.y = std::clamp(rect.y, 0, size.height - 2);
  rect.width = std::min(rect.width, size.width - rect.x);
  rect.height = std::min(rect.height, size.height - rect.y);
  return rect;
}

constexpr size_t kTruthRangeSamples = 512;  // how finely the truth is sampled for the axes
constexpr double kMargin = 0.05;            // room around data and truth, a share of the span
constexpr size_t kMaxEdgeMarkers = 3;       // per edge: enough to see, never a row of them

// `range` with kMargin of its span on either side (matplotlib's default), so points are never
// cut by the frame and a model a little off the data stays in view.
Range with_margin(Range range, int ticks) {
  if (!(range.hi > range.lo)) {
    return nice_bounds(range, ticks);  // a single value: room of its own size
  }
  const double pad = (range.hi - range.lo) * kMargin;
  return {range.lo - pad, range.hi + pad};
}

double y_at(const StraightLine& line, double x) { return line.slope * x + line.intercept; }

// `count` evenly spaced points of `curve` across `range`, ends included.
Points sample(const Curve& curve, Range range, size_t count) {
  Points points;
  count = std::max<size_t>(count, 2);
  points.x.reserve(count);
  points.y.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const double x = i + 1 == count ? range.hi
                                    : range.lo + (range.hi - range.lo) * static_cast<double>(i) /
                                                     static_cast<double>(count - 1);
    points.x.push_back(x);
    points.y.push_back(curve(x));
  }
  return points;
}

// `line` across the whole x range of `axes`.
void draw_straight_line(cv::Mat& image, const Axes& axes, const StraightLine& line,
                        const cv::Scalar& color, int thickness, Stroke stroke = Stroke::solid) {
  const Range& x = axes.x_range();
  draw_polyline(image, axes, {x.lo, x.hi}, {y_at(line, x.lo), y_at(line, x.hi)}, color, thickness,
                stroke);
}

// Pixel positions of the points drawn, for placing a legend off them.
std::vector<cv::Point> pixels_of(const std::vector<const Points*>& sets, const Axes& axes) {
  std::vector<cv::Point> pixels;
  for (const Points* points : sets) {
    for (size_t i = 0; i < points->x.size(); ++i) {
      const cv::Point2d p = axes.to_pixel(points->x[i], points->y[i]);
      if (std::isfinite(p.x) && std::isfinite(p.y)) {
        pixels.emplace_back(static_cast<int>(std::lround(p.x)), static_cast<int>(std::lround(p.y)));
      }
    }
  }
  return pixels;
}

// The parts of `layers` that draw_static() depends on (the side panel through the axes).
bool same_static(const Layers& a, const Layers& b) {
  const Layers drawn_once = Layers::all().without(Layer::model);
  return (a & drawn_once) == (b & drawn_once);
}

// Where a curve leaves the plot: the x and the edge (above or below `y`).
struct EdgeCrossing {
  double x = 0.0;
  bool above = false;
};

enum class Side { inside, above, below, none };

Side side_of(double x, double y, const Range& range) {
  if (std::isnan(y) || !std::isfinite(x)) {
    return Side::none;
  }
  return y > range.hi ? Side::above : y < range.lo ? Side::below : Side::inside;
}

// x where the segment from (x0, y0) to the outside point (x1, y1) meets `edge`.
double crossing_x(double x0, double y0, double x1, double y1, double edge) {
  const double t = std::isfinite(y1) ? (edge - y0) / (y1 - y0) : 0.0;
  return x0 + std::clamp(t, 0.0, 1.0) * (x1 - x0);
}

// One crossing per stretch of the curve outside `range`: where it leaves the plot, else (it
// starts outside) where it comes back, else (nothing else is drawn) the middle of the stretch.
std::vector<EdgeCrossing> edge_crossings(const std::vector<double>& x, const std::vector<double>& y,
                                         const Range& range) {
  std::vector<EdgeCrossing> crossings;
  const size_t count = std::min(x.size(), y.size());
  const auto side = [&](size_t i) { return side_of(x[i], y[i], range); };
  for (size_t start = 0; start < count;) {
    const Side out = side(start);
    if (out != Side::above && out != Side::below) {
      ++start;
      continue;
    }
    size_t end = start;
    while (end + 1 < count && side(end + 1) == out) {
      ++end;
    }
    const bool above = out == Side::above;
    const double edge = above ? range.hi : range.lo;
    if (start > 0 && side(start - 1) != Side::none) {  // from inside or the other edge
      crossings.push_back(
          {crossing_x(x[start - 1], y[start - 1], x[start], y[start], edge), above});
    } else if (end + 1 < count && side(end + 1) != Side::none) {
      crossings.push_back({crossing_x(x[end + 1], y[end + 1], x[end], y[end], edge), above});
    } else {
      crossings.push_back({x[(start + end) / 2], above});
    }
    start = end + 1;
  }
  return crossings;
}

// A small filled triangle at the edge for each crossing, pointing out of the plot; at most
// kMaxEdgeMarkers per edge, none closer than two markers to the last on its edge.
void draw_edge_markers(cv::Mat& image, const Axes& axes, const std::vector<EdgeCrossing>& crossings,
                       const cv::Scalar& color, double text_scale) {
  const cv::Rect& area = axes.area();
  const double half = std::max(3, px(7, text_scale));
  const double height = std::max(4, px(11, text_scale));
  std::array<size_t, 2> drawn{};  // [above]
  std::array<double, 2> last{-1e9, -1e9};
  for (const EdgeCrossing& crossing : crossings) {
    const size_t edge = crossing.above ? 1 : 0;
    const double cx =
        std::clamp(axes.to_pixel(crossing.x, 0.0).x, area.x + half, area.x + area.width - 1 - half);
    if (drawn[edge] >= kMaxEdgeMarkers || std::abs(cx - last[edge]) < 4 * half) {
      continue;
    }
    ++drawn[edge];
    last[edge] = cx;
    const double tip = crossing.above ? area.y : area.y + area.height - 1;
    const double base = crossing.above ? tip + height : tip - height;
    const cv::Point corners[3] = {detail::fixed_point({cx, tip}),
                                  detail::fixed_point({cx - half, base}),
                                  detail::fixed_point({cx + half, base})};
    cv::fillConvexPoly(image, corners, 3, color, cv::LINE_AA, detail::kShift);
  }
}

// The i-th hidden unit's colour (they repeat after four).
const cv::Scalar& unit_color(size_t index) {
  return colors::kUnits[index % std::size(colors::kUnits)];
}

}  // namespace

Points thin(const Points& points, size_t limit) {
  const size_t count = std::min(points.x.size(), points.y.size());
  if (count <= limit || limit < 2) {
    return points;
  }
  Points kept;
  kept.x.reserve(limit);
  kept.y.reserve(limit);
  for (size_t i = 0; i < limit; ++i) {
    const size_t index = i * (count - 1) / (limit - 1);
    kept.x.push_back(points.x[index]);
    kept.y.push_back(points.y[index]);
  }
  return kept;
}

FitPlot::FitPlot(FitScene scene, cv::Size size, Layers animated)
    : scene_(std::move(scene)),
      size_(size),
      // Text scales with the frame, but stays readable in a sweep's small panels.
      text_scale_(std::max(std::min(0.6, size.height / 400.0), size.height / 720.0)) {
  const double inf = std::numeric_limits<double>::infinity();
  Range x{inf, -inf};
  widen(x, scene_.train.x);
  widen(x, scene_.test.x);
  widen(x, scene_.curve_x);
  if (!(x.hi >= x.lo)) {
    x = {0.0, 1.0};
  }
  Range y{inf, -inf};
  widen(y, scene_.train.y);
  widen(y, scene_.test.y);
  if (scene_.truth) {
    widen(y, sample(scene_.truth, x, kTruthRangeSamples).y);
  }
  if (!(y.hi >= y.lo)) {
    y = {0.0, 1.0};
  }
  // Fixed for the whole film from the data and the truth, never from the model: where the
  // model leaves them, draw_edge_markers() says so.
  x_range_ = with_margin(x, 8);
  y_range_ = with_margin(y, 6);
  if (scene_.truth) {
    // Drawn across the whole plot: a straight line by its ends (one clean anti-aliased
    // stroke), any other curve at about one sample per pixel.
    const bool straight = scene_.truth.target<StraightLine>() != nullptr;
    shown_truth_ = sample(scene_.truth, x_range_,
                          straight ? 2 : static_cast<size_t>(std::max(size_.width, 64)));
  }
  const size_t total = scene_.train.x.size() + scene_.test.x.size();
  const double share = total > scene_.max_markers
                           ? static_cast<double>(scene_.max_markers) / static_cast<double>(total)
                           : 1.0;
  shown_train_ =
      thin(scene_.train, std::max<size_t>(2, static_cast<size_t>(share * scene_.train.x.size())));
  shown_test_ =
      thin(scene_.test, std::max<size_t>(2, static_cast<size_t>(share * scene_.test.x.size())));
  // Where the data are drawn, for placing the legend off them (draw_legend_off).
  data_pixels_ = {pixels_of({&shown_train_, &shown_test_}, fit_axes(false)),
                  pixels_of({&shown_train_, &shown_test_}, fit_axes(true))};
  background_layers_ = animated;
  background_.create(size_, CV_8UC3);
  draw_static(background_, animated, fit_axes(animated.has(Layer::side_panel)));
}

Axes FitPlot::fit_axes(bool side_panel) const {
  const double s = text_scale_;
  const int left = px(90, s);
  const int top = px(80, s);
  const int right =
      side_panel ? static_cast<int>(size_.width * kPanelSplit) : size_.width - px(40, s);
  const int bottom = size_.height - px(95, s);
  return Axes(inside(cv::Rect(left, top, right - left, bottom - top), size_), x_range_, y_range_);
}

std::vector<double> FitPlot::curve_rows(const std::vector<float>& curve, bool side_panel) const {
  const Axes axes = fit_axes(side_panel);
  std::vector<double> rows;
  rows.reserve(curve.size());
  for (const float value : curve) {
    rows.push_back(
        std::isfinite(value)
            ? axes.to_pixel(x_range_.lo, std::clamp<double>(value, y_range_.lo, y_range_.hi)).y
            : std::numeric_limits<double>::quiet_NaN());
  }
  return rows;
}

cv::Mat FitPlot::draw(const FitFrame& frame, const Layers& layers) const {
  cv::Mat image;
  draw(frame, image, layers);
  return image;
}

void FitPlot::draw(const FitFrame& frame, cv::Mat& out, const Layers& layers) const {
  const Axes axes = fit_axes(layers.has(Layer::side_panel));
  if (same_static(layers, background_layers_) && !background_.empty()) {
    background_.copyTo(out);  // an animation's frames share everything but the model and panel
  } else {
    out.create(size_, CV_8UC3);
    draw_static(out, layers, axes);
  }
  draw_dynamic(out, frame, layers, axes);
}

void FitPlot::draw_static(cv::Mat& image, const Layers& layers, const Axes& axes) const {
  image.setTo(colors::kBackground);
  draw_axes(image, axes, "x", "y", text_scale_);
  const int half = std::max(2, px(4, text_scale_));
  if (layers.has(Layer::train)) {
    draw_squares(image, axes, shown_train_.x, shown_train_.y, colors::kData, half, true);
  }
  if (layers.has(Layer::test)) {
    draw_squares(image, axes, shown_test_.x, shown_test_.y, colors::kTest, half, false);
  }
  if (layers.has(Layer::truth) && scene_.truth) {
    draw_polyline(image, axes, shown_truth_.x, shown_truth_.y, colors::kTruth,
                  scaled(2, text_scale_));
  }
}

void FitPlot::draw_title(cv::Mat& image, const FitFrame& frame, const Layers& layers) const {
  const double s = text_scale_;
  const std::string epoch = std::to_string(frame.epoch);
  const std::string epochs = std::to_string(scene_.epochs);
  const std::string loss = layers.has(Layer::model) ? format_number(frame.loss) : "";
  const std::string& note = frame.note;
  const std::string kDot = " \xC2\xB7 ";  // U+00B7, the middle dot
  const auto joined = [](std::vector<std::string> parts, const std::string& separator) {
    std::string text;
    for (const std::string& part : parts) {
      if (part.empty()) continue;
      text += (text.empty() ? "" : separator) + part;
    }
    return text;
  };
  // The longest form that fits the width, shortened before it is cut: the spacing, then the
  // epoch, then the loss go, in that order; a title too wide even alone is left out.
  const std::vector<std::string> forms = {
      joined({scene_.title, "epoch " + epoch + " of " + epochs, loss.empty() ? "" : "loss " + loss,
              note.empty() ? "" : "(" + note + ")"},
             "    "),
      joined(
          {scene_.title, "epoch " + epoch + "/" + epochs, loss.empty() ? "" : "loss " + loss, note},
          kDot),
      joined({scene_.title, loss.empty() ? "" : "loss " + loss, note}, kDot),
      joined({scene_.title, note}, kDot), scene_.title};
  const TextStyle style{1.5 * s, colors::kInk, true};
  const cv::Point origin(px(90, s), px(45, s));
  const int room = size_.width - origin.x - px(8, s);
  for (const std::string& form : forms) {
    if (text_size(form, style).width <= room) {
      draw_text(image, form, origin, style);
      return;
    }
  }
}

std::vector<LegendEntry> FitPlot::legend_for(const FitFrame& frame, const Layers& layers) const {
  std::vector<LegendEntry> legend;
  const bool thinned = drawn_points() < scene_.train.x.size() + scene_.test.x.size();
  const auto count_label = [&](const Points& all, const Points& shown) {
    return thinned
               ? "showing " + with_thousands(shown.x.size()) + " of " + with_thousands(all.x.size())
               : with_thousands(all.x.size());
  };
  if (layers.has(Layer::train) && !scene_.train.x.empty()) {
    const char* name = scene_.test.x.empty() ? "data" : "training data";
    legend.push_back({std::string(name) + " (" + count_label(scene_.train, shown_train_) + ")",
                      colors::kData, LegendEntry::Mark::square});
  }
  if (layers.has(Layer::test) && !scene_.test.x.empty()) {
    legend.push_back({"held-out test data (" + count_label(scene_.test, shown_test_) + ")",
                      colors::kTest, LegendEntry::Mark::hollow_square});
  }
  if (layers.has(Layer::truth) && scene_.truth) {
    legend.push_back({scene_.truth_label, colors::kTruth, LegendEntry::Mark::line});
  }
  if (layers.has(Layer::model) && frame.least_squares) {
    const double intercept = frame.least_squares->intercept;  // "x - 0.125", not "x + -0.125"
    legend.push_back({"least squares: y = " + format_number(frame.least_squares->slope, "%.3g") +
                          (intercept < 0 ? "x - " : "x + ") +
                          format_number(std::abs(intercept), "%.3g"),
                      colors::kLeastSquares, LegendEntry::Mark::dashed_line});
  }
  if (layers.has(Layer::model) && !frame.curve.empty()) {
    legend.push_back({"model", colors::kModel, LegendEntry::Mark::line});
  }
  if (layers.has(Layer::units) && !frame.units.empty()) {
    // One entry per unit while few; else one for all, saying which of how many are shown.
    const size_t shown = frame.units.size();
    const bool capped = frame.units_total > static_cast<int64_t>(shown);
    if (shown <= 4 && !capped) {
      for (size_t i = 0; i < shown; ++i) {
        legend.push_back(
            {"hidden unit " + std::to_string(i + 1), unit_color(i), LegendEntry::Mark::line});
      }
    } else {
      legend.push_back({"hidden units 1-" + std::to_string(shown) +
                            (capped ? " of " + std::to_string(frame.units_total) : ""),
                        unit_color(0), LegendEntry::Mark::line});
    }
    legend.push_back({"output bias " + format_number(frame.unit_bias, "%.3g"), colors::kUnitBias,
                      LegendEntry::Mark::dashed_line});
  }
  return legend;
}

void FitPlot::draw_dynamic(cv::Mat& image, const FitFrame& frame, const Layers& layers,
                           const Axes& axes) const {
  const double s = text_scale_;
  const int line_width = scaled(2, s);
  if (layers.has(Layer::units) && !frame.units.empty()) {  // behind everything the model draws
    draw_straight_line(image, axes, StraightLine{0.0, frame.unit_bias}, colors::kUnitBias,
                       std::max(1, line_width / 2), Stroke::dashed);
    for (size_t i = 0; i < frame.units.size(); ++i) {
      const std::vector<double> unit(frame.units[i].begin(), frame.units[i].end());
      draw_polyline(image, axes, scene_.curve_x, unit, unit_color(i), std::max(1, line_width / 2));
    }
  }
  if (layers.has(Layer::model) && frame.least_squares) {
    draw_straight_line(image, axes, *frame.least_squares, colors::kLeastSquares, line_width,
                       Stroke::dashed);
  }
  if (layers.has(Layer::model) && !frame.curve.empty()) {
    const std::vector<double> curve(frame.curve.begin(), frame.curve.end());
    draw_polyline(image, axes, scene_.curve_x, curve, colors::kModel, line_width + 1);
    draw_edge_markers(image, axes, edge_crossings(scene_.curve_x, curve, axes.y_range()),
                      colors::kModel, s);
  }

  const std::vector<LegendEntry> legend =
      scene_.legend ? legend_for(frame, layers) : std::vector<LegendEntry>{};
  const bool legend_on_plot = draw_legend_off(image, axes.area(), legend,
                                              data_pixels_[layers.has(Layer::side_panel) ? 1 : 0],
                                              text_scale_, Crowded::leave_out);

  draw_title(image, frame, layers);

  if (layers.has(Layer::side_panel)) {
    const int left = static_cast<int>(size_.width * kPanelSplit) + px(100, s);
    const int right = size_.width - px(30, s);
    const int top = px(80, s);
    const int loss_bottom = top + static_cast<int>((size_.height - px(175, s)) * 0.55);
    draw_loss_panel(image, frame,
                    inside(cv::Rect(left, top, right - left, loss_bottom - top), size_));
    const int box_top = loss_bottom + px(80, s);
    const int bottom = size_.height - px(20, s);
    const int below = draw_parameters(
        image, frame,
        inside(cv::Rect(left - px(60, s), box_top, right - left + px(60, s), bottom - box_top),
               size_));
    if (!legend_on_plot) {  // data in every corner of the plot: the legend goes under the panel
      const int legend_top = below + px(16, s);
      draw_legend_in(image,
                     cv::Rect(left - px(60, s), legend_top, right - left + px(60, s),
                              std::max(0, bottom - legend_top)),
                     legend, s);
    }
  }
}

void FitPlot::draw_loss_panel(cv::Mat& image, const FitFrame& frame, cv::Rect area) const {
  std::vector<LossSeries> series;
  if (frame.test_loss_curve.empty()) {
    series.push_back({"", colors::kModel, frame.loss_curve});
  } else {  // both, told apart by a legend
    series.push_back({"training", colors::kModel, frame.loss_curve});
    series.push_back({"test (held out)", colors::kTest, frame.test_loss_curve});
  }
  draw_loss_chart(
      image, area, scene_.epochs, scene_.epoch_scale, series, text_scale_,
      LossPoint{frame.epoch, frame.loss},
      frame.test_loss_curve.empty() ? "training loss (MSE, log scale)" : "loss (MSE, log scale)");
}

int FitPlot::draw_parameters(cv::Mat& image, const FitFrame& frame, cv::Rect area) const {
  const double s = text_scale_;
  const TextStyle heading{s, colors::kInk, true};
  const TextStyle body{0.85 * s, colors::kInk, false};
  const int row = text_size("Ag", body).height + px(12, s);
  int y = area.y + text_size("Ag", heading).height;
  draw_text(image, "parameters", {area.x, y}, heading);
  y += row + px(4, s);
  // Up to three values a line, fewer where the line would not fit: "fc1 weight: (64 values)".
  constexpr size_t kMostValues = 3;
  for (size_t i = 0; i < frame.params.size() && y < area.y + area.height; ++i) {
    const std::string name =
        (i < scene_.param_names.size() ? scene_.param_names[i] : "p" + std::to_string(i)) + ":";
    const auto& values = frame.params[i];
    for (size_t shown = std::min(values.size(), kMostValues);; --shown) {
      std::string line = name;
      for (size_t j = 0; j < shown; ++j) {
        line += (j == 0 ? " " : ", ") + format_parameter(values[j]);
      }
      if (shown == 0) {
        line +=
            values.size() == 1 ? " (1 value)" : " (" + std::to_string(values.size()) + " values)";
      } else if (values.size() > shown) {
        line += ", ... (" + std::to_string(values.size()) + ")";
      }
      if (shown == 0 || text_size(line, body).width <= area.width) {
        draw_text(image, line, {area.x, y}, body);
        break;
      }
    }
    y += row;
  }
  return y - row + px(8, s);  // the last baseline, and room for descenders
}

}  // namespace fitreel::render
