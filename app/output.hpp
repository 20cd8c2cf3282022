#pragma once

// Where a demo's results go: DIR held open and locked for the whole run, and result folders
// published whole through the library's file layer (files::ResultFolder); never a user's file
// touched.

#include "options.hpp"

#include <fitreel/files/folder.hpp>
#include <fitreel/files/result_folder.hpp>
#include <fitreel/render/video.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fitreel::app {

/// DIR (--out) as this run holds it: made if needed, opened once (every later name in it is
/// resolved beneath this descriptor, no link followed) and locked with flock on the folder
/// itself, so a second run into the same DIR is refused before training. Throws UsageError when
/// DIR cannot be a folder, is not writable, or another fitreel holds it.
class OutputRoot {
 public:
  explicit OutputRoot(const std::string& dir);
  const files::Folder& folder() const { return folder_; }

 private:
  files::Folder folder_;
};

/// DIR/<name>: a files::ResultFolder (staging, ownership, atomic exchange), plus the run's log
/// as log.txt when it is published.
class DemoOutput {
 public:
  DemoOutput(const OutputRoot& root, const std::string& name);

  /// The folder to write into now.
  const files::Folder& staging() const { return folder_.staging(); }
  /// Where the results are published (DIR/<name>, or DIR/<name>-N when DIR/<name> changed).
  std::filesystem::path final_dir() const { return folder_.final_path(); }
  /// `entry` inside the final folder (for what summary.json reports).
  std::filesystem::path final_path(const std::string& entry) const {
    return folder_.final_path(entry);
  }
  /// Settles where the results go (after a last ownership check), for the summary's paths.
  void choose_destination() const { folder_.destination(); }
  /// Writes log.txt and the manifest and swaps the results in. Throws files::WriteError.
  void publish();
  bool published() const { return folder_.published(); }

 private:
  files::ResultFolder folder_;
};

/// Throws UsageError unless --save-model can be written where it names (proven by making and
/// removing its very temporary file there) and neither model path names something fitreel
/// writes in `out_dir`: a result folder (every run replaces it whole), index.html, or a hidden
/// staging name.
void check_model_paths(const RunOptions& options, const std::vector<std::string>& result_names);

/// The container --video names (mp4, webm, avi or gif); none for png frames and no video.
std::optional<render::VideoFormat> video_format(VideoChoice choice);

/// What a film's video is called in its result folder as --video asks: STEM.mp4 (.webm, .avi,
/// .gif), "frames" (a folder of PNG frames), or empty for --video none.
std::filesystem::path video_name_for(const std::string& stem, const RunOptions& options);

}  // namespace fitreel::app
