#include <fitreel/render/plot.hpp>

#include "drawing_units.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <utility>

namespace fitreel::render {

namespace {

using detail::fixed_point;
using detail::kShift;
using detail::kSubPixel;
using detail::px;
using detail::scaled;

double position(double value, const Range& range, Scale scale) {
  switch (scale) {
    case Scale::linear:
      return (value - range.lo) / (range.hi - range.lo);
    case Scale::log:
      if (!(value > 0.0)) {
        return std::nan("");
      }
      return (std::log10(value) - std::log10(range.lo)) /
             (std::log10(range.hi) - std::log10(range.lo));
    case Scale::log1p:
      if (!(value > -1.0)) {
        return std::nan("");
      }
      return (std::log1p(value) - std::log1p(range.lo)) /
             (std::log1p(range.hi) - std::log1p(range.lo));
  }
  return std::nan("");
}

// Liang-Barsky: clips the segment a-b to `box`; false when nothing of it is inside.
bool clip_segment(cv::Point2d& a, cv::Point2d& b, const cv::Rect2d& box) {
  const double dx = b.x - a.x;
  const double dy = b.y - a.y;
  double t0 = 0.0;
  double t1 = 1.0;
  const double p[4] = {-dx, dx, -dy, dy};
  const double q[4] = {a.x - box.x, box.x + box.width - a.x, a.y - box.y, box.y + box.height - a.y};
  for (int i = 0; i < 4; ++i) {
    if (p[i] == 0.0) {
      if (q[i] < 0.0) {
        return false;
      }
      continue;
    }
    const double t = q[i] / p[i];
    if (p[i] < 0.0) {
      t0 = std::max(t0, t);
    } else {
      t1 = std::min(t1, t);
    }
    if (t0 > t1) {
      return false;
    }
  }
  const cv::Point2d start = a;
  a = start + cv::Point2d(dx, dy) * t0;
  b = start + cv::Point2d(dx, dy) * t1;
  return true;
}

}  // namespace

double nice_step(double span, int target) {
  if (!(span > 0.0) || !std::isfinite(span) || target < 1) {
    return 1.0;
  }
  const double raw = span / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double normalized = raw / magnitude;
  const double factor = normalized < 1.5   ? 1.0
                        : normalized < 3.0 ? 2.0
                        : normalized < 7.0 ? 5.0
                                           : 10.0;
  return factor * magnitude;
}

std::vector<double> nice_ticks(Range range, int target) {
  const double step = nice_step(range.hi - range.lo, target);
  std::vector<double> ticks;
  const auto first = static_cast<long long>(std::ceil(range.lo / step - 1e-9));
  const auto last = static_cast<long long>(std::floor(range.hi / step + 1e-9));
  for (long long k = first; k <= last && ticks.size() < 1000; ++k) {
    const double tick = static_cast<double>(k) * step;
    ticks.push_back(tick == 0.0 ? 0.0 : tick);  // no "-0"
  }
  return ticks;
}

Range nice_bounds(Range range, int target) {
  if (!(range.hi > range.lo)) {  // a single value (or none): give it room
    const double pad = std::max(1.0, std::abs(range.lo) * 0.1);
    range = {range.lo - pad, range.lo + pad};
  }
  const double step = nice_step(range.hi - range.lo, target);
  return {std::floor(range.lo / step) * step, std::ceil(range.hi / step) * step};
}

std::vector<double> log_ticks(Range range) {
  std::vector<double> ticks;
  if (!(range.lo > 0.0) || !(range.hi >= range.lo)) {
    return ticks;
  }
  for (int k = static_cast<int>(std::floor(std::log10(range.lo)));
       k <= static_cast<int>(std::ceil(std::log10(range.hi))); ++k) {
    const double tick = std::pow(10.0, k);
    if (tick >= range.lo * (1 - 1e-9) && tick <= range.hi * (1 + 1e-9)) {
      ticks.push_back(tick);
    }
  }
  return ticks;
}

std::vector<double> log1p_ticks(Range range) {
  std::vector<double> ticks{0.0};
  for (double tick = 1.0; tick <= range.hi; tick *= 10.0) {
    ticks.push_back(tick);
  }
  return ticks;
}

std::string format_tick(double value, double step) {
  // Each label carries the digits down to the step's, so neighbouring ticks never read alike
  // (1.5e+37 between 1e+37 and 2e+37; 1.0000000002 beside 1.0000000004).
  char text[48];
  if (!(std::isfinite(step) && step > 0.0)) {  // no step to resolve: as printf sees fit
    std::snprintf(text, sizeof text, "%g", value);
    return text;
  }
  const double magnitude = std::abs(value);
  if (value != 0.0 && (magnitude >= 1e6 || magnitude < 1e-4)) {
    const double digits = std::floor(std::log10(magnitude)) - std::floor(std::log10(step)) + 1;
    std::snprintf(text, sizeof text, "%.*g", static_cast<int>(std::clamp(digits, 1.0, 17.0)),
                  value);
    return text;
  }
  const double decimals = std::ceil(-std::log10(step) - 1e-9);
  std::snprintf(text, sizeof text, "%.*f", static_cast<int>(std::clamp(decimals, 0.0, 17.0)),
                value);
  return text;
}

Axes::Axes(cv::Rect area, Range x, Range y, Scale x_scale, Scale y_scale)
    : area_(area), x_(x), y_(y), x_scale_(x_scale), y_scale_(y_scale) {}

cv::Point2d Axes::to_pixel(double x, double y) const {
  const double tx = position(x, x_, x_scale_);
  const double ty = position(y, y_, y_scale_);
  return {area_.x + tx * (area_.width - 1), area_.y + (1.0 - ty) * (area_.height - 1)};
}

namespace {

// The sizes draw_axes() places its ticks and labels by, which axes_area() leaves room for.
struct AxisMeasures {
  TextStyle tick_style, label_style;
  int tick_length = 0, gap = 0;
};
AxisMeasures axis_measures(double text_scale) {
  return {{0.8 * text_scale, colors::kInk, false},
          {text_scale, colors::kInk, false},
          scaled(5, text_scale),
          scaled(6, text_scale)};
}

}  // namespace

void draw_axes(cv::Mat& image, const Axes& axes, const std::string& x_label,
               const std::string& y_label, double text_scale) {
  const cv::Rect& area = axes.area();
  const auto [tick_style, label_style, tick_length, gap] = axis_measures(text_scale);

  const auto ticks_of = [](Range range, Scale scale, int target) {
    return scale == Scale::log     ? log_ticks(range)
           : scale == Scale::log1p ? log1p_ticks(range)
                                   : nice_ticks(range, target);
  };
  // About one tick per 90 px across and 70 px up, so labels never crowd.
  const int x_target = std::clamp(static_cast<int>(area.width / (90 * text_scale)), 2, 10);
  const int y_target = std::clamp(static_cast<int>(area.height / (70 * text_scale)), 2, 10);
  const std::vector<double> x_ticks = ticks_of(axes.x_range(), axes.x_scale(), x_target);
  const std::vector<double> y_ticks = ticks_of(axes.y_range(), axes.y_scale(), y_target);
  const double x_step = nice_step(axes.x_range().hi - axes.x_range().lo, x_target);
  const double y_step = nice_step(axes.y_range().hi - axes.y_range().lo, y_target);

  // A tick label that would touch the last one drawn is left out (log axes crowd at the end).
  cv::Rect last_label;
  const auto label_tick = [&](const std::string& label, cv::Point origin) {
    const cv::Rect box = text_box(label, origin, tick_style);
    const cv::Rect spaced(box.x - gap / 2, box.y - gap / 2, box.width + gap, box.height + gap);
    if ((spaced & last_label).empty() && draw_text(image, label, origin, tick_style)) {
      last_label = spaced;
    }
  };
  for (double tick : x_ticks) {
    const int px = static_cast<int>(std::lround(axes.to_pixel(tick, axes.y_range().lo).x));
    if (px < area.x || px >= area.x + area.width) {
      continue;
    }
    cv::line(image, {px, area.y}, {px, area.y + area.height - 1}, colors::kGrid, 1);
    cv::line(image, {px, area.y + area.height}, {px, area.y + area.height + tick_length},
             colors::kInk, 1);
    // A log axis's ticks are powers of ten: each is its own step (1e+06, not 1000000).
    const std::string label = format_tick(tick, axes.x_scale() == Scale::linear ? x_step : tick);
    const cv::Size size = text_size(label, tick_style);
    label_tick(label,
               {px - size.width / 2, area.y + area.height + tick_length + gap + size.height});
  }
  last_label = {};
  for (double tick : y_ticks) {
    const int py = static_cast<int>(std::lround(axes.to_pixel(axes.x_range().lo, tick).y));
    if (py < area.y || py >= area.y + area.height) {
      continue;
    }
    cv::line(image, {area.x, py}, {area.x + area.width - 1, py}, colors::kGrid, 1);
    cv::line(image, {area.x - tick_length, py}, {area.x - 1, py}, colors::kInk, 1);
    const std::string label = format_tick(tick, axes.y_scale() == Scale::linear ? y_step : tick);
    const cv::Size size = text_size(label, tick_style);
    label_tick(label, {area.x - tick_length - gap - size.width, py + size.height / 2});
  }
  cv::rectangle(image, area, colors::kInk, 1);

  const cv::Size x_size = text_size(x_label, label_style);
  draw_text(image, x_label,
            {area.x + (area.width - x_size.width) / 2,
             area.y + area.height + tick_length + 2 * gap + 2 * x_size.height + gap},
            label_style);
  draw_text(image, y_label, {area.x, area.y - gap}, label_style);
}

cv::Rect axes_area(cv::Rect box, double text_scale) {
  const auto [tick_style, label_style, tick_length, gap] = axis_measures(text_scale);
  const cv::Size tick = text_size("1e-05", tick_style);
  const int label_height = text_size("epoch (log scale)", label_style).height;
  const int left = tick_length + gap + tick.width + gap;
  const int top = label_height + 2 * gap;
  const int bottom = tick_length + 3 * gap + 2 * label_height + gap;
  const int right = tick.width / 2 + gap;
  return {box.x + left, box.y + top, std::max(1, box.width - left - right),
          std::max(1, box.height - top - bottom)};
}

void draw_polyline(cv::Mat& image, const Axes& axes, const std::vector<double>& x,
                   const std::vector<double>& y, const cv::Scalar& color, int thickness,
                   Stroke stroke) {
  const cv::Rect2d clip(axes.area());
  const double dash_on = 6.0 * thickness + 6.0;
  const double dash_off = 4.0 * thickness + 4.0;
  double dash_phase = 0.0;  // distance into the current on+off period
  // Visible stretches are drawn as one polyline each: for thick anti-aliased lines that is
  // much cheaper than a cv::line per segment.
  std::vector<cv::Point> run;
  const auto flush = [&] {
    if (run.size() >= 2) {
      cv::polylines(image, run, false, color, thickness, cv::LINE_AA, kShift);
    }
    run.clear();
  };
  // Points closer than this to the last one drawn are skipped: a dense curve (200 model
  // points, thousands of losses) then costs what its length in pixels costs.
  constexpr int kMinStep = static_cast<int>(1.5 * kSubPixel);
  const auto add_piece = [&](cv::Point2d a, cv::Point2d b) {
    if (!clip_segment(a, b, clip)) {
      flush();
      return;
    }
    const cv::Point start = fixed_point(a);
    if (run.empty() || run.back() != start) {
      flush();
      run.push_back(start);
    }
    const cv::Point end = fixed_point(b);
    if (run.size() >= 2) {
      const cv::Point& anchor = run[run.size() - 2];
      if (std::abs(end.x - anchor.x) < kMinStep && std::abs(end.y - anchor.y) < kMinStep) {
        run.back() = end;  // the tail moves on instead, staying within 1.5 px of the curve
        return;
      }
    }
    run.push_back(end);
  };
  const size_t count = std::min(x.size(), y.size());
  for (size_t i = 1; i < count; ++i) {
    const cv::Point2d a = axes.to_pixel(x[i - 1], y[i - 1]);
    const cv::Point2d b = axes.to_pixel(x[i], y[i]);
    if (!std::isfinite(a.x) || !std::isfinite(a.y) || !std::isfinite(b.x) || !std::isfinite(b.y)) {
      flush();
      continue;
    }
    if (stroke == Stroke::solid) {
      add_piece(a, b);
      continue;
    }
    const double length = cv::norm(b - a);
    double done = 0.0;
    while (done < length) {
      const bool on = dash_phase < dash_on;
      const double left_in_dash = on ? dash_on - dash_phase : dash_on + dash_off - dash_phase;
      const double piece = std::min(left_in_dash, length - done);
      if (on) {
        add_piece(a + (b - a) * (done / length), a + (b - a) * ((done + piece) / length));
      } else {
        flush();
      }
      done += piece;
      dash_phase = std::fmod(dash_phase + piece, dash_on + dash_off);
    }
  }
  flush();
}

void draw_squares(cv::Mat& image, const Axes& axes, const std::vector<double>& x,
                  const std::vector<double>& y, const cv::Scalar& color, int half, bool filled) {
  const cv::Rect& area = axes.area();
  cv::Mat inside = image(area);  // drawing into the plot area clips the markers to it
  const size_t count = std::min(x.size(), y.size());
  for (size_t i = 0; i < count; ++i) {
    const cv::Point2d p = axes.to_pixel(x[i], y[i]);
    if (!(p.x > area.x - half - 1 && p.x < area.x + area.width + half + 1 &&
          p.y > area.y - half - 1 && p.y < area.y + area.height + half + 1)) {
      continue;  // also skips NaN
    }
    const int cx = static_cast<int>(std::lround(p.x)) - area.x;
    const int cy = static_cast<int>(std::lround(p.y)) - area.y;
    cv::rectangle(inside, {cx - half, cy - half}, {cx + half, cy + half}, color,
                  filled ? cv::FILLED : std::max(1, half / 3));
  }
}

void draw_legend_mark(cv::Mat& image, const LegendEntry& entry, cv::Point centre, int length,
                      double text_scale) {
  const cv::Point2d left(centre.x - length / 2.0, centre.y),
      right(centre.x + length / 2.0, centre.y);
  const int half = scaled(4, text_scale);
  const int width = scaled(2, text_scale);
  switch (entry.mark) {
    case LegendEntry::Mark::line:
      cv::line(image, left, right, entry.color, width, cv::LINE_AA);
      break;
    case LegendEntry::Mark::dashed_line:
      cv::line(image, left, left + cv::Point2d(length * 0.4, 0), entry.color, width, cv::LINE_AA);
      cv::line(image, right - cv::Point2d(length * 0.4, 0), right, entry.color, width, cv::LINE_AA);
      break;
    case LegendEntry::Mark::square:
    case LegendEntry::Mark::hollow_square:
      cv::rectangle(image, centre - cv::Point(half, half), centre + cv::Point(half, half),
                    entry.color,
                    entry.mark == LegendEntry::Mark::square ? cv::FILLED : std::max(1, half / 3));
      break;
    case LegendEntry::Mark::dot:
      cv::circle(image, centre, scaled(6, text_scale), entry.color, cv::FILLED, cv::LINE_AA);
      break;
    case LegendEntry::Mark::cross: {
      const int arm = scaled(6, text_scale);
      cv::line(image, centre - cv::Point(arm, arm), centre + cv::Point(arm, arm), entry.color,
               width, cv::LINE_AA);
      cv::line(image, centre + cv::Point(-arm, arm), centre + cv::Point(arm, -arm), entry.color,
               width, cv::LINE_AA);
      break;
    }
  }
}

cv::Size legend_size(const std::vector<LegendEntry>& entries, double text_scale) {
  const TextStyle style{0.85 * text_scale, colors::kInk, false};
  const int pad = scaled(8, text_scale);
  const int sample = scaled(28, text_scale);
  const int row = text_size("Ag", style).height + scaled(10, text_scale);
  int width = 0;
  for (const auto& entry : entries) {
    width = std::max(width, text_size(entry.label, style).width);
  }
  return {pad * 3 + sample + width,
          pad * 2 + row * static_cast<int>(entries.size()) - scaled(6, text_scale)};
}

void draw_legend(cv::Mat& image, cv::Point corner, const std::vector<LegendEntry>& entries,
                 double text_scale) {
  if (entries.empty()) {
    return;
  }
  const TextStyle style{0.85 * text_scale, colors::kInk, false};
  const int pad = scaled(8, text_scale);
  const int sample = scaled(28, text_scale);
  const int row = text_size("Ag", style).height + scaled(10, text_scale);
  const cv::Rect box(corner, legend_size(entries, text_scale));
  if ((box & cv::Rect(0, 0, image.cols, image.rows)) != box) {
    return;  // left out rather than cut
  }
  DrawnBoxes::record(DrawnBox::Kind::legend, box, "");
  cv::rectangle(image, box, colors::kBackground, cv::FILLED);
  cv::rectangle(image, box, colors::kGrid, 1);
  int y = corner.y + pad + row / 2;
  for (const auto& entry : entries) {
    draw_legend_mark(image, entry, {corner.x + pad + sample / 2, y}, sample, text_scale);
    draw_text(image, entry.label,
              {corner.x + 2 * pad + sample, y + text_size("A", style).height / 2}, style);
    y += row;
  }
}

bool draw_legend_in(cv::Mat& image, cv::Rect room, const std::vector<LegendEntry>& entries,
                    double text_scale) {
  if (entries.empty()) {
    return false;
  }
  for (const double smaller : kLegendSizes) {
    const cv::Size size = legend_size(entries, text_scale * smaller);
    if (size.width <= room.width && size.height <= room.height) {
      draw_legend(image, room.tl(), entries, text_scale * smaller);
      return true;
    }
  }
  return false;
}

std::optional<LegendPlace> legend_place_off(cv::Rect area, const std::vector<LegendEntry>& entries,
                                            const std::vector<cv::Point>& points, double text_scale,
                                            Crowded crowded) {
  constexpr double kMostCovered = 0.02;
  if (entries.empty()) {
    return std::nullopt;
  }
  const auto covered = [&](const cv::Rect& box) {
    return std::count_if(points.begin(), points.end(),
                         [&](const cv::Point& p) { return box.contains(p); });
  };
  const auto most = static_cast<std::ptrdiff_t>(kMostCovered * static_cast<double>(points.size()));
  std::optional<LegendPlace> fallback;  // the smallest size's emptiest corner
  for (const double smaller : kLegendSizes) {
    const double scale = text_scale * smaller;
    const cv::Size size = legend_size(entries, scale);
    const int margin = px(12, scale);
    if (size.width + 2 * margin > area.width || size.height + 2 * margin > area.height) {
      continue;
    }
    const int left = area.x + margin;
    const int right = area.x + area.width - margin - size.width;
    const int top = area.y + margin;
    const int bottom = area.y + area.height - margin - size.height;
    std::optional<cv::Point> best;
    std::ptrdiff_t fewest = 0;
    // Top right first, where matplotlib's "best" looks first too: on a tie, it wins.
    for (const cv::Point corner : {cv::Point(right, top), cv::Point(left, top),
                                   cv::Point(left, bottom), cv::Point(right, bottom)}) {
      const std::ptrdiff_t count = covered(cv::Rect(corner, size));
      if (!best || count < fewest) {
        best = corner;
        fewest = count;
      }
    }
    if (fewest <= most) {
      return LegendPlace{*best, scale};
    }
    fallback = LegendPlace{*best, scale};
  }
  return crowded == Crowded::draw_smallest ? fallback : std::nullopt;
}

bool draw_legend_off(cv::Mat& image, cv::Rect area, const std::vector<LegendEntry>& entries,
                     const std::vector<cv::Point>& points, double text_scale, Crowded crowded) {
  const std::optional<LegendPlace> place =
      legend_place_off(area, entries, points, text_scale, crowded);
  if (place) {
    draw_legend(image, place->corner, entries, place->text_scale);
  }
  return place.has_value();
}

namespace {
// How draw_legend_row() spaces its entries.
struct RowMeasures {
  TextStyle style;
  int pad = 0, sample = 0, gap = 0;
};
RowMeasures row_measures(double text_scale) {
  return {{0.85 * text_scale, colors::kInk, false},
          scaled(8, text_scale),
          scaled(28, text_scale),
          scaled(28, text_scale)};
}
}  // namespace

cv::Size legend_row_size(const std::vector<LegendEntry>& entries, double text_scale) {
  const auto [style, pad, sample, gap] = row_measures(text_scale);
  int width = 0;
  for (const auto& entry : entries) {
    width += (width == 0 ? 0 : gap) + sample + pad + text_size(entry.label, style).width;
  }
  return {width, std::max(text_size("Ag", style).height, sample / 2)};
}

void draw_legend_row(cv::Mat& image, cv::Rect area, const std::vector<LegendEntry>& entries,
                     double text_scale) {
  const auto [style, pad, sample, gap] = row_measures(text_scale);
  const int width = legend_row_size(entries, text_scale).width;
  int x = area.x + std::max(0, (area.width - width) / 2);
  const int y = area.y + area.height / 2;
  for (const auto& entry : entries) {
    draw_legend_mark(image, entry, {x + sample / 2, y}, sample, text_scale);
    x += sample + pad;
    draw_text(image, entry.label, {x, y + text_size("A", style).height / 2}, style);
    x += text_size(entry.label, style).width + gap;
  }
}

}  // namespace fitreel::render
