#pragma once

#include <opencv2/core.hpp>

#include <optional>
#include <string>
#include <vector>

// A small plotting layer on cv::Mat: nice ticks, a data-to-pixel projection, and the marks a
// fit plot needs (lines, dashed lines, square markers, text, legend). No LibTorch here.
namespace fitreel::render {

/// A closed interval of data values.
struct Range {
  double lo = 0.0;
  double hi = 1.0;
};

/// How an axis maps values to positions.
enum class Scale {
  linear,  ///< evenly in the value
  log,     ///< evenly in log10(value); values must be > 0
  log1p,   ///< evenly in log(1 + value); for epoch axes that start at 0
};

/// The 1, 2 or 5 x 10^k step that cuts `span` into about `target` parts.
double nice_step(double span, int target);
/// Multiples of nice_step(range) inside `range`, ascending.
std::vector<double> nice_ticks(Range range, int target);
/// `range` widened to the nearest multiples of its nice step (and never empty).
Range nice_bounds(Range range, int target);
/// Powers of ten inside a positive range, ascending (for Scale::log).
std::vector<double> log_ticks(Range range);
/// 0, 1, 10, 100, ... inside [0, hi] (for Scale::log1p).
std::vector<double> log1p_ticks(Range range);
/// A tick label that shows `value` to the precision `step` needs ("-2.5", "1000", "1e-05",
/// "1.5e+37"), so ticks `step` apart never share a label.
std::string format_tick(double value, double step);

/// Maps data coordinates to pixels inside `area` (x grows right, y grows up), one projection
/// for everything drawn on an axes.
class Axes {
 public:
  /// Data ranges `x`, `y` mapped onto `area` (in pixels of the image drawn into).
  Axes(cv::Rect area, Range x, Range y, Scale x_scale = Scale::linear,
       Scale y_scale = Scale::linear);
  /// Pixel position of (x, y) in the image the area belongs to; may lie outside the area.
  cv::Point2d to_pixel(double x, double y) const;
  /// The area, ranges and scales the axes were made with.
  const cv::Rect& area() const { return area_; }
  const Range& x_range() const { return x_; }
  const Range& y_range() const { return y_; }
  Scale x_scale() const { return x_scale_; }
  Scale y_scale() const { return y_scale_; }

 private:
  cv::Rect area_;
  Range x_, y_;
  Scale x_scale_, y_scale_;
};

/// How text is drawn: sizes scale with the image height (720 px = 1).
struct TextStyle {
  double scale = 1.0;
  cv::Scalar color{40, 40, 40};
  bool bold = false;
};

/// Draws `text` (UTF-8) with its baseline-left corner at `origin`, in DejaVu Sans through
/// OpenCV's freetype module: a minus before a number is typeset as U+2212. Without the module or
/// the font, in OpenCV's Hershey font (ASCII: "−" becomes "-", "σ" "s"); see
/// text_fallback_reason(). The same text gives the same pixels. Text is never cut: one whose
/// box (text_box) would leave the image is not drawn, and the call returns false.
bool draw_text(cv::Mat& image, const std::string& text, cv::Point origin, const TextStyle& style);
/// Width and height (above the baseline) of `text` drawn in `style`.
cv::Size text_size(const std::string& text, const TextStyle& style);
/// The pixels `text` drawn at `origin` would cover (its ink, descenders included).
cv::Rect text_box(const std::string& text, cv::Point origin, const TextStyle& style);
/// Why text falls back to the Hershey font here, or nothing when DejaVu Sans is used.
std::optional<std::string> text_fallback_reason();

/// A text or a legend's box as drawn, in pixels of the image drawn into.
struct DrawnBox {
  enum class Kind { text, legend };
  Kind kind = Kind::text;
  cv::Rect box{};
  std::string text{};  ///< the text drawn (a legend: empty; its entries come as texts)
};

/// While it lives, records every text (draw_text) and legend box (draw_legend) drawn on this
/// thread, so that a layout can be checked: every box inside the image, no two texts
/// overlapping, a legend over few data points. One at a time per thread.
class DrawnBoxes {
 public:
  DrawnBoxes();
  ~DrawnBoxes();
  DrawnBoxes(const DrawnBoxes&) = delete;
  DrawnBoxes& operator=(const DrawnBoxes&) = delete;

  const std::vector<DrawnBox>& boxes() const { return boxes_; }
  void clear() { boxes_.clear(); }
  /// Called by the drawing functions.
  static void record(DrawnBox::Kind kind, const cv::Rect& box, const std::string& text);

