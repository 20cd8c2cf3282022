#include "ownership.hpp"

#include "options.hpp"
#include "output.hpp"

#include <fitreel/files/atomic_file.hpp>

#include <sys/stat.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

namespace fitreel::app {

namespace fs = std::filesystem;

namespace {

constexpr const char* kManifestHeader =
    "# fitreel manifest: what fitreel wrote in this folder. A run replaces the folder only while "
    "it holds nothing else.\n";

std::string relative_name(const fs::directory_entry& entry, const fs::path& folder) {
  std::string name = entry.path().lexically_relative(folder).generic_string();
  if (entry.symlink_status().type() == fs::file_type::directory) {
    name += '/';
  }
  return name;
}

std::set<std::string> manifest_entries(const fs::path& manifest) {
  std::set<std::string> entries{kManifestName};
  std::ifstream in(manifest);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != '#') {
      entries.insert(line);
    }
  }
  return entries;
}

// A name fitreel 0.1 wrote into DIR/<name> (it had no manifest).
bool written_by_version_0_1(const std::string& entry, const std::string& name) {
  static const std::set<std::string> kFixed = {"summary.json", "loss.csv",   "data.png",
                                               "truth.png",    "before.png", "after.png",
                                               "sweep.json",   "sweep.png",  "frames/"};
  static const std::regex kFrame("frames/frame_[0-9]{5}\\.png");
  return kFixed.count(entry) != 0 || entry == name + ".mp4" || entry == name + ".webm" ||
         entry == name + ".avi" || entry == name + ".gif" || std::regex_match(entry, kFrame);
}

bool has_fitreel_summary(const fs::path& folder) {
  for (const char* file : {"summary.json", "sweep.json"}) {
    const fs::path path = folder / file;
    std::error_code error;
    if (!fs::is_regular_file(fs::symlink_status(path, error)) ||
        fs::file_size(path, error) > (1u << 24)) {
      continue;
    }
    std::ifstream in(path);
    const auto json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (json.is_object() && json.contains("fitreel_version")) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::vector<std::string> entries_below(const fs::path& folder) {
  std::vector<std::string> entries;
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    entries.push_back(relative_name(entry, folder));
  }
  std::sort(entries.begin(), entries.end());
  return entries;
}

void write_manifest(const fs::path& folder) {
  std::ostringstream manifest;
  manifest << kManifestHeader;
  for (const std::string& entry : entries_below(folder)) {
    if (entry != kManifestName) {
      manifest << entry << '\n';
    }
  }
  files::write_file_atomically(folder / kManifestName, manifest.str());
}

namespace {

// What in `folder` fitreel did not write: the first foreign entry, "" when a folder without a
// manifest has no summary from fitreel, nothing when fitreel wrote it all.
std::optional<std::string> first_foreign_entry(const fs::path& folder, const std::string& name,
                                               const std::vector<std::string>& present) {
  const fs::path manifest = folder / kManifestName;
  const bool has_manifest = fs::is_regular_file(fs::symlink_status(manifest));
  const std::set<std::string> listed =
      has_manifest ? manifest_entries(manifest) : std::set<std::string>{};
  for (const std::string& entry : present) {
    if (has_manifest ? listed.count(entry) == 0 : !written_by_version_0_1(entry, name)) {
      return entry;
    }
  }
  if (!has_manifest && !has_fitreel_summary(folder)) {
    return std::string();
  }
  return std::nullopt;
}

}  // namespace

bool owned_by_fitreel(const fs::path& folder, const std::string& name) {
  std::error_code error;
  if (!fs::is_directory(fs::symlink_status(folder, error))) {
    return false;
  }
  try {
    return !first_foreign_entry(folder, name, entries_below(folder));
  } catch (const fs::filesystem_error&) {
    return false;
  }
}

void check_replaceable(const fs::path& folder, const std::string& name) {
  const auto status = fs::symlink_status(folder);
  if (!fs::exists(status)) {
    return;
  }
  const std::string fix =
      "; fitreel replaces " + folder.string() + " whole, so move that away or choose another --out";
  if (fs::is_symlink(status)) {
    throw UsageError(folder.string() + " is a symbolic link fitreel did not make" + fix);
  }
  if (!fs::is_directory(status)) {
    throw UsageError(folder.string() + " is a file fitreel did not write" + fix);
  }
  std::vector<std::string> present;
  try {
    present = entries_below(folder);
  } catch (const fs::filesystem_error& error) {
    throw UsageError("cannot look into " + folder.string() + ": " + error.code().message());
  }
  if (const auto foreign = first_foreign_entry(folder, name, present)) {
    throw UsageError(foreign->empty()
                         ? folder.string() +
                               " has no fitreel manifest and no summary.json from fitreel, so "
                               "fitreel did not make it" +
                               fix
                         : folder.string() + " holds " + (folder / *foreign).string() +
                               ", which fitreel did not write" + fix);
  }
  // Emptying it takes write permission on it and on each folder below it.
  std::vector<fs::path> folders{folder};
  for (const std::string& entry : present) {
    if (entry.back() == '/') {
      folders.push_back(folder / entry.substr(0, entry.size() - 1));
    }
  }
  for (const fs::path& each : folders) {
    if (::access(each.c_str(), W_OK | X_OK) != 0) {
      struct stat info {};
      ::stat(each.c_str(), &info);
      throw UsageError("cannot replace " + folder.string() + ": no permission to change " +
                       each.string() + " (owned by uid " + std::to_string(info.st_uid) +
                       "); run as that user or choose another --out");
    }
  }
}

}  // namespace fitreel::app
