#include "gif_palette.hpp"

#include <fitreel/render/plot.hpp>

#include <algorithm>
#include <limits>

namespace fitreel::render {

namespace {

cv::Vec3b bgr(const cv::Scalar& colour) {
  return {static_cast<uint8_t>(colour[0]), static_cast<uint8_t>(colour[1]),
          static_cast<uint8_t>(colour[2])};
}

int distance2(const cv::Vec3b& a, int b, int g, int r) {
  const int db = a[0] - b;
  const int dg = a[1] - g;
  const int dr = a[2] - r;
  return db * db + dg * dg + dr * dr;
}

}  // namespace

GifPalette::GifPalette() {
  const std::vector<cv::Vec3b> exact = {
      bgr(colors::kBackground), bgr(colors::kInk),          bgr(colors::kGrid),
      bgr(colors::kData),       bgr(colors::kTruth),        bgr(colors::kModel),
      bgr(colors::kTest),       bgr(colors::kLeastSquares), bgr(colors::kUnits[0]),
      bgr(colors::kUnits[1]),   bgr(colors::kUnits[2]),     bgr(colors::kUnits[3]),
      bgr(colors::kUnitBias)};
  colours_ = exact;
  // Any extra colour must keep clear of the exact ones, so that a pixel of an exact colour
  // can never be closer to something else once the lookup table rounds it.
  const auto add = [&](const cv::Vec3b& colour) {
    if (colours_.size() >= 256) {
      return;
    }
    for (const cv::Vec3b& kept : exact) {
      if (distance2(kept, colour[0], colour[1], colour[2]) < 12 * 12) {
        return;
      }
    }
    colours_.push_back(colour);
  };
  for (size_t i = 1; i < exact.size(); ++i) {  // anti-aliased edges: blends with white
    for (int step = 1; step < 8; ++step) {
      const double a = step / 8.0;
      add(cv::Vec3b(static_cast<uint8_t>(exact[i][0] * (1 - a) + 255 * a),
                    static_cast<uint8_t>(exact[i][1] * (1 - a) + 255 * a),
                    static_cast<uint8_t>(exact[i][2] * (1 - a) + 255 * a)));
    }
  }
  for (int v = 0; v <= 255; v += 17) {  // text and frame greys
    add(cv::Vec3b(static_cast<uint8_t>(v), static_cast<uint8_t>(v), static_cast<uint8_t>(v)));
  }
  for (int b = 0; b < 5; ++b) {  // everything else
    for (int g = 0; g < 5; ++g) {
      for (int r = 0; r < 5; ++r) {
        add(cv::Vec3b(static_cast<uint8_t>(b * 255 / 4), static_cast<uint8_t>(g * 255 / 4),
                      static_cast<uint8_t>(r * 255 / 4)));
      }
    }
  }
  colours_.resize(256, colours_.front());

  constexpr int kLevels = 1 << kBits;
  constexpr int kShift = 8 - kBits;
  lookup_.resize(static_cast<size_t>(kLevels * kLevels * kLevels));
  for (int b = 0; b < kLevels; ++b) {
    for (int g = 0; g < kLevels; ++g) {
      for (int r = 0; r < kLevels; ++r) {
        // The centre of the cell the table entry stands for.
        const int cb = (b << kShift) + (1 << kShift) / 2;
        const int cg = (g << kShift) + (1 << kShift) / 2;
        const int cr = (r << kShift) + (1 << kShift) / 2;
        int best = 0;
        int best_distance = std::numeric_limits<int>::max();
        for (size_t i = 0; i < colours_.size(); ++i) {
          const int d = distance2(colours_[i], cb, cg, cr);
          if (d < best_distance) {
            best_distance = d;
            best = static_cast<int>(i);
          }
        }
        lookup_[static_cast<size_t>((b * kLevels + g) * kLevels + r)] = static_cast<uint8_t>(best);
      }
    }
  }
}

void GifPalette::write_palette(uint8_t* destination) const {
  auto* entries = reinterpret_cast<uint32_t*>(destination);
  for (size_t i = 0; i < 256; ++i) {
    const cv::Vec3b& c = colours_[i];
    entries[i] = 0xFF000000U | (static_cast<uint32_t>(c[2]) << 16) |
                 (static_cast<uint32_t>(c[1]) << 8) | static_cast<uint32_t>(c[0]);
  }
}

void GifPalette::map(const cv::Mat& bgr, uint8_t* indices, int stride) const {
  constexpr int kShift = 8 - kBits;
  for (int y = 0; y < bgr.rows; ++y) {
    const auto* pixel = bgr.ptr<cv::Vec3b>(y);
    uint8_t* out = indices + static_cast<ptrdiff_t>(y) * stride;
    for (int x = 0; x < bgr.cols; ++x) {
      const cv::Vec3b& p = pixel[x];
      out[x] =
          lookup_[static_cast<size_t>((((p[0] >> kShift) << kBits) + (p[1] >> kShift)) << kBits) +
                  static_cast<size_t>(p[2] >> kShift)];
    }
  }
}

}  // namespace fitreel::render