 private:
  std::vector<DrawnBox> boxes_;
};

/// Frame, grid, ticks, tick labels and axis labels of `axes`.
void draw_axes(cv::Mat& image, const Axes& axes, const std::string& x_label,
               const std::string& y_label, double text_scale);

/// The part of `box` draw_axes() may plot in so that its ticks, tick labels (as wide as
/// "1e-05") and axis labels stay inside `box`.
cv::Rect axes_area(cv::Rect box, double text_scale);

/// Line style of a polyline.
enum class Stroke { solid, dashed };

/// A polyline through (x[i], y[i]), clipped to the axes area; non-finite points break it.
void draw_polyline(cv::Mat& image, const Axes& axes, const std::vector<double>& x,
                   const std::vector<double>& y, const cv::Scalar& color, int thickness,
                   Stroke stroke = Stroke::solid);

/// Square markers centred on (x[i], y[i]) with half-width `half`, clipped to the axes area.
void draw_squares(cv::Mat& image, const Axes& axes, const std::vector<double>& x,
                  const std::vector<double>& y, const cv::Scalar& color, int half, bool filled);

/// One row of a legend: a label and a sample of the mark it explains.
struct LegendEntry {
  enum class Mark { line, dashed_line, square, hollow_square, dot, cross };
  std::string label{};
  cv::Scalar color{};
  Mark mark = Mark::line;
};

/// The sizes a legend tries where room is short, largest first, as shares of the text scale.
inline constexpr double kLegendSizes[] = {1.0, 0.8, 0.65};
/// The size of the box draw_legend() draws for `entries`.
cv::Size legend_size(const std::vector<LegendEntry>& entries, double text_scale);
/// A boxed legend with its top-left corner at `corner`.
void draw_legend(cv::Mat& image, cv::Point corner, const std::vector<LegendEntry>& entries,
                 double text_scale);
/// How draw_legend_off() treats a legend that covers more than it may in every place.
enum class Crowded { leave_out, draw_smallest };
/// Where a legend sits: its top-left corner, and the text scale it is drawn at.
struct LegendPlace {
  cv::Point corner{};
  double text_scale = 1.0;
};
/// The corner of `area` where a legend of `entries` covers the fewest of `points` (the drawn data,
/// in pixels), at the largest of kLegendSizes covering at most 2 % of them. Where every place
/// covers more, `crowded` says: none, or where the smallest size covers the fewest.
std::optional<LegendPlace> legend_place_off(cv::Rect area, const std::vector<LegendEntry>& entries,
                                            const std::vector<cv::Point>& points, double text_scale,
                                            Crowded crowded);
/// The legend drawn where legend_place_off() puts it. Returns whether it was drawn.
bool draw_legend_off(cv::Mat& image, cv::Rect area, const std::vector<LegendEntry>& entries,
                     const std::vector<cv::Point>& points, double text_scale, Crowded crowded);
/// A boxed legend at the top left of `room` (somewhere off the plot), at the largest of the
/// sizes draw_legend_off() tries that fits in it. Returns whether it fitted and was drawn.
bool draw_legend_in(cv::Mat& image, cv::Rect room, const std::vector<LegendEntry>& entries,
                    double text_scale);
/// The size of the row draw_legend_row() draws for `entries`.
cv::Size legend_row_size(const std::vector<LegendEntry>& entries, double text_scale);
/// The entries side by side in one row, centred in `area` (a legend several plots share).
void draw_legend_row(cv::Mat& image, cv::Rect area, const std::vector<LegendEntry>& entries,
                     double text_scale);
/// The mark a legend entry shows, centred at `centre`, `length` wide (lines) at this scale.
void draw_legend_mark(cv::Mat& image, const LegendEntry& entry, cv::Point centre, int length,
                      double text_scale);

/// Colours of the plot (BGR), matplotlib's single-letter ones where the seed uses them.
namespace colors {
inline const cv::Scalar kBackground{255, 255, 255};
inline const cv::Scalar kInk{40, 40, 40};
inline const cv::Scalar kGrid{225, 225, 225};
inline const cv::Scalar kData{255, 0, 0};             // 'b': blue squares
inline const cv::Scalar kTruth{0, 0, 255};            // 'r-': the true line
inline const cv::Scalar kModel{0, 128, 0};            // 'g': the model
inline const cv::Scalar kTest{0, 140, 255};           // orange: held-out points
inline const cv::Scalar kLeastSquares{150, 60, 140};  // purple: the closed-form optimum
/// Hidden units, faint behind the model (light enough that the model stays in front).
inline const cv::Scalar kUnits[] = {
    {230, 170, 120}, {120, 190, 240}, {200, 140, 220}, {140, 210, 160}};
inline const cv::Scalar kUnitBias{170, 170, 170};  // the output bias: a grey dashed line
}  // namespace colors

}  // namespace fitreel::render
