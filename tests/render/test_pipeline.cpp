#include <fitreel/error.hpp>
#include <fitreel/render/pipeline.hpp>
#include <fitreel/render/video.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace fitreel::render {
namespace {

FitPlot small_plot() {
  FitScene scene;
  scene.title = "net demo";
  scene.train = {{0, 1, 2}, {0, 1, 2}};
  scene.curve_x = {0, 2};
  scene.epochs = 1000;
  return FitPlot(scene, {128, 96});
}

FitFrame frame_at(int64_t epoch) {
  FitFrame frame;
  frame.epoch = epoch;
  frame.loss = 1.0 / (1 + epoch);
  frame.curve = {0.0F, 2.0F};
  return frame;
}

// Records what reaches it; can be told to throw, or to hold until released.
class TestSink : public FrameSink {
 public:
  explicit TestSink(int throw_at = -1) : throw_at_(throw_at) {}
  void write(const cv::Mat& bgr) override {
    std::unique_lock<std::mutex> lock(mutex_);
    released_.wait(lock, [this] { return open_; });
    if (frames_ == throw_at_) {
      throw std::runtime_error("disk full");
    }
    EXPECT_EQ(bgr.size(), cv::Size(128, 96));
    ++frames_;
  }
  void finish() override { finished_ = true; }
  const std::string& path() const override { return path_; }
  int64_t frames() const override { return frames_; }
  void hold() { open_ = false; }
  void release() {
    const std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
    released_.notify_all();
  }
  std::atomic<bool> finished_{false};

 private:
  int throw_at_;
  std::string path_ = "test";
  std::atomic<int64_t> frames_{0};
  std::mutex mutex_;
  std::condition_variable released_;
  bool open_ = true;
};

TEST(Pipeline, DrawsAndWritesEveryFrameThenFinishes) {
  auto sink = std::make_unique<TestSink>();
  TestSink* seen = sink.get();
  std::vector<std::unique_ptr<FrameSink>> sinks;
  sinks.push_back(std::move(sink));
  FrameMailbox mailbox;
  RenderPipeline pipeline(small_plot(), std::move(sinks), &mailbox);
  for (int e = 0; e < 40; ++e) {
    pipeline.push(frame_at(e));
  }
  pipeline.finish();
  EXPECT_EQ(pipeline.frames(), 40);
  EXPECT_EQ(seen->frames(), 40);
  EXPECT_TRUE(seen->finished_);
  cv::Mat last;
  EXPECT_TRUE(mailbox.take(last));
  EXPECT_EQ(last.size(), cv::Size(128, 96));
  EXPECT_FALSE(mailbox.take(last)) << "taken once";
}

TEST(Pipeline, AWriteErrorReachesTheProducer) {
  std::vector<std::unique_ptr<FrameSink>> sinks;
  sinks.push_back(std::make_unique<TestSink>(/*throw_at=*/3));
  RenderPipeline pipeline(small_plot(), std::move(sinks));
  bool thrown = false;
  try {
    for (int e = 0; e < 1000; ++e) {
      pipeline.push(frame_at(e));
    }
    pipeline.finish();
  } catch (const std::runtime_error& error) {
    thrown = true;
    EXPECT_STREQ(error.what(), "disk full");
  }
  EXPECT_TRUE(thrown);
}

TEST(Pipeline, TheQueueIsBoundedSoASlowSinkHoldsTheProducerBack) {
  auto sink = std::make_unique<TestSink>();
  TestSink* slow = sink.get();
  slow->hold();
  std::vector<std::unique_ptr<FrameSink>> sinks;
  sinks.push_back(std::move(sink));
  constexpr size_t kCapacity = 4;
  RenderPipeline pipeline(small_plot(), std::move(sinks), nullptr, kCapacity);
  std::atomic<int> pushed{0};
  std::thread producer([&] {
    for (int e = 0; e < 100; ++e) {
      pipeline.push(frame_at(e));
      ++pushed;
    }
  });
  // At most: the queue, the frame buffers in flight (3), and the one being written.
  const int bound = static_cast<int>(kCapacity) + 3 + 2;
  for (int i = 0; i < 50 && pushed < bound; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_LE(pushed.load(), bound);
  slow->release();
  producer.join();
  pipeline.finish();
  EXPECT_EQ(pipeline.frames(), 100);
}

}  // namespace
}  // namespace fitreel::render

namespace fitreel::render {
namespace {

// A video opened at another size than the plot draws is refused when the pipeline is made,
// not at some later frame (and without a frame written).
TEST(Pipeline, AFrameSizeMismatchIsCaughtWhenOpened) {
  const std::string folder = ::testing::TempDir() + "fitreel_size_mismatch";
  std::filesystem::remove_all(folder);
  VideoSettings settings;
  settings.size = {1280, 720};
  OpenedVideo video = open_video(folder, "clip", VideoFormat::avi, settings);
  std::vector<std::unique_ptr<FrameSink>> sinks;
  sinks.push_back(std::move(video.sink));
  try {
    RenderPipeline pipeline(small_plot(), std::move(sinks));
    FAIL() << "no error";
  } catch (const InputError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("128x96"), std::string::npos) << message;
    EXPECT_NE(message.find("1280x720"), std::string::npos) << message;
  }
  std::filesystem::remove_all(folder);
}

}  // namespace
}  // namespace fitreel::render
