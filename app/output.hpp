#pragma once

// Where a demo's results go, so that nothing half-written ever sits under a final name.

#include "options.hpp"

#include <fitreel/render/frame_sink.hpp>
#include <fitreel/render/video.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace fitreel::app {

/// Makes `dir` (and its parents) if needed. Throws UsageError when it cannot be a folder
/// (a regular file on the way, no permission), before anything is written.
void prepare_output_root(const std::filesystem::path& dir);

/// A demo's results are written into a hidden staging folder next to DIR/<demo>/ and swapped
/// in by publish(), so a crash leaves the previous results whole and no partial files under
/// final names; a run replaces everything an earlier run of the demo left (stale frames,
/// videos of another format) and touches nothing else in DIR.
class DemoOutput {
 public:
  DemoOutput(const std::filesystem::path& root, const std::string& demo);
  /// Removes the staging folder unless it was published.
  ~DemoOutput();
  DemoOutput(const DemoOutput&) = delete;
  DemoOutput& operator=(const DemoOutput&) = delete;

  /// The folder to write into now.
  const std::filesystem::path& staging() const { return staging_; }
  /// Where the results will be once published: DIR/<demo>.
  const std::filesystem::path& final_dir() const { return final_; }
  /// `name` inside the final folder (for what summary.json reports).
  std::filesystem::path final_path(const std::string& name) const { return final_ / name; }
  /// Replaces DIR/<demo> with the staging folder.
  void publish();

 private:
  std::filesystem::path final_;
  std::filesystem::path staging_;
  bool published_ = false;
};

/// Throws UsageError unless `path` can become a file: its folder exists and it is no folder.
void check_model_destination(const std::filesystem::path& path);

/// The container --video names (mp4, webm, avi or gif).
render::VideoFormat video_format(VideoChoice choice);

/// Opens what frames go to as --video asks: `<stem>.<ext>` or frames/ in the staging folder,
/// or nothing for --video none. Sets `reported` to the final path of what is written (which a
/// fallback to another format may change, with a warning).
std::unique_ptr<render::FrameSink> open_frame_sink(const RunOptions& options,
                                                   const DemoOutput& output,
                                                   const std::string& stem,
                                                   std::optional<std::string>& reported);

/// Writes `content` to `path` through a temporary file in the same folder and a rename.
void write_file_atomically(const std::filesystem::path& path, const std::string& content);

/// Writes `image` as a PNG (into a staging folder: published whole with it).
void write_png(const std::filesystem::path& path, const cv::Mat& image);

}  // namespace fitreel::app
