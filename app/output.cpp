#include "output.hpp"

#include "options.hpp"
#include "ownership.hpp"
#include "run_log.hpp"

#include <fitreel/files/atomic_file.hpp>

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace fitreel::app {

namespace fs = std::filesystem;

namespace {

files::Folder open_root(const std::string& dir) {
  try {
    return files::Folder::open_or_create(dir);
  } catch (const files::FileError& error) {
    throw UsageError("--out " + dir + " cannot be used as a folder: " + error.what());
  }
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

OutputRoot::OutputRoot(const std::string& dir) : folder_(open_root(dir)) {
  if (::faccessat(folder_.fd(), ".", W_OK | X_OK, AT_EACCESS) != 0) {
    throw UsageError("--out " + dir + " is not writable: " + std::strerror(errno));
  }
  switch (folder_.try_lock()) {
    case files::Folder::Lock::taken:
      break;
    case files::Folder::Lock::busy:
      throw UsageError("another fitreel is writing " + dir +
                       "; wait for it or choose another --out");
    case files::Folder::Lock::unsupported:
      spdlog::warn(
          "the file system of {} has no locks: make sure no other fitreel writes there "
          "at the same time",
          dir);
      break;
  }
}

DemoOutput::DemoOutput(const OutputRoot& root, const std::string& name)
    : folder_(root.folder(), name,
              {version_0_1_rule(name), /*manifest=*/true,
               [](const std::string& message) { spdlog::warn("{}", message); }}) {}

void DemoOutput::publish() {
  // What the run told while making this folder goes with it (index.html shows it).
  files::write_file_atomically(staging(), "log.txt", take_run_log());
  folder_.publish();
}

void check_model_paths(const RunOptions& options, const std::vector<std::string>& result_names) {
  const fs::path out = fs::weakly_canonical(fs::absolute(options.out_dir));
  const auto inside = [](const fs::path& path, const fs::path& folder) {
    const fs::path file = fs::weakly_canonical(fs::absolute(path));
    const auto mismatch = std::mismatch(folder.begin(), folder.end(), file.begin(), file.end());
    return mismatch.first == folder.end();
  };
  // Names fitreel writes in DIR itself: the page, and the hidden staging and set-aside folders.
  const auto written_in_out = [&](const fs::path& path) {
    if (fs::weakly_canonical(fs::absolute(path)).parent_path() != out) {
      return false;
    }
    const std::string name = path.filename().string();
    return name == "index.html" ||
           std::any_of(result_names.begin(), result_names.end(), [&](const std::string& result) {
             return starts_with(name, "." + result + ".partial-") ||
                    starts_with(name, "." + result + ".old-");
           });
  };
  for (const auto& [flag, path] : {std::pair{"--save-model", options.save_model},
                                   std::pair{"--load-model", options.load_model}}) {
    if (!path) {
      continue;
    }
    for (const std::string& name : result_names) {
      const fs::path folder = out / name;
      if (inside(*path, folder)) {
        throw UsageError(std::string(flag) + " " + *path + " lies inside " +
                         (fs::path(options.out_dir) / name).string() +
                         ", which every run replaces whole; keep models outside it (e.g. " +
                         (fs::path(options.out_dir) / fs::path(*path).filename()).string() + ")");
      }
    }
    if (std::string(flag) == "--save-model" && written_in_out(*path)) {
      throw UsageError("--save-model " + *path + " names a file fitreel writes in --out " +
                       options.out_dir + "; give the model another name");
    }
  }
  if (options.save_model) {
    const fs::path path(*options.save_model);
    if (fs::is_directory(path)) {
      throw UsageError("--save-model " + path.string() + " is a folder; give a file name");
    }
    try {
      files::check_writable(path);  // the very temporary file the save will use, made and removed
    } catch (const files::WriteError& error) {
      throw UsageError("--save-model: " + std::string(error.what()) +
                       " (checked before training, so no work is lost)");
    }
  }
}

std::optional<render::VideoFormat> video_format(VideoChoice choice) {
  switch (choice) {
    case VideoChoice::mp4:
      return render::VideoFormat::mp4;
    case VideoChoice::webm:
      return render::VideoFormat::webm;
    case VideoChoice::avi:
      return render::VideoFormat::avi;
    case VideoChoice::gif:
      return render::VideoFormat::gif;
    case VideoChoice::png:
    case VideoChoice::none:
      break;
  }
  return std::nullopt;
}

std::filesystem::path video_name_for(const std::string& stem, const RunOptions& options) {
  if (const std::optional<render::VideoFormat> format = video_format(options.video)) {
    return stem + "." + std::string(render::video_format_name(*format));
  }
  return options.video == VideoChoice::png ? "frames" : "";
}

}  // namespace fitreel::app
