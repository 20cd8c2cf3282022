#include "output.hpp"

#include "options.hpp"

#include "ownership.hpp"
#include "run_log.hpp"

#include <fitreel/files/atomic_file.hpp>

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <system_error>
#include <vector>

namespace fitreel::app {

namespace fs = std::filesystem;

namespace {

std::string process_tag() { return std::to_string(::getpid()); }

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// Takes DIR/.<name>.lock (kept between runs: removing a lock file races with its next user).
int take_lock(const fs::path& root, const std::string& name) {
  const fs::path lock = root / ("." + name + ".lock");
  const int fd = ::open(lock.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw UsageError("cannot lock " + (root / name).string() + ": " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    throw UsageError("another fitreel is writing " + (root / name).string() + " (it holds " +
                     lock.string() + "); wait for it or choose another --out");
  }
  return fd;
}

// With the lock held, any staging (.<name>.partial-*) or set-aside (.<name>.old-*) folder is
// what a killed run left. A kill between the fallback's two renames leaves no DIR/<name> and
// the old results set aside: those are put back; everything else left over is removed.
void repair_leftovers(const fs::path& root, const std::string& name) {
  const fs::path final_dir = root / name;
  std::vector<fs::path> leftovers;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(root, error)) {
    const std::string entry_name = entry.path().filename().string();
    if (starts_with(entry_name, "." + name + ".partial-") ||
        starts_with(entry_name, "." + name + ".old-")) {
      leftovers.push_back(entry.path());
    }
  }
  for (const fs::path& leftover : leftovers) {
    const bool set_aside = starts_with(leftover.filename().string(), "." + name + ".old-");
    if (set_aside && !fs::exists(fs::symlink_status(final_dir)) &&
        owned_by_fitreel(leftover, name) && ::rename(leftover.c_str(), final_dir.c_str()) == 0) {
      spdlog::warn("restored {}: a run was killed while publishing it", final_dir.string());
      continue;
    }
    fs::remove_all(leftover, error);
    if (error) {
      spdlog::warn("cannot remove {} left by a killed run: {}", leftover.string(), error.message());
    }
  }
}

// The two renames of file systems that cannot exchange folders (NFS, vfat).
void publish_in_two_steps(const fs::path& staging, const fs::path& final_dir) {
  const fs::path set_aside =
      final_dir.parent_path() / ("." + final_dir.filename().string() + ".old-" + process_tag());
  if (::rename(final_dir.c_str(), set_aside.c_str()) != 0 ||
      ::rename(staging.c_str(), final_dir.c_str()) != 0) {
    throw files::WriteError("cannot publish " + final_dir.string() + ": " + std::strerror(errno));
  }
  std::error_code ignored;
  fs::remove_all(set_aside, ignored);
}

}  // namespace

void prepare_output_root(const fs::path& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error || !fs::is_directory(dir)) {
    throw UsageError("--out " + dir.string() + " cannot be used as a folder: " +
                     (error ? error.message() : "it is not a directory"));
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    throw UsageError("--out " + dir.string() + " is not writable: " + std::strerror(errno));
  }
}

void check_model_paths(const RunOptions& options, const std::vector<fs::path>& result_folders) {
  const auto inside = [](const fs::path& path, const fs::path& folder) {
    const fs::path file = fs::weakly_canonical(fs::absolute(path));
    const fs::path dir = fs::weakly_canonical(fs::absolute(folder));
    const auto mismatch = std::mismatch(dir.begin(), dir.end(), file.begin(), file.end());
    return mismatch.first == dir.end();
  };
  for (const auto& [flag, path] : {std::pair{"--save-model", options.save_model},
                                   std::pair{"--load-model", options.load_model}}) {
    if (!path) {
      continue;
    }
    for (const fs::path& folder : result_folders) {
      if (inside(*path, folder)) {
        throw UsageError(std::string(flag) + " " + *path + " lies inside " + folder.string() +
                         ", which every run replaces whole; keep models outside it (e.g. " +
                         (folder.parent_path() / fs::path(*path).filename()).string() + ")");
      }
    }
  }
  if (options.save_model) {
    const fs::path path(*options.save_model);
    const fs::path folder = path.parent_path().empty() ? fs::path(".") : path.parent_path();
    if (!fs::is_directory(folder)) {
      throw UsageError("--save-model " + path.string() + ": the folder " + folder.string() +
                       " does not exist");
    }
    if (fs::is_directory(path)) {
      throw UsageError("--save-model " + path.string() + " is a folder; give a file name");
    }
  }
}

DemoOutput::DemoOutput(const fs::path& root, const std::string& name)
    : final_(root / name), staging_(root / ("." + name + ".partial-" + process_tag())) {
  lock_fd_ = take_lock(root, name);
  try {
    repair_leftovers(root, name);
    check_replaceable(final_, name);
    fs::create_directories(staging_);
  } catch (...) {
    ::close(lock_fd_);
    throw;
  }
}

DemoOutput::~DemoOutput() {
  if (!published_) {
    std::error_code ignored;
    fs::remove_all(staging_, ignored);
  }
  ::close(lock_fd_);
}

void DemoOutput::publish() {
  // What the run told while making this folder goes with it (index.html shows it).
  files::write_file_atomically(staging_ / "log.txt", take_run_log());
  write_manifest(staging_);
  if (!fs::exists(fs::symlink_status(final_))) {
    if (::rename(staging_.c_str(), final_.c_str()) != 0) {
      throw files::WriteError("cannot publish " + final_.string() + ": " + std::strerror(errno));
    }
  } else if (::renameat2(AT_FDCWD, staging_.c_str(), AT_FDCWD, final_.c_str(), RENAME_EXCHANGE) ==
             0) {
    // The staging name now holds the old results; a kill before they are removed leaves a
    // leftover the next run clears.
    std::error_code ignored;
    fs::remove_all(staging_, ignored);
  } else if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) {
    spdlog::warn("the file system of {} cannot swap folders atomically; publishing in two steps",
                 final_.parent_path().string());
    publish_in_two_steps(staging_, final_);
  } else {
    throw files::WriteError("cannot publish " + final_.string() + ": " + std::strerror(errno));
  }
  published_ = true;
  files::sync_folder(final_.parent_path());
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

}  // namespace fitreel::app
