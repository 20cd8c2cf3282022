#include "film_place.hpp"

#include <fitreel/error.hpp>
#include <fitreel/files/atomic_file.hpp>
#include <fitreel/render/live_window.hpp>
#include <fitreel/render/video.hpp>

#include <set>
#include <system_error>

namespace fitreel::detail {

namespace fs = std::filesystem;

namespace {

std::string size_text(int width, int height) {
  return std::to_string(width) + "x" + std::to_string(height);
}

render::VideoSettings video_settings(const FilmOptions& options) {
  render::VideoSettings settings;
  settings.size = {options.width, options.height};
  settings.fps = options.fps;
  settings.preset = options.preset;
  settings.encoder = options.encoder;
  return settings;
}

// `format`: the video's, when the film encodes one (not PNG frames).
void check_options(const FilmOptions& options, std::optional<render::VideoFormat> format) {
  const bool encodes_video = format.has_value();
  if (options.frames < 2) {
    throw InputError("FilmOptions::frames is " + std::to_string(options.frames) +
                     ": a film needs at least 2 frames");
  }
  if (options.curve_points < 2) {
    throw InputError("FilmOptions::curve_points is " + std::to_string(options.curve_points) +
                     ": a curve needs at least 2 points");
  }
  if (encodes_video) {
    // The limits open_video applies, checked before any folder or file is made.
    render::check_video_settings(*format, video_settings(options));
  } else if (options.width < 2 || options.height < 2) {
    throw InputError("FilmOptions::width x height is " + size_text(options.width, options.height) +
                     ": frames need at least 2x2 pixels (e.g. 1280x720)");
  } else if (options.fps < 1) {
    throw InputError("FilmOptions::fps is " + std::to_string(options.fps) +
                     ": a video needs at least 1 frame per second");
  }
  if (encodes_video && !render::is_x264_preset(options.preset)) {
    throw InputError("FilmOptions::preset '" + options.preset +
                     "' is not an x264 preset: use ultrafast, superfast, veryfast, faster, fast, "
                     "medium, slow, slower or veryslow");
  }
  if (options.show) {
    if (const std::optional<std::string> why = render::live_window_unavailable()) {
      throw InputError("FilmOptions::show: " + *why);
    }
  }
}

// Makes the folder a file will go into; a file where a folder should be, or a folder where the
// file should be, is named now rather than after training.
void prepare_folder_for(const fs::path& file, bool is_folder) {
  const fs::path folder = is_folder ? file : file.parent_path();
  std::error_code error;
  if (!folder.empty()) {
    fs::create_directories(folder, error);
    if (error) {
      throw files::WriteError("cannot create the folder " + folder.string() + ": " +
                              error.message());
    }
  }
  if (!is_folder && fs::is_directory(file)) {
    throw InputError(file.string() + " is a folder: name a file to write there");
  }
}

// Film(into, ...): each file is a plain relative name beneath the held folder, in a folder that
// is there (checked now, not after training).
void check_name_inside(const files::Folder& base, const fs::path& path) {
  const fs::path folder = path.parent_path();
  try {
    if (path.is_absolute()) {
      throw files::FileError(path.string() + " is absolute");
    }
    if (!folder.empty()) {
      base.open_folder(folder.string());
    }
    if (base.type_of(path.string()) == files::EntryType::folder) {
      throw InputError(base.path_of(path.string()).string() +
                       " is a folder: name a file to write there");
    }
  } catch (const files::FileError& error) {
    throw InputError(std::string("the film cannot write ") + path.string() + " in " +
                     base.path().string() + ": " + error.what());
  }
}

}  // namespace

fs::path without_trailing_slash(const fs::path& path) {
  return path.has_filename() || !path.has_parent_path() ? path : path.parent_path();
}

FilmVideo FilmPlace::open(fs::path& video, const std::vector<const fs::path*>& others,
                          const FilmOptions& options) const {
  video = without_trailing_slash(video);
  const bool has_video = !video.empty();
  const bool frames_folder = has_video && !video.has_extension();
  std::optional<render::VideoFormat> format;
  if (has_video && !frames_folder) {
    format = render::video_format_of(video);
    if (!format) {
      throw InputError("cannot tell the video format of " + video.string() +
                       ": end the name with .mp4, .webm, .avi or .gif, or leave the extension "
                       "out for a folder of PNG frames");
    }
  }
  check_options(options, format);
  std::vector<const fs::path*> paths{&video};
  paths.insert(paths.end(), others.begin(), others.end());
  std::set<fs::path> seen;
  for (const fs::path* path : paths) {
    if (path->empty()) {
      continue;
    }
    if (!seen.insert(path->lexically_normal()).second) {
      throw InputError("the film would write " + path->string() +
                       " twice: give each of its files a different name");
    }
    if (base_) {
      check_name_inside(*base_, *path);
    } else {
      prepare_folder_for(*path, frames_folder && path == &video);
    }
    // Every file written after training is proven writable now, by making and removing the
    // very temporary file its write will use: a read-only folder fails before any epoch.
    if (path != &video) {
      if (base_) {
        files::check_writable(*base_, path->string());
      } else {
        files::check_writable(*path);
      }
    }
  }
  FilmVideo opened;
  if (frames_folder) {
    opened.sink = base_ ? render::make_png_sequence(base_->make_folder(video.string()))
                        : render::make_png_sequence(video.string());
  } else if (format) {
    const render::VideoSettings settings = video_settings(options);
    const fs::path folder = video.parent_path();
    const std::string stem = video.stem().string();
    render::OpenedVideo made =
        !base_ ? render::open_video(folder.string(), stem, *format, settings)
        : folder.empty()
            ? render::open_video(*base_, stem, *format, settings)
            : render::open_video(base_->open_folder(folder.string()), stem, *format, settings);
    video = folder / fs::path(made.sink->path()).filename();  // another extension on a fallback
    opened.sink = std::move(made.sink);
    opened.codec = made.codec;
    opened.warning = made.warning;
  }
  return opened;
}

void FilmPlace::write(const fs::path& path, std::string_view bytes) const {
  if (base_) {
    files::write_file_atomically(*base_, path.string(), bytes);
  } else {
    files::write_file_atomically(path, bytes);
  }
}

void FilmPlace::write_png(const fs::path& path, const cv::Mat& image) const {
  if (base_) {
    render::write_png(*base_, path.string(), image);
  } else {
    render::write_png(path, image);
  }
}

}  // namespace fitreel::detail
