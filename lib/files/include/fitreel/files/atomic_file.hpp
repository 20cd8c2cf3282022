#pragma once

// Files that are whole or absent. Every file fitreel writes goes to a temporary name in its
// final folder, is flushed to disk (fsync of the file, then of the folder) and checked, and
// only then renamed over the final name: a full disk, a crash or a kill at any instant leaves
// the old file (or none) under the final name, never a partial one. The temporary file is made
// exclusively (nothing planted under its name is reused) through the held folder, and a file
// replaced keeps its mode; a new one gets what the umask gives.

#include <fitreel/error.hpp>
#include <fitreel/files/folder.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace fitreel::files {

/// One file being written. The constructor makes an empty temporary file beside the final name
/// (a hidden name unique to this writer); write into it with append() or by name through
/// temporary_path() (for writers with their own file API), then commit(). Destroyed without
/// commit(), it removes the temporary file: the final name is never touched.
class AtomicFile {
 public:
  /// `final_path`'s folder is opened as given (links in the path the caller names are theirs).
  explicit AtomicFile(std::filesystem::path final_path);
  /// `name` beneath `folder`, no link followed.
  AtomicFile(const Folder& folder, std::string_view name);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  const std::filesystem::path& final_path() const { return final_; }
  /// A path reaching the temporary file through the held folder's descriptor.
  const std::string& temporary_path() const { return temporary_; }

  /// Appends `bytes` to the temporary file. Throws WriteError (disk full, I/O error).
  void append(std::string_view bytes);

  /// fsyncs the temporary file, gives it the replaced file's mode, renames it over the final
  /// name and fsyncs the folder. Throws WriteError, leaving the final name as it was.
  void commit();

 private:
  void create();

  Folder folder_;
  std::string name_;       // the final name in folder_
  std::string temp_name_;  // the temporary name in folder_
  std::filesystem::path final_;
  std::string temporary_;
  int fd_ = -1;
  bool committed_ = false;
};

/// Writes `bytes` to `path` through an AtomicFile: `path` is the whole new content or untouched.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);
/// The same for `name` beneath `folder`.
void write_file_atomically(const Folder& folder, std::string_view name, std::string_view bytes);

/// Proves, before any work is spent on it, that `path` can be written: its name fits and a file
/// can be made in its folder (an unnamed O_TMPFILE, or where the file system has none, the very
/// temporary file a write would use, made and removed). Throws WriteError naming the file.
void check_writable(const std::filesystem::path& path);
/// The same for `name` beneath a held folder.
void check_writable(const Folder& folder, std::string_view name);

/// fsyncs a folder, so that renames and new entries in it survive a power loss.
/// Throws WriteError.
void sync_folder(const std::filesystem::path& folder);

}  // namespace fitreel::files
