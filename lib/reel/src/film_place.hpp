#pragma once

// Internal: where a film's files go and how its video is opened, shared by Film and SweepFilm.
// Not installed.

#include <fitreel/error.hpp>
#include <fitreel/files/folder.hpp>
#include <fitreel/reel/film.hpp>
#include <fitreel/render/frame_sink.hpp>

#include <opencv2/core.hpp>

#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fitreel::detail {

/// "out/frames/" names the folder "out/frames".
std::filesystem::path without_trailing_slash(const std::filesystem::path& path);

/// A film's video as opened: nothing without one.
struct FilmVideo {
  std::unique_ptr<render::FrameSink> sink{};
  std::string codec{}, warning{};
};

/// Where a film writes: each file at its path as given (folders made as needed), or as a
/// relative name beneath a folder the caller holds (no link there followed).
class FilmPlace {
 public:
  FilmPlace() = default;
  explicit FilmPlace(const files::Folder& into) : base_(into.duplicate()) {}

  /// Checks `options` for `video` (empty: none; no extension: a folder of PNG frames) and every
  /// file: distinct names, each writable where it goes, all before any training. Then opens the
  /// video; `video` gets another extension when the format fell back to AVI. Throws InputError,
  /// render::VideoError or files::WriteError.
  FilmVideo open(std::filesystem::path& video,
                 const std::vector<const std::filesystem::path*>& others,
                 const FilmOptions& options) const;

  /// The held folder, or nothing when files are written at their paths.
  const files::Folder* base() const { return base_ ? &*base_ : nullptr; }
  /// Writes `bytes` as the file `path`, atomically (whole or absent).
  void write(const std::filesystem::path& path, std::string_view bytes) const;
  void write_png(const std::filesystem::path& path, const cv::Mat& image) const;

 private:
  std::optional<files::Folder> base_;
};

/// Writes a film's files each on its own: one that fails (a full disk) costs itself alone, the
/// others are still made, and rethrow_first() then reports the first failure.
class WritesEachOnItsOwn {
 public:
  template <class Write>
  void attempt(const Write& write) {
    try {
      write();
    } catch (const Error&) {
      if (!first_failure_) first_failure_ = std::current_exception();
    }
  }
  void rethrow_first() const {
    if (first_failure_) std::rethrow_exception(first_failure_);
  }

 private:
  std::exception_ptr first_failure_;
};

}  // namespace fitreel::detail
