#pragma once

// Internal: sizes that scale with the text, and the fixed-point coordinates of OpenCV's
// anti-aliased drawing. Not installed.

#include <opencv2/core.hpp>

#include <algorithm>
#include <cmath>

namespace fitreel::render::detail {

/// `pixels` at 720 px, scaled by `scale` and rounded.
inline int px(double pixels, double scale) { return static_cast<int>(std::lround(pixels * scale)); }

/// px(), but never below 1 (line widths, gaps).
inline int scaled(double pixels, double scale) { return std::max(1, px(pixels, scale)); }

constexpr int kShift = 4;  // sub-pixel bits for anti-aliased drawing
constexpr double kSubPixel = 1 << kShift;

/// `p` in the fixed-point coordinates cv::line, cv::polylines and cv::circle take with kShift.
inline cv::Point fixed_point(const cv::Point2d& p) {
  return {static_cast<int>(std::lround(p.x * kSubPixel)),
          static_cast<int>(std::lround(p.y * kSubPixel))};
}

}  // namespace fitreel::render::detail
