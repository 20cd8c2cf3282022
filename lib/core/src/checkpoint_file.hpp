#pragma once

// Internal: checkpoint files as ZIP archives, the container of Python's torch.save: read once,
// verified with libzip (LibTorch's own reader skips CRCs), and written the way PyTorch writes
// them (stored entries, data aligned to 64 bytes).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fitreel::detail {

/// The entries of a checkpoint file, read whole and verified as verify_checkpoint describes.
class VerifiedArchive {
 public:
  /// Reads and verifies `path`. Throws CheckpointError.
  static VerifiedArchive read(const std::string& path);

  /// The folder every entry sits in ("archive/"; Python names it after the file).
  const std::string& folder() const { return folder_; }
  /// The bytes of `name` (inside the folder), or nullptr when there is no such entry.
  const std::string* entry(const std::string& name) const;

 private:
  std::string folder_;
  std::map<std::string, std::string> entries_;  // names inside the folder
};

/// A ZIP archive as PyTorch's writer makes one: every entry stored (not compressed) under
/// `folder`/, its data aligned to 64 bytes (so PyTorch can map storages in place).
class ZipWriter {
 public:
  explicit ZipWriter(std::string folder) : folder_(std::move(folder)) {}
  void add(const std::string& name, const std::string& bytes);
  /// The whole archive.
  std::string finish();

 private:
  struct Written {
    std::string name;
    std::uint32_t crc = 0;
    std::uint32_t size = 0;
    std::uint32_t offset = 0;
  };
  std::string folder_;
  std::string out_;
  std::vector<Written> written_;
};

}  // namespace fitreel::detail
