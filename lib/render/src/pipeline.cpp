#include <fitreel/render/pipeline.hpp>

#include "bounded_queue.hpp"

#include <fitreel/error.hpp>

#include <chrono>
#include <cmath>

namespace fitreel::render {

namespace {

constexpr size_t kImagesInFlight = 3;  // frame buffers shared by the two threads

using Clock = std::chrono::steady_clock;

void add_seconds(std::atomic<double>& total, Clock::time_point since) {
  const double seconds = std::chrono::duration<double>(Clock::now() - since).count();
  double current = total.load();
  while (!total.compare_exchange_weak(current, current + seconds)) {
  }
}

}  // namespace

RenderPipeline::RenderPipeline(FitPlot plot, std::vector<std::unique_ptr<FrameSink>> sinks,
                               FrameMailbox* mailbox, size_t capacity)
    : plot_(std::move(plot)),
      sinks_(std::move(sinks)),
      mailbox_(mailbox),
      frames_in_(std::make_unique<detail::BoundedQueue<FitFrame>>(std::max<size_t>(1, capacity))),
      drawn_(std::make_unique<detail::BoundedQueue<cv::Mat>>(kImagesInFlight)),
      spare_(std::make_unique<detail::BoundedQueue<cv::Mat>>(kImagesInFlight)) {
  for (const std::unique_ptr<FrameSink>& sink : sinks_) {
    const cv::Size wanted = sink->frame_size();
    if (!wanted.empty() && wanted != plot_.size()) {
      throw InputError("the plot draws " + std::to_string(plot_.size().width) + "x" +
                       std::to_string(plot_.size().height) + " frames but " + sink->path() +
                       " was opened for " + std::to_string(wanted.width) + "x" +
                       std::to_string(wanted.height) +
                       ": give the FitPlot and the VideoSettings the same size");
    }
  }
  for (size_t i = 0; i < kImagesInFlight; ++i) {
    spare_->push(cv::Mat());
  }
  drawer_ = std::thread([this] { draw_loop(); });
  writer_ = std::thread([this] { write_loop(); });
}

RenderPipeline::~RenderPipeline() {
  try {
    finish();
  } catch (...) {  // a destructor must not throw; finish() is where errors are reported
  }
}

void RenderPipeline::push(FitFrame frame) {
  if (!frames_in_->push(std::move(frame))) {
    rethrow_error();
  }
}

void RenderPipeline::finish() {
  if (finished_) {
    return;
  }
  finished_ = true;
  frames_in_->close();
  drawer_.join();
  writer_.join();
  rethrow_error();
}

void RenderPipeline::rethrow_error() {
  const std::lock_guard<std::mutex> lock(error_mutex_);
  if (error_) {
    std::rethrow_exception(error_);
  }
}

void RenderPipeline::fail() {
  {
    const std::lock_guard<std::mutex> lock(error_mutex_);
    if (!error_) {
      error_ = std::current_exception();
    }
  }
  // Stop everything: the producer's next push fails and reports the error.
  frames_in_->close(/*discard=*/true);
  drawn_->close(/*discard=*/true);
  spare_->close(/*discard=*/true);
}

void RenderPipeline::draw_loop() {
  std::vector<LossPoint> loss_curve;
  std::vector<LossPoint> test_loss_curve;
  try {
    while (std::optional<FitFrame> frame = frames_in_->pop()) {
      std::optional<cv::Mat> image = spare_->pop();  // waits until the writer returns one
      if (!image) {
        break;
      }
      const auto start = Clock::now();
      loss_curve.push_back({frame->epoch, frame->loss});
      if (std::isfinite(frame->test_loss)) {
        test_loss_curve.push_back({frame->epoch, frame->test_loss});
      }
      frame->loss_curve.swap(loss_curve);  // lend the curves to the frame, no copy
      frame->test_loss_curve.swap(test_loss_curve);
      plot_.draw(*frame, *image);
      frame->loss_curve.swap(loss_curve);
      frame->test_loss_curve.swap(test_loss_curve);
      if (mailbox_ != nullptr) {
        mailbox_->offer(*image);
      }
      add_seconds(draw_seconds_, start);
      drawn_->push(std::move(*image));
    }
  } catch (...) {
    fail();
  }
  drawn_->close();
}

void RenderPipeline::write_loop() {
  try {
    while (std::optional<cv::Mat> image = drawn_->pop()) {
      const auto start = Clock::now();
      for (auto& sink : sinks_) {
        sink->write(*image);
      }
      ++frames_;
      add_seconds(write_seconds_, start);
      spare_->push(std::move(*image));
    }
    const auto start = Clock::now();
    for (auto& sink : sinks_) {
      sink->finish();
    }
    add_seconds(write_seconds_, start);
  } catch (...) {
    fail();
  }
}

}  // namespace fitreel::render
