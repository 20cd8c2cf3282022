#include "bench_render.hpp"

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

// Makes `shown` what the pipeline draws for `frame`: the frame, with the loss curve so far
// (every earlier frame's loss and its own).
void as_the_pipeline_draws(const render::FitFrame& frame, render::FitFrame& shown) {
  std::vector<render::LossPoint> curve = std::move(shown.loss_curve);
  curve.push_back({frame.epoch, frame.loss});
  shown = frame;
  shown.loss_curve = std::move(curve);
}

}  // namespace

Throughput measure_drawing(const render::FitPlot& plot,
                           const std::vector<render::FitFrame>& frames) {
  cv::Mat image;
  plot.draw(frames.front(), image);  // warm-up: allocations, font tables
  render::FitFrame shown;
  const auto start = Clock::now();
  for (const auto& frame : frames) {
    as_the_pipeline_draws(frame, shown);
    plot.draw(shown, image);
  }
  return throughput(frames.size(), seconds_since(start));
}

Throughput measure_encoding(const render::FitPlot& plot,
                            const std::vector<render::FitFrame>& frames, const std::string& folder,
                            const render::VideoSettings& settings) {
  double seconds = 0.0;
  auto start = Clock::now();
  render::OpenedVideo video =
      render::open_video(folder, "encode-alone", render::VideoFormat::mp4, settings);
  seconds += seconds_since(start);
  cv::Mat image;
  render::FitFrame shown;
  for (const auto& frame : frames) {
    as_the_pipeline_draws(frame, shown);
    plot.draw(shown, image);
    start = Clock::now();
    video.sink->write(image);
    seconds += seconds_since(start);
  }
  start = Clock::now();
  video.sink->finish();
  seconds += seconds_since(start);
  return throughput(frames.size(), seconds);
}

Throughput measure_pipeline(const render::FitPlot& plot, const std::string& folder,
                            const std::string& stem, const render::VideoSettings& settings,
                            const std::function<void(render::RenderPipeline&)>& produce) {
  const auto start = Clock::now();
  std::vector<std::unique_ptr<render::FrameSink>> sinks;
  sinks.push_back(render::open_video(folder, stem, render::VideoFormat::mp4, settings).sink);
  render::RenderPipeline pipeline(plot, std::move(sinks));
  produce(pipeline);
  pipeline.finish();
  return throughput(static_cast<size_t>(pipeline.frames()), seconds_since(start));
}

}  // namespace fitreel::bench
