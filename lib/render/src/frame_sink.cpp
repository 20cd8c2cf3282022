#include <fitreel/render/frame_sink.hpp>

#include <fitreel/error.hpp>
#include <fitreel/files/atomic_file.hpp>

#include <opencv2/imgcodecs.hpp>

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace fitreel::render {

namespace {

class PngSequence final : public FrameSink {
 public:
  explicit PngSequence(std::string folder) : folder_(std::move(folder)) {
    std::filesystem::create_directories(folder_);
  }

  void write(const cv::Mat& bgr) override {
    char name[32];
    std::snprintf(name, sizeof name, "frame_%05lld.png", static_cast<long long>(frames_));
    const std::filesystem::path path = std::filesystem::path(folder_) / name;
    // Fast zlib level: frames are big and flat, and level 1 is ~3x quicker than the default.
    if (!cv::imencode(".png", bgr, png_, {cv::IMWRITE_PNG_COMPRESSION, 1})) {
      throw Error("cannot encode " + path.string() + " as PNG");
    }
    files::write_file_atomically(
        path, std::string_view(reinterpret_cast<const char*>(png_.data()), png_.size()));
    ++frames_;
  }

  void finish() override {}
  const std::string& path() const override { return folder_; }
  int64_t frames() const override { return frames_; }

 private:
  std::string folder_;
  std::vector<uchar> png_;  // the encoded frame, reused
  int64_t frames_ = 0;
};

}  // namespace

void write_png(const std::filesystem::path& path, const cv::Mat& image) {
  std::vector<uchar> png;
  if (!cv::imencode(".png", image, png)) {
    throw files::WriteError("cannot encode " + path.string() + " as PNG");
  }
  files::write_file_atomically(
      path, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
}

std::unique_ptr<FrameSink> make_png_sequence(const std::string& folder) {
  return std::make_unique<PngSequence>(folder);
}

void FrameMailbox::offer(const cv::Mat& frame) {
  const std::lock_guard<std::mutex> lock(mutex_);
  frame.copyTo(frame_);
  fresh_ = true;
}

bool FrameMailbox::take(cv::Mat& frame) {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (!fresh_) {
    return false;
  }
  std::swap(frame, frame_);
  fresh_ = false;
  return true;
}

}  // namespace fitreel::render
