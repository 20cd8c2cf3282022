#pragma once

#include <fitreel/error.hpp>
#include <fitreel/files/folder.hpp>
#include <fitreel/render/frame_sink.hpp>

#include <opencv2/core.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace fitreel::render {

/// Video containers fitreel writes.
enum class VideoFormat {
  mp4,   ///< H.264 in yuv420p, index at the front: plays in browsers, phones, QuickTime
  webm,  ///< VP9 (or VP8) in yuv420p: plays in browsers
  avi,   ///< Motion JPEG: plays in desktop players (VLC, mpv), not in browsers
  gif,   ///< looping GIF with a palette that keeps the plot's colours exact
};

/// "mp4", "webm", "avi" or "gif".
std::string_view video_format_name(VideoFormat format);
/// The format called `name`, or nothing.
std::optional<VideoFormat> video_format_from_name(std::string_view name);
/// The format a file name's extension names (".mp4", ".webm", ".avi", ".gif"), or nothing.
std::optional<VideoFormat> video_format_of(const std::filesystem::path& path);

/// How a video is encoded (within video_limits(format): check_video_settings).
struct VideoSettings {
  cv::Size size{1280, 720};  ///< even width and height, 64 to 7680
  int fps = 30;              ///< 1 to 240; gif 1 to 50
  /// x264 speed/size trade-off for mp4: ultrafast, superfast, veryfast, faster, fast, medium,
  /// slow, slower, veryslow. Faster presets make bigger files of the same quality.
  std::string preset = "ultrafast";
  /// An FFmpeg encoder to use instead of the format's own (e.g. "libopenh264" for mp4); when
  /// it cannot be opened the usual fallback applies.
  std::string encoder{};
};

/// The frame rates and frame sizes a video format takes. The one place that decides them:
/// open_video, fitreel::Film and the fitreel command line all check against these.
struct VideoLimits {
  int min_fps = 1;
  int max_fps = 240;
  std::string_view max_fps_why{};  ///< why faster is refused
  int min_side = 64;               ///< width and height, each even
  int max_side = 7680;
};

/// The limits of `format`: fps 1 to 240 (gif 1 to 50), even sides from 64 to 7680 pixels.
VideoLimits video_limits(VideoFormat format);

/// Throws InputError (one line: the value, the range and why) for settings outside
/// video_limits(format).
void check_video_settings(VideoFormat format, const VideoSettings& settings);

/// An open video and what was actually chosen.
struct OpenedVideo {
  std::unique_ptr<FrameSink> sink{};
  VideoFormat format = VideoFormat::mp4;  ///< may differ from the one asked for (see warning)
  std::string codec{};                    ///< the encoder in use, e.g. "libx264"
  std::string warning{};                  ///< why the format differs, empty when it does not
};

/// Opens `folder`/`stem`.<ext> for writing, creating `folder` when it is missing. When no
/// encoder for `format` is available it falls back to Motion JPEG in AVI and says so in
/// `warning`; throws InputError for settings outside video_limits(format) (before anything is
/// made), VideoError when nothing works, files::WriteError when the folder cannot be made.
OpenedVideo open_video(const std::string& folder, const std::string& stem, VideoFormat format,
                       const VideoSettings& settings);
/// The same into a held folder (no link followed there; see files::Folder).
OpenedVideo open_video(const files::Folder& folder, const std::string& stem, VideoFormat format,
                       const VideoSettings& settings);

/// Whether this FFmpeg can encode `format` without falling back.
bool can_encode(VideoFormat format);

/// Whether `preset` is one of x264's presets.
bool is_x264_preset(std::string_view preset);

}  // namespace fitreel::render
