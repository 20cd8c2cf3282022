#pragma once

// fitreel-bench's drawing and encoding measurements (OpenCV + FFmpeg, no LibTorch).

#include <fitreel/render/fit_plot.hpp>
#include <fitreel/render/pipeline.hpp>
#include <fitreel/render/video.hpp>

#include <functional>
#include <string>
#include <vector>

namespace fitreel::bench {

/// Frames per second, and the seconds it took.
struct Throughput {
  double frames_per_second = 0.0;
  double seconds = 0.0;
};

/// Draws every recorded frame with `plot`, its loss panel grown as the pipeline grows it, and
/// times that alone.
Throughput measure_drawing(const render::FitPlot& plot,
                           const std::vector<render::FitFrame>& frames);

/// Times only the encoding of the frames into an MP4 in `folder` (each frame is drawn, untimed,
/// just before it is written; the encoder's own threads keep running meanwhile).
Throughput measure_encoding(const render::FitPlot& plot,
                            const std::vector<render::FitFrame>& frames, const std::string& folder,
                            const render::VideoSettings& settings);

/// Times making `<stem>.mp4` in `folder` with the pipeline's two threads (drawing, encoding)
/// while `produce` pushes the frames: recorded ones for the video alone, or a training run's
/// snapshots for the whole run.
Throughput measure_pipeline(const render::FitPlot& plot, const std::string& folder,
                            const std::string& stem, const render::VideoSettings& settings,
                            const std::function<void(render::RenderPipeline&)>& produce);

}  // namespace fitreel::bench
