#pragma once

// A folder of results published whole: written into a hidden staging folder beside it, then
// swapped in with one atomic exchange, so after a crash, a kill or a full disk at any instant
// DIR/<name> holds the whole old or the whole new result. A folder is replaced only while it
// holds nothing but what fitreel wrote (its manifest lists that), checked before the work and
// again at the moment of publishing; nothing is deleted for its name alone.

#include <fitreel/error.hpp>
#include <fitreel/files/folder.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fitreel::files {

/// The manifest's name inside every folder fitreel publishes.
inline constexpr const char* kManifestName = ".fitreel-manifest";

/// The paths below `folder`, relative to it and sorted; folders end in '/'. A symbolic link is
/// listed as itself, never followed.
std::vector<std::string> entries_below(const Folder& folder);

/// How to tell that fitreel made a folder without a manifest (an older fitreel's): both must
/// say so. Empty: only folders with a manifest are fitreel's.
struct LegacyRule {
  std::function<bool(const std::string& entry)> wrote_entry{};  ///< a name it wrote
  std::function<bool(const Folder& folder)> left_proof{};       ///< e.g. its summary.json
};

/// True when `name` in `root` is a real folder holding only what fitreel wrote: every entry
/// listed in its manifest (or, without one, passing `legacy`).
bool owned_by_fitreel(const Folder& root, std::string_view name, const LegacyRule& legacy = {});

/// Throws NotOwnedError unless a run may replace `name` in `root` whole: it does not exist, or
/// it is a real folder that fitreel owns and that this user may empty. The message names the
/// first foreign entry.
void check_replaceable(const Folder& root, std::string_view name, const LegacyRule& legacy = {});

/// Options of a ResultFolder.
struct ResultFolderOptions {
  LegacyRule legacy{};
  /// Whether the folder lists its entries in a manifest. Without one (a folder of frames, say)
  /// `legacy` alone tells whether a folder, or a killed run's leftover, is fitreel's.
  bool manifest = true;
  /// Told what the folder did beyond the plan (restored or kept leftovers, a folder that changed
  /// while the run worked); empty: said nowhere.
  std::function<void(const std::string& message)> warn{};
};

/// DIR/<name>, a folder of results fitreel owns. Made before the work, with DIR's lock held by
/// the caller (Folder::try_lock on `root`), it
/// - restores or removes what a killed run left (hidden .<name>.partial-* and .<name>.old-*
///   folders) when it is provably fitreel's, and leaves anything else alone with a warning;
/// - refuses (NotOwnedError) a DIR/<name> holding anything fitreel did not write;
/// - makes a staging folder .<name>.partial-<random> (exclusively) to write into.
/// publish() lists the staging folder in its manifest, checks DIR/<name> again, and swaps the
/// two (renameat2 RENAME_EXCHANGE; two renames with a warning where the file system cannot).
/// When DIR/<name> changed meanwhile (a user saved a file into it), it is left as it is and the
/// results are published beside it as <name>-2 (or -3, ...), with a warning naming both.
class ResultFolder {
 public:
  ResultFolder(const Folder& root, std::string name, ResultFolderOptions options = {});
  /// Removes the staging folder unless it was published.
  ~ResultFolder();
  ResultFolder(const ResultFolder&) = delete;
  ResultFolder& operator=(const ResultFolder&) = delete;

  /// The folder to write into now.
  const Folder& staging() const { return staging_; }
  /// Where the results go, as things stand now: DIR/<name>, or DIR/<name>-N when DIR/<name>
  /// changed since the check (for what a summary reports before publishing).
  std::string destination() const;
  /// `entry` inside the folder the results are published as (for messages and summaries).
  std::filesystem::path final_path(std::string_view entry = {}) const;
  /// Writes the manifest and swaps the staging folder in. Returns the name the results have in
  /// DIR. Throws WriteError (one line) when the file system says no.
  std::string publish();
  bool published() const { return published_; }

 private:
  void clear_leftovers();
  void publish_in_two_steps(const std::string& destination);
  void remove_old(const std::string& name);
  void warn(const std::string& message) const;

  const Folder& root_;
  std::string name_;
  ResultFolderOptions options_;
  std::string staging_name_;
  Folder staging_;
  mutable std::string destination_;
  bool published_ = false;
};

}  // namespace fitreel::files
