#include "output.hpp"

#include "options.hpp"

#include <fitreel/files/atomic_file.hpp>

#include <spdlog/spdlog.h>
#include <unistd.h>
#include <opencv2/imgcodecs.hpp>

#include <fstream>
#include <string_view>
#include <system_error>
#include <vector>

namespace fitreel::app {

namespace fs = std::filesystem;

namespace {

std::string process_tag() { return std::to_string(::getpid()); }

// Staging folders of runs that were killed: ".<demo>.partial-<pid>" whose process is gone.
void remove_abandoned_staging(const fs::path& root, const std::string& demo) {
  const std::string prefix = "." + demo + ".partial-";
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(root, error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) {
      continue;
    }
    const std::string pid = name.substr(prefix.size());
    const bool alive = !pid.empty() && pid.find_first_not_of("0123456789") == std::string::npos &&
                       fs::exists("/proc/" + pid);
    if (!alive) {
      fs::remove_all(entry.path(), error);
    }
  }
}

}  // namespace

void prepare_output_root(const fs::path& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error || !fs::is_directory(dir)) {
    throw UsageError("--out " + dir.string() + " cannot be used as a folder: " +
                     (error ? error.message() : "it is not a directory"));
  }
  // A folder we cannot write into fails the same way, before any training.
  const fs::path probe = dir / (".fitreel-write-test-" + process_tag());
  std::ofstream test(probe);
  if (!test) {
    throw UsageError("--out " + dir.string() + " is not writable");
  }
  test.close();
  fs::remove(probe, error);
}

void check_model_destination(const fs::path& path) {
  const fs::path folder = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  if (!fs::is_directory(folder)) {
    throw UsageError("--save-model " + path.string() + ": the folder " + folder.string() +
                     " does not exist");
  }
  if (fs::is_directory(path)) {
    throw UsageError("--save-model " + path.string() + " is a folder; give a file name");
  }
}

DemoOutput::DemoOutput(const fs::path& root, const std::string& demo)
    : final_(root / demo), staging_(root / ("." + demo + ".partial-" + process_tag())) {
  remove_abandoned_staging(root, demo);
  fs::remove_all(staging_);
  fs::create_directories(staging_);
}

DemoOutput::~DemoOutput() {
  if (!published_) {
    std::error_code ignored;
    fs::remove_all(staging_, ignored);
  }
}

void DemoOutput::publish() {
  const fs::path previous =
      final_.parent_path() / ("." + final_.filename().string() + ".old-" + process_tag());
  std::error_code error;
  fs::remove_all(previous, error);
  if (fs::exists(fs::symlink_status(final_))) {
    fs::rename(final_, previous);
  }
  fs::rename(staging_, final_);
  published_ = true;
  fs::remove_all(previous, error);
}

render::VideoFormat video_format(VideoChoice choice) {
  switch (choice) {
    case VideoChoice::webm:
      return render::VideoFormat::webm;
    case VideoChoice::avi:
      return render::VideoFormat::avi;
    case VideoChoice::gif:
      return render::VideoFormat::gif;
    default:
      return render::VideoFormat::mp4;
  }
}

std::unique_ptr<render::FrameSink> open_frame_sink(const RunOptions& options,
                                                   const DemoOutput& output,
                                                   const std::string& stem,
                                                   std::optional<std::string>& reported) {
  if (options.video == VideoChoice::none) {
    return nullptr;
  }
  if (options.video == VideoChoice::png) {
    reported = output.final_path("frames").string();
    return render::make_png_sequence((output.staging() / "frames").string());
  }
  render::VideoSettings settings;
  settings.size = {options.width, options.height};
  settings.fps = options.fps;
  settings.preset = options.preset;
  render::OpenedVideo video =
      render::open_video(output.staging().string(), stem, video_format(options.video), settings);
  if (!video.warning.empty()) {
    spdlog::warn("{}", video.warning);
  }
  spdlog::debug("video: {} with {}", video.sink->path(), video.codec);
  reported = output.final_path(fs::path(video.sink->path()).filename().string()).string();
  return std::move(video.sink);
}

void write_file_atomically(const fs::path& path, const std::string& content) {
  const fs::path temporary = path.parent_path() / ("." + path.filename().string() + ".tmp");
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) {
      throw std::runtime_error("cannot write " + path.string());
    }
  }
  fs::rename(temporary, path);
}

void write_png(const fs::path& path, const cv::Mat& image) {
  // Encoded in memory, then written atomically: a full disk is the OS's reason in one line,
  // not libpng's own stderr line and a bare "cannot write".
  std::vector<unsigned char> png;
  if (!cv::imencode(".png", image, png)) {
    throw std::runtime_error("cannot write " + path.string() + ": PNG encoding failed");
  }
  files::write_file_atomically(
      path, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
}

}  // namespace fitreel::app
