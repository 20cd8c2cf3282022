#pragma once

// fitreel-bench's drawing and encoding measurements (OpenCV + FFmpeg, no LibTorch).

#include <fitreel/render/fit_plot.hpp>

#include <string>
#include <vector>

namespace fitreel::bench {

/// Frames per second, and the seconds it took.
struct Throughput {
  double frames_per_second = 0.0;
  double seconds = 0.0;
};

/// Draws every frame with `plot` (the 1280x720 default), and times that alone.
Throughput measure_drawing(const render::FitPlot& plot,
                           const std::vector<render::FitFrame>& frames);

/// Times only the encoding of the frames into an MP4 in `folder` (each frame is drawn, untimed,
/// just before it is written; the encoder's own threads keep running meanwhile).
Throughput measure_encoding(const render::FitPlot& plot,
                            const std::vector<render::FitFrame>& frames, const std::string& folder,
                            const std::string& preset);

/// Times making the whole video from recorded frames without training: the pipeline's two
/// threads drawing and encoding, as in a real run.
Throughput measure_video_alone(const render::FitPlot& plot,
                               const std::vector<render::FitFrame>& frames,
                               const std::string& folder, const std::string& preset);

}  // namespace fitreel::bench
