#include "bench_render.hpp"

#include <fitreel/render/pipeline.hpp>
#include <fitreel/render/video.hpp>

#include <chrono>

namespace fitreel::bench {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

Throughput throughput(size_t frames, double seconds) {
  return {seconds > 0 ? static_cast<double>(frames) / seconds : 0.0, seconds};
}

}  // namespace

Throughput measure_drawing(const render::FitPlot& plot,
                           const std::vector<render::FitFrame>& frames) {
  cv::Mat image;
  plot.draw(frames.front(), image);  // warm-up: allocations, font tables
  const auto start = Clock::now();
  for (const auto& frame : frames) {
    plot.draw(frame, image);
  }
  return throughput(frames.size(), seconds_since(start));
}

Throughput measure_encoding(const render::FitPlot& plot,
                            const std::vector<render::FitFrame>& frames, const std::string& folder,
                            const std::string& preset) {
  render::VideoSettings settings;
  settings.size = plot.draw(frames.front()).size();
  settings.preset = preset;
  double seconds = 0.0;
  auto start = Clock::now();
  render::OpenedVideo video =
      render::open_video(folder, "encode-alone", render::VideoFormat::mp4, settings);
  seconds += seconds_since(start);
  cv::Mat image;
  for (const auto& frame : frames) {
    plot.draw(frame, image);
    start = Clock::now();
    video.sink->write(image);
    seconds += seconds_since(start);
  }
  start = Clock::now();
  video.sink->finish();
  seconds += seconds_since(start);
  return throughput(frames.size(), seconds);
}

Throughput measure_video_alone(const render::FitPlot& plot,
                               const std::vector<render::FitFrame>& frames,
                               const std::string& folder, const std::string& preset) {
  render::VideoSettings settings;
  settings.size = plot.draw(frames.front()).size();
  settings.preset = preset;
  const auto start = Clock::now();
  std::vector<std::unique_ptr<render::FrameSink>> sinks;
  sinks.push_back(
      render::open_video(folder, "video-alone", render::VideoFormat::mp4, settings).sink);
  render::RenderPipeline pipeline(plot, std::move(sinks));
  for (const auto& frame : frames) {
    render::FitFrame copy = frame;
    copy.loss_curve.clear();  // the pipeline builds the loss curve itself
    pipeline.push(std::move(copy));
  }
  pipeline.finish();
  return throughput(frames.size(), seconds_since(start));
}

}  // namespace fitreel::bench
