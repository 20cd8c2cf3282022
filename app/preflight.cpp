#include "preflight.hpp"

#include "output.hpp"

#include <fitreel/render/live_window.hpp>
#include <fitreel/render/video.hpp>
#include <fitreel/runtime.hpp>

#include <spdlog/spdlog.h>

#include <filesystem>
#include <stdexcept>

namespace fitreel::app {

namespace fs = std::filesystem;

namespace {

// Creating a folder through a link that points nowhere fails with a bare "File exists".
void refuse_dangling_link(const fs::path& out) {
  std::error_code error;
  for (fs::path part = out; !part.empty(); part = part.parent_path()) {
    if (fs::is_symlink(fs::symlink_status(part, error)) && !fs::exists(part, error)) {
      const fs::path target = fs::read_symlink(part, error);
      throw UsageError("--out " + out.string() + ": " + part.string() + " is a symbolic link to " +
                       target.string() + ", which does not exist (create " + target.string() +
                       " or remove the link)");
    }
    if (part == part.parent_path()) {
      break;
    }
  }
}

void check_video_encoder(const RunOptions& options) {
  const std::optional<render::VideoFormat> encoded = video_format(options.video);
  if (!encoded) {
    return;
  }
  const render::VideoFormat format = *encoded;
  if (render::can_encode(format)) {
    return;
  }
  const std::string name(render::video_format_name(format));
  if (!render::can_encode(render::VideoFormat::avi)) {
    throw std::runtime_error("this FFmpeg has no encoder for --video " + name +
                             " nor Motion JPEG to fall back on; use --video png or none");
  }
  spdlog::warn("this FFmpeg has no encoder for --video {}: the video will be Motion JPEG AVI",
               name);
}

void warn_about_threads(const RunOptions& options) {
  const int cores = usable_cpus();
  if (options.threads && *options.threads > cores) {
    spdlog::warn(
        "--threads {} is more than the {} cores here: threads that outnumber the cores wait for "
        "each other and make training slower; try --threads {} or leave it out",
        *options.threads, cores, cores);
  }
}

}  // namespace

void check_environment(const RunOptions& options) {
  if (options.show) {
    if (const auto why = render::live_window_unavailable()) {
      throw UsageError(*why);
    }
  }
  refuse_dangling_link(options.out_dir);
  check_video_encoder(options);
  warn_about_threads(options);
}

}  // namespace fitreel::app
