#pragma once

// Files that are whole or absent. Every file fitreel writes goes to a temporary name in its
// final folder, is flushed to disk (fsync of the file, then of the folder) and checked, and
// only then renamed over the final name: a full disk, a crash or a kill at any instant leaves
// the old file (or none) under the final name, never a partial one.

#include <fitreel/error.hpp>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace fitreel::files {

/// A file could not be written. The message is one line naming the file and the OS's reason,
/// e.g. "cannot write out/line/loss.csv: No space left on device".
class WriteError : public Error {
 public:
  using Error::Error;
};

/// One file being written. The constructor makes an empty temporary file beside `final_path`
/// (a hidden name unique to this writer); write into it with append() or by name through
/// temporary_path() (for writers with their own file API), then commit(). Destroyed without
/// commit(), it removes the temporary file: the final name is never touched.
class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path final_path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  const std::filesystem::path& final_path() const { return final_; }
  const std::filesystem::path& temporary_path() const { return temporary_; }

  /// Appends `bytes` to the temporary file. Throws WriteError (disk full, I/O error).
  void append(std::string_view bytes);

  /// fsyncs the temporary file, checks it, renames it over the final name and fsyncs the
  /// folder. Throws WriteError, leaving the final name as it was.
  void commit();

 private:
  std::filesystem::path final_;
  std::filesystem::path temporary_;
  int fd_ = -1;
  bool committed_ = false;
};

/// Writes `bytes` to `path` through an AtomicFile: `path` is the whole new content or untouched.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

/// fsyncs a folder, so that renames and new entries in it survive a power loss.
/// Throws WriteError.
void sync_folder(const std::filesystem::path& folder);

/// "cannot write PATH: REASON" for the calling thread's errno (or `error_number`).
std::string write_failure(const std::filesystem::path& path, int error_number);

}  // namespace fitreel::files
