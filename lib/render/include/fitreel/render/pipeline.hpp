#pragma once

#include <fitreel/render/fit_plot.hpp>
#include <fitreel/render/frame_sink.hpp>

#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace fitreel::render {

namespace detail {
template <class T>
class BoundedQueue;
}

/// Draws and encodes frames off the training thread: one thread draws, another writes (the
/// two overlap), behind bounded queues, so training only waits when they are full and memory
/// stays flat however long the run.
class RenderPipeline {
 public:
  /// Frames are drawn with `plot` and written to every sink (and offered to `mailbox`, if any).
  /// Throws InputError at once when a sink takes another frame size than the plot draws.
  /// Up to `capacity` frames wait to be drawn: they are small (parameters and a curve), so a
  /// burst of early frames (a log schedule) need not hold training back; the drawn images,
  /// 2.7 MB each at 720p, are bounded separately (three in flight).
  RenderPipeline(FitPlot plot, std::vector<std::unique_ptr<FrameSink>> sinks,
                 FrameMailbox* mailbox = nullptr, size_t capacity = 1024);
  /// Finishes the sinks if finish() was not called (errors are then dropped).
  ~RenderPipeline();
  RenderPipeline(const RenderPipeline&) = delete;
  RenderPipeline& operator=(const RenderPipeline&) = delete;

  /// Queues a frame; blocks while the queue is full. Its loss (and test loss, when finite)
  /// joins the loss panel's curves.
  /// Rethrows an error the drawing or writing thread hit.
  void push(FitFrame frame);
  /// Drains the queues, finishes every sink and rethrows an error either thread hit.
  void finish();

  /// Frames written so far.
  int64_t frames() const { return frames_.load(); }
  /// Seconds spent drawing, and writing (encoding), each on its own thread.
  double draw_seconds() const { return draw_seconds_.load(); }
  double write_seconds() const { return write_seconds_.load(); }

 private:
  void draw_loop();
  void write_loop();
  void fail();
  void rethrow_error();

  FitPlot plot_;
  std::vector<std::unique_ptr<FrameSink>> sinks_;
  FrameMailbox* mailbox_;
  std::unique_ptr<detail::BoundedQueue<FitFrame>> frames_in_;
  std::unique_ptr<detail::BoundedQueue<cv::Mat>> drawn_;  // drawing -> writing
  std::unique_ptr<detail::BoundedQueue<cv::Mat>> spare_;  // writing -> drawing, for reuse

  std::mutex error_mutex_;
  std::exception_ptr error_;
  bool finished_ = false;
  std::atomic<int64_t> frames_{0};
  std::atomic<double> draw_seconds_{0.0};
  std::atomic<double> write_seconds_{0.0};
  std::thread drawer_, writer_;  // last: they start once everything they use exists
};

}  // namespace fitreel::render
