#pragma once

// Internal: the fixed 256-colour palette of fitreel's GIFs. Not installed.

#include <opencv2/core.hpp>

#include <cstdint>
#include <vector>

namespace fitreel::render {

/// A palette built from the plot's own colours (kept exact), their blends with the white
/// background (the anti-aliased edges), a grey ramp, and a colour cube for anything else.
class GifPalette {
 public:
  GifPalette();
  /// Writes the 256 entries as FFmpeg's PAL8 wants them (0xAARRGGBB, native endian).
  void write_palette(uint8_t* destination) const;
  /// Replaces each BGR pixel by the index of its nearest palette colour.
  void map(const cv::Mat& bgr, uint8_t* indices, int stride) const;

 private:
  static constexpr int kBits = 6;  // lookup table precision per channel
  std::vector<cv::Vec3b> colours_;
  std::vector<uint8_t> lookup_;  // (b >> 2, g >> 2, r >> 2) -> palette index
};

}  // namespace fitreel::render
