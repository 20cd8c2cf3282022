#pragma once

#include <fitreel/files/folder.hpp>

#include <opencv2/core.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace fitreel::render {

/// Somewhere drawn frames go: a video file, numbered PNGs. Used from one thread at a time.
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  /// Appends one BGR frame (CV_8UC3) of the size the sink was made for.
  virtual void write(const cv::Mat& bgr) = 0;
  /// Flushes and closes; the output is complete and playable afterwards. Safe to call twice.
  virtual void finish() = 0;
  /// The file (or folder) written.
  virtual const std::string& path() const = 0;
  /// Frames written so far.
  virtual int64_t frames() const = 0;
  /// The only frame size it takes, or an empty size when it takes any.
  virtual cv::Size frame_size() const { return {}; }
};

/// Writes frame_00000.png, frame_00001.png, ... into `folder` (created if missing), each
/// atomically. The frames go to a staging folder beside it that replaces `folder` whole at
/// finish(), so it holds exactly this film's frames; a `folder` holding anything but frames
/// (and fitreel's manifest) is refused here (files::NotOwnedError) and left alone.
std::unique_ptr<FrameSink> make_png_sequence(const std::string& folder);
/// The same into a folder just made and held (e.g. files::Folder::make_folder), no staging.
std::unique_ptr<FrameSink> make_png_sequence(files::Folder folder);

/// Writes `image` (BGR) to `path` as a PNG atomically: `path` is the whole new picture or as it
/// was. Throws files::WriteError.
void write_png(const std::filesystem::path& path, const cv::Mat& image);
/// The same for `name` beneath a held folder.
void write_png(const files::Folder& folder, std::string_view name, const cv::Mat& image);

/// Hands the newest drawn frame from the drawing thread to the thread that shows it (HighGUI
/// must stay on the main thread); older frames not yet taken are dropped.
class FrameMailbox {
 public:
  /// Replaces the waiting frame with a copy of `frame`.
  void offer(const cv::Mat& frame);
  /// Moves the waiting frame into `frame`; false when none arrived since the last take.
  bool take(cv::Mat& frame);

 private:
  std::mutex mutex_;
  cv::Mat frame_;
  bool fresh_ = false;
};

}  // namespace fitreel::render
