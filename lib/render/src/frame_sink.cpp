#include <fitreel/render/frame_sink.hpp>

#include <fitreel/error.hpp>
#include <fitreel/files/atomic_file.hpp>
#include <fitreel/files/result_folder.hpp>

#include <opencv2/imgcodecs.hpp>

#include <cstdio>
#include <filesystem>
#include <regex>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace fitreel::render {

namespace {

namespace fs = std::filesystem;

bool is_frame_name(const std::string& entry) {
  static const std::regex kFrame("frame_[0-9]{5,}\\.png");
  return std::regex_match(entry, kFrame);
}

std::string_view bytes_of(const std::vector<uchar>& png) {
  return {reinterpret_cast<const char*>(png.data()), png.size()};
}

// Numbered PNGs, each written atomically into a held folder.
class PngSequence : public FrameSink {
 public:
  PngSequence(const files::Folder& folder, std::string shown)
      : folder_(folder), path_(std::move(shown)) {}

  void write(const cv::Mat& bgr) override {
    char name[32];
    std::snprintf(name, sizeof name, "frame_%05lld.png", static_cast<long long>(frames_));
    // Fast zlib level: frames are big and flat, and level 1 is ~3x quicker than the default.
    if (!cv::imencode(".png", bgr, png_, {cv::IMWRITE_PNG_COMPRESSION, 1})) {
      throw Error("cannot encode " + (fs::path(path_) / name).string() + " as PNG");
    }
    files::write_file_atomically(folder_, name, bytes_of(png_));
    ++frames_;
  }

  void finish() override {}
  const std::string& path() const override { return path_; }
  int64_t frames() const override { return frames_; }

 private:
  const files::Folder& folder_;
  std::string path_;
  std::vector<uchar> png_;  // the encoded frame, reused
  int64_t frames_ = 0;
};

// A fresh folder of frames the sink made itself.
class FreshPngSequence final : public PngSequence {
 public:
  explicit FreshPngSequence(files::Folder folder)
      : FreshPngSequence(std::make_unique<files::Folder>(std::move(folder))) {}

 private:
  explicit FreshPngSequence(std::unique_ptr<files::Folder> folder)
      : PngSequence(*folder, folder->path().string()), owned_(std::move(folder)) {}
  std::unique_ptr<files::Folder> owned_;
};

// A folder named by path, which may hold an earlier film's frames: the frames go to a staging
// folder beside it that replaces it whole at finish(), so it holds exactly this film's frames.
// A folder with anything but frames in it is not replaced (refused when the sink is made).
class StagedPngSequence final : public FrameSink {
 public:
  explicit StagedPngSequence(const fs::path& folder)
      : parent_(open_parent(folder)),
        result_(parent_, folder.filename().string(),
                {files::LegacyRule{is_frame_name, [](const files::Folder&) { return true; }},
                 /*manifest=*/false,
                 {}}),
        frames_(result_.staging(), folder.string()) {}

  void write(const cv::Mat& bgr) override { frames_.write(bgr); }
  void finish() override {
    if (!result_.published()) result_.publish();
  }
  const std::string& path() const override { return frames_.path(); }
  int64_t frames() const override { return frames_.frames(); }

 private:
  static files::Folder open_parent(const fs::path& folder) {
    try {
      return files::Folder::open_or_create(folder.parent_path().empty() ? fs::path(".")
                                                                        : folder.parent_path());
    } catch (const files::FileError& error) {
      throw files::WriteError(error.what());
    }
  }

  files::Folder parent_;
  files::ResultFolder result_;
  PngSequence frames_;
};

}  // namespace

void write_png(const fs::path& path, const cv::Mat& image) {
  std::vector<uchar> png;
  if (!cv::imencode(".png", image, png)) {
    throw files::WriteError("cannot encode " + path.string() + " as PNG");
  }
  files::write_file_atomically(path, bytes_of(png));
}

void write_png(const files::Folder& folder, std::string_view name, const cv::Mat& image) {
  std::vector<uchar> png;
  if (!cv::imencode(".png", image, png)) {
    throw files::WriteError("cannot encode " + folder.path_of(name).string() + " as PNG");
  }
  files::write_file_atomically(folder, name, bytes_of(png));
}

std::unique_ptr<FrameSink> make_png_sequence(const std::string& folder) {
  fs::path path(folder);
  if (!path.has_filename()) path = path.parent_path();  // "out/frames/" names "out/frames"
  return std::make_unique<StagedPngSequence>(path);
}

std::unique_ptr<FrameSink> make_png_sequence(files::Folder folder) {
  return std::make_unique<FreshPngSequence>(std::move(folder));
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
