#pragma once

// Where a demo's results go: folders fitreel owns, published whole, never a user's file touched.

#include "options.hpp"

#include <fitreel/render/frame_sink.hpp>
#include <fitreel/render/video.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fitreel::app {

/// Makes `dir` (and its parents) if needed. Throws UsageError when it cannot be a folder
/// (a regular file on the way, no permission), before anything is written.
void prepare_output_root(const std::filesystem::path& dir);

/// DIR/<name>/, a folder of results that fitreel owns. Made before training, it
/// - takes the lock DIR/.<name>.lock (flock): a second run on the same folder is a UsageError;
/// - restores or removes what a killed run left (.<name>.partial-*, .<name>.old-*): the lock,
///   not a PID, says that run is dead;
/// - refuses (UsageError naming the entry) a DIR/<name> holding anything fitreel did not write:
///   every entry must be listed in its manifest (.fitreel-manifest); a folder made by 0.1 (no
///   manifest) is adopted when it holds only names 0.1 writes and a summary.json with
///   fitreel_version;
/// - makes the hidden staging folder DIR/.<name>.partial-<pid> that the run writes into.
/// publish() lists what the staging folder holds in its manifest and swaps it in with one
/// atomic renameat2(RENAME_EXCHANGE), so after a kill at any instant DIR/<name> is the whole
/// old or the whole new result. Where the file system refuses the exchange (NFS, vfat) it falls
/// back to two renames with a warning; the next run repairs what a kill between them left.
class DemoOutput {
 public:
  DemoOutput(const std::filesystem::path& root, const std::string& name);
  /// Removes the staging folder unless it was published, then lets go of the lock.
  ~DemoOutput();
  DemoOutput(const DemoOutput&) = delete;
  DemoOutput& operator=(const DemoOutput&) = delete;

  /// The folder to write into now.
  const std::filesystem::path& staging() const { return staging_; }
  /// Where the results will be once published: DIR/<name>.
  const std::filesystem::path& final_dir() const { return final_; }
  /// `name` inside the final folder (for what summary.json reports).
  std::filesystem::path final_path(const std::string& name) const { return final_ / name; }
  /// Writes the manifest and replaces DIR/<name> with the staging folder. Throws
  /// files::WriteError (one line) when the file system says no.
  void publish();
  /// True once publish() has swapped the results in.
  bool published() const { return published_; }

 private:
  std::filesystem::path final_;
  std::filesystem::path staging_;
  int lock_fd_ = -1;
  bool published_ = false;
};

/// The manifest's name inside every folder fitreel publishes.
inline constexpr const char* kManifestName = ".fitreel-manifest";

/// Throws UsageError unless --save-model can become a file (its folder exists, it is no
/// folder) and neither --save-model nor --load-model lies inside one of `result_folders`,
/// which every run replaces whole.
void check_model_paths(const RunOptions& options,
                       const std::vector<std::filesystem::path>& result_folders);

/// The container --video names (mp4, webm, avi or gif).
render::VideoFormat video_format(VideoChoice choice);

/// Opens what a sweep's grid frames go to as --video asks (a demo films through fitreel::Film):
/// `<stem>.<ext>` or frames/ in the staging folder, or nothing for --video none. Sets `reported` to
/// the final path of what is written (which a fallback to another format may change, with a
/// warning).
std::unique_ptr<render::FrameSink> open_frame_sink(const RunOptions& options,
                                                   const DemoOutput& output,
                                                   const std::string& stem,
                                                   std::optional<std::string>& reported);

}  // namespace fitreel::app
