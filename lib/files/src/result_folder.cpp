#include <fitreel/files/result_folder.hpp>

#include <fitreel/files/atomic_file.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <set>
#include <sstream>

namespace fitreel::files {

namespace {

constexpr const char* kPublishedHeader =
    "# fitreel manifest: what fitreel wrote in this folder. A run replaces the folder only while "
    "it holds nothing else.\n";
// The manifest a staging folder starts with: what proves a killed run's leftover is fitreel's.
constexpr const char* kStagingHeader =
    "# fitreel manifest: a run is writing this folder (or was killed while it did).\n";
constexpr std::uint64_t kMostManifestBytes = std::uint64_t{1} << 24;
constexpr int kMostNumberedDestinations = 100;

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

void list_below(const Folder& folder, const std::string& prefix, int depth,
                std::vector<std::string>& found) {
  if (depth > 16) {
    throw FileError(folder.path().string() + ": folders nest too deep to list");
  }
  for (const Entry& entry : folder.entries()) {
    if (entry.type == EntryType::folder) {
      found.push_back(prefix + entry.name + "/");
      list_below(folder.open_folder(entry.name), prefix + entry.name + "/", depth + 1, found);
    } else {
      found.push_back(prefix + entry.name);
    }
  }
}

// The manifest of `folder`: its header line and its entries; nullopt when there is none (or it
// is not a regular file).
struct Manifest {
  std::string header;
  std::set<std::string> entries;
};
std::optional<Manifest> read_manifest(const Folder& folder) {
  if (folder.type_of(kManifestName) != EntryType::file) {
    return std::nullopt;
  }
  std::istringstream text(folder.read_file(kManifestName, kMostManifestBytes));
  Manifest manifest;
  std::getline(text, manifest.header);
  manifest.header += '\n';
  manifest.entries.insert(kManifestName);
  for (std::string line; std::getline(text, line);) {
    if (!line.empty() && line[0] != '#') manifest.entries.insert(line);
  }
  return manifest;
}

// What in `folder` fitreel did not write: the first foreign entry, "" when a folder without a
// manifest has no proof of fitreel, nothing when fitreel wrote it all.
std::optional<std::string> first_foreign_entry(const Folder& folder,
                                               const std::vector<std::string>& present,
                                               const LegacyRule& legacy) {
  const std::optional<Manifest> manifest = read_manifest(folder);
  const bool legacy_allowed = legacy.wrote_entry && legacy.left_proof;
  for (const std::string& entry : present) {
    const bool listed = manifest ? manifest->entries.count(entry) != 0
                                 : legacy_allowed && legacy.wrote_entry(entry);
    // fitreel writes folders and regular files only: a link or a FIFO under a listed name was
    // put there by someone else.
    const bool written_kind = entry.back() == '/' || folder.type_of(entry) == EntryType::file;
    if (!listed || !written_kind) return entry;
  }
  if (!manifest && !(legacy_allowed && legacy.left_proof(folder))) {
    return std::string();
  }
  return std::nullopt;
}

// A staging folder a killed run left: nothing in it (nothing is lost by removing it), or its
// staging manifest (empty if the kill came as it was made) and nothing but files and folders.
bool killed_staging(const Folder& folder) {
  const std::vector<std::string> entries = entries_below(folder);
  if (entries.empty()) return true;
  const std::optional<Manifest> manifest = read_manifest(folder);
  if (!manifest || (manifest->header != kStagingHeader && manifest->header != "\n")) return false;
  for (const std::string& entry : entries) {
    const EntryType type = entry.back() == '/' ? EntryType::folder : folder.type_of(entry);
    if (type != EntryType::folder && type != EntryType::file) return false;
  }
  return true;
}

std::string manifest_text(const Folder& folder) {
  std::string text = kPublishedHeader;
  for (const std::string& entry : entries_below(folder)) {
    if (entry != kManifestName) text += entry + '\n';
  }
  return text;
}

}  // namespace

std::vector<std::string> entries_below(const Folder& folder) {
  std::vector<std::string> found;
  list_below(folder, "", 0, found);
  return found;
}

bool owned_by_fitreel(const Folder& root, std::string_view name, const LegacyRule& legacy) {
  try {
    if (root.type_of(name) != EntryType::folder) return false;
    const Folder folder = root.open_folder(name);
    return !first_foreign_entry(folder, entries_below(folder), legacy);
  } catch (const FileError&) {
    return false;
  }
}

void check_replaceable(const Folder& root, std::string_view name, const LegacyRule& legacy) {
  const std::string shown = root.path_of(name).string();
  const std::string fix =
      "; fitreel replaces " + shown + " whole, so move that away or choose another --out";
  const EntryType type = root.type_of(name);
  if (type == EntryType::none) return;
  if (type == EntryType::link) {
    throw NotOwnedError(shown + " is a symbolic link fitreel did not make" + fix);
  }
  if (type != EntryType::folder) {
    throw NotOwnedError(shown + " is a file fitreel did not write" + fix);
  }
  std::vector<std::string> present;
  std::optional<Folder> folder;
  try {
    folder = root.open_folder(name);
    present = entries_below(*folder);
  } catch (const FileError& error) {
    throw NotOwnedError("cannot look into " + shown + ": " + error.what());
  }
  if (const auto foreign = first_foreign_entry(*folder, present, legacy)) {
    throw NotOwnedError(foreign->empty()
                            ? shown +
                                  " has no fitreel manifest and no summary.json from fitreel, so "
                                  "fitreel did not make it" +
                                  fix
                            : shown + " holds " + (root.path_of(name) / *foreign).string() +
                                  ", which fitreel did not write" + fix);
  }
  // Emptying it takes write permission on it and on each folder below it.
  std::vector<std::string> folders{"."};
  for (const std::string& entry : present) {
    if (entry.back() == '/') folders.push_back(entry.substr(0, entry.size() - 1));
  }
  for (const std::string& each : folders) {
    if (::faccessat(folder->fd(), each.c_str(), W_OK | X_OK, AT_EACCESS) != 0) {
      const std::optional<struct stat> info =
          each == "." ? root.status(name) : folder->status(each);
      const std::string where = each == "." ? shown : (root.path_of(name) / each).string();
      throw NotOwnedError("cannot replace " + shown + ": no permission to change " + where +
                          " (owned by uid " + std::to_string(info ? info->st_uid : 0) +
                          "); run as that user or choose another --out");
    }
  }
}

ResultFolder::ResultFolder(const Folder& root, std::string name, ResultFolderOptions options)
    : root_(root), name_(std::move(name)), options_(std::move(options)) {
  clear_leftovers();
  check_replaceable(root_, name_, options_.legacy);
  staging_ = root_.make_unique_folder("." + name_ + ".partial-", staging_name_, 0777);
  if (!options_.manifest) {
    return;
  }
  try {
    staging_.create_file(kManifestName, kStagingHeader);  // no rename: a kill leaves a marker
  } catch (...) {
    root_.remove_tree(staging_name_);
    throw;
  }
}

ResultFolder::~ResultFolder() {
  if (!published_ && !staging_name_.empty()) {
    try {
      root_.remove_tree(staging_name_);
    } catch (...) {  // a destructor must not throw; the next run clears it
    }
  }
}

void ResultFolder::warn(const std::string& message) const {
  if (options_.warn) options_.warn(message);
}

// With DIR's lock held no other run is writing here, so a staging (.<name>.partial-*) or
// set-aside (.<name>.old-*) folder is what a killed run left. A kill between the fallback's two
// renames leaves no DIR/<name> and the old results set aside: those are put back. Only what is
// provably fitreel's is removed; anything else under such a name stays, with a warning.
void ResultFolder::clear_leftovers() {
  const std::string partial = "." + name_ + ".partial-";
  const std::string old = "." + name_ + ".old-";
  for (const Entry& entry : root_.entries()) {
    const bool is_partial = starts_with(entry.name, partial);
    const bool is_old = starts_with(entry.name, old);
    if (!is_partial && !is_old) continue;
    const std::string shown = root_.path_of(entry.name).string();
    bool published = false, ours = false;
    try {
      if (entry.type == EntryType::folder) {
        published = owned_by_fitreel(root_, entry.name, options_.legacy);
        ours = published || killed_staging(root_.open_folder(entry.name));
      }
    } catch (const FileError&) {
      ours = false;
    }
    if (!ours) {
      warn("left " + shown + " alone: its name is one fitreel uses, but fitreel did not write it");
      continue;
    }
    if (is_old && published && root_.type_of(name_) == EntryType::none &&
        root_.rename_if_absent(entry.name, name_)) {
      warn("restored " + root_.path_of(name_).string() + ": a run was killed while publishing it");
      continue;
    }
    try {
      root_.remove_tree(entry.name);
    } catch (const FileError& error) {
      warn(std::string("cannot remove what a killed run left: ") + error.what());
    }
  }
}

std::string ResultFolder::destination() const {
  try {
    check_replaceable(root_, name_, options_.legacy);
    destination_ = name_;
    return destination_;
  } catch (const NotOwnedError&) {
  }
  for (int n = 2; n < kMostNumberedDestinations; ++n) {
    const std::string candidate = name_ + "-" + std::to_string(n);
    if (root_.type_of(candidate) == EntryType::none) {
      destination_ = candidate;
      return destination_;
    }
  }
  throw WriteError("cannot publish " + root_.path_of(name_).string() + ": it changed, and " +
                   name_ + "-2 to -" + std::to_string(kMostNumberedDestinations - 1) +
                   " are taken");
}

std::filesystem::path ResultFolder::final_path(std::string_view entry) const {
  const std::string folder = destination_.empty() ? name_ : destination_;
  return entry.empty() ? root_.path_of(folder) : root_.path_of(folder) / std::string(entry);
}

std::string ResultFolder::publish() {
  if (options_.manifest) {
    write_file_atomically(staging_, kManifestName, manifest_text(staging_));
  }
  staging_.sync();
  const std::string destination = this->destination();
  if (destination != name_) {
    warn(root_.path_of(name_).string() + " changed while this run worked (it holds what fitreel " +
         "did not write): left it as it is and published the results in " +
         root_.path_of(destination).string());
  }
  if (root_.rename_if_absent(staging_name_, destination)) {
    published_ = true;
  } else if (root_.exchange(staging_name_, destination)) {
    // The staging name now holds the old results; a kill before they are removed leaves a
    // leftover the next run clears.
    published_ = true;
    remove_old(staging_name_);
  } else {
    warn("the file system of " + root_.path().string() +
         " cannot swap folders atomically; publishing in two steps");
    publish_in_two_steps(destination);
  }
  root_.sync();
  return destination;
}

// The two renames of file systems that cannot exchange folders (NFS, vfat).
void ResultFolder::publish_in_two_steps(const std::string& destination) {
  std::string set_aside;
  {
    // A name no one has: made as an empty folder, then replaced by the old results.
    const Folder reserved = root_.make_unique_folder("." + name_ + ".old-", set_aside, 0700);
  }
  root_.remove_tree(set_aside);
  root_.rename(destination, set_aside);
  root_.rename(staging_name_, destination);
  published_ = true;
  remove_old(set_aside);
}

// Removes the old results set aside under `name`, once more checked: what appeared in them in
// the last instant before the swap stays.
void ResultFolder::remove_old(const std::string& name) {
  if (!owned_by_fitreel(root_, name, options_.legacy)) {
    warn("kept " + root_.path_of(name).string() + " (the results this run replaced): files " +
         "fitreel did not write appeared in it while publishing");
    return;
  }
  try {
    root_.remove_tree(name);
  } catch (const FileError& error) {
    warn(std::string("cannot remove the results this run replaced: ") + error.what());
  }
}

}  // namespace fitreel::files
