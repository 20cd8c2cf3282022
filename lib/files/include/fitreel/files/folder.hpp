#pragma once

// A folder held open by its descriptor: everything fitreel opens, creates, renames or deletes
// inside a folder a user named goes through one of these. Names are resolved beneath the
// folder with no symbolic link followed (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS where
// the kernel has it, O_NOFOLLOW one component at a time where it does not), so a link or a
// name planted there cannot steer a write elsewhere, and renaming the folder away meanwhile
// does not either. Only the path the user gave to open the folder itself is followed as given.

#include <fitreel/error.hpp>

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fitreel::files {

/// What an entry is, as lstat says: links are reported, never followed.
enum class EntryType { none, file, folder, link, other };

/// "a folder", "a symbolic link", "a FIFO", ... for messages.
std::string describe_type(mode_t mode);

/// One entry of a folder.
struct Entry {
  std::string name;
  EntryType type = EntryType::none;
};

/// A held folder. Relative names may have several components ("frames/frame_00000.png"); none
/// may be absolute, hold "..", or pass through a symbolic link.
class Folder {
 public:
  /// Opens the folder at `path`, following `path` as the user gave it. Throws FileError.
  static Folder open(const std::filesystem::path& path);
  /// The same, creating missing folders first (as mkdir -p). Throws FileError.
  static Folder open_or_create(const std::filesystem::path& path);

  /// No folder (to assign one to later).
  Folder() = default;
  /// Takes ownership of `fd`, an open folder, named `path` in messages.
  static Folder adopt(int fd, std::filesystem::path path) { return Folder(fd, std::move(path)); }

  Folder(Folder&& other) noexcept;
  Folder& operator=(Folder&& other) noexcept;
  Folder(const Folder&) = delete;
  Folder& operator=(const Folder&) = delete;
  ~Folder();

  /// The path messages name it by (as given, or its parent's path joined with its name).
  const std::filesystem::path& path() const { return path_; }
  /// `name` inside it, for messages.
  std::filesystem::path path_of(std::string_view name) const { return path_ / std::string(name); }
  int fd() const { return fd_; }
  /// A path that reaches `name` through this descriptor (/proc/self/fd/N/name), for libraries
  /// that open files by name themselves (FFmpeg); the plain path where /proc is missing.
  std::string descriptor_path(std::string_view name) const;

  /// lstat of `name` beneath it; nullopt when nothing is there. Throws FileError for other
  /// failures (no permission, a link on the way).
  std::optional<struct stat> status(std::string_view name) const;
  EntryType type_of(std::string_view name) const;
  /// The entries (not "." and ".."), sorted by name. Throws FileError.
  std::vector<Entry> entries() const;

  /// The folder `name` beneath it. Throws FileError when it is missing, a link or not a folder.
  Folder open_folder(std::string_view name) const;
  /// Makes the folder `name` (which must not exist: nothing there is reused) and opens it.
  Folder make_folder(std::string_view name, mode_t mode = 0777) const;
  /// Makes a folder named `prefix` + 12 random letters and digits, exclusively (an existing
  /// name is never reused), and opens it; `made` gets its name.
  Folder make_unique_folder(std::string_view prefix, std::string& made, mode_t mode = 0700) const;

  /// A descriptor of the regular file `name`, opened for reading without following a link or
  /// waiting on a FIFO. Throws FileError naming what it is when it is not a regular file.
  int open_for_reading(std::string_view name) const;
  /// The bytes of the regular file `name`, at most `max_bytes` of them: FileError when it holds
  /// more (counted by bytes read, not by what stat says: /proc files report 0).
  std::string read_file(std::string_view name, std::uint64_t max_bytes) const;

  /// Makes the file `name` (which must not exist) holding `bytes`, in place: for a marker in a
  /// folder just made, where no reader can see a partial file. Throws FileError.
  void create_file(std::string_view name, std::string_view bytes) const;

  /// rename within this folder. Throws FileError.
  void rename(std::string_view from, std::string_view to) const;
  /// rename that fails (false) when `to` exists.
  bool rename_if_absent(std::string_view from, std::string_view to) const;
  /// Swaps two entries atomically (renameat2 RENAME_EXCHANGE). False where the file system
  /// cannot (NFS, vfat); throws FileError for other failures.
  bool exchange(std::string_view a, std::string_view b) const;
  /// Removes the file (or link, never what it points to) `name`; absent is fine.
  void remove_file(std::string_view name) const;
  /// Removes `name` and everything below it without following any link. Throws FileError.
  void remove_tree(std::string_view name) const;
  /// fsync of the folder itself, so renames and new entries in it survive a power loss.
  void sync() const;

  /// A second descriptor of the same folder (dup), e.g. for a writer that outlives this one.
  Folder duplicate() const;

  /// How try_lock went.
  enum class Lock { taken, busy, unsupported };
  /// Takes an exclusive flock on the folder itself, held while this descriptor (or a
  /// duplicate) is open: busy when another process holds it; unsupported where the file system
  /// has no locks (some NFS mounts).
  Lock try_lock() const;

 private:
  class Parent;
  Folder(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  int open_beneath(std::string_view name, int flags, mode_t mode = 0) const;
  // The folder holding the last component of `name`, and that component.
  std::pair<int, std::string> parent_of(std::string_view name) const;

  int fd_ = -1;
  std::filesystem::path path_;
};

/// The cap read_file and open_for_reading users apply when nothing else is said: 16 MiB.
inline constexpr std::uint64_t kSmallFileBytes = std::uint64_t{1} << 24;

/// Reads `fd` to its end, at most `max_bytes` (FileError past that, naming `shown`).
std::string read_capped(int fd, std::uint64_t max_bytes, const std::filesystem::path& shown);

/// "cannot write PATH: REASON" for an errno value.
std::string write_failure(const std::filesystem::path& path, int error_number);

}  // namespace fitreel::files
