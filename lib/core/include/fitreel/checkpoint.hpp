#pragma once

#include <fitreel/files/atomic_file.hpp>

#include <torch/nn/modules/container/sequential.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace fitreel {

/// A checkpoint could not be read: missing, not a regular file, damaged, too large, or made for
/// another architecture. The message is one line naming the file.
class CheckpointError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Caps on what verify_checkpoint accepts. Generous for fitreel's models (a few KiB), they bound
/// the memory and time a damaged or hostile file can cost before LibTorch sees it.
inline constexpr std::uint64_t kMaxCheckpointBytes = std::uint64_t{1} << 30;  ///< the file
inline constexpr std::uint64_t kMaxCheckpointEntries = 65536;                 ///< ZIP entries
/// Each entry's and all entries' uncompressed bytes together.
inline constexpr std::uint64_t kMaxCheckpointUncompressedBytes = std::uint64_t{1} << 30;

/// Checks that `path` is a whole, undamaged checkpoint archive, without a model: a regular file
/// (a FIFO, folder or device is refused without being opened for reading), at most the caps
/// above, a ZIP archive whose headers agree (libzip's consistency check) and whose every entry
/// reads to its end with a matching CRC. LibTorch's own reader skips CRCs, so a flipped byte
/// in a weight would otherwise load silently. Throws CheckpointError.
void verify_checkpoint(const std::string& path);

/// Saves `model`'s parameters with torch::save, tagged with `architecture` (e.g. "1-2-1
/// sigmoid"). Serialized in memory, then written atomically (temporary name in the same folder,
/// fsync, rename): FILE is the whole new checkpoint or what it was before. Throws
/// files::WriteError ("cannot write PATH: No space left on device").
void save_checkpoint(torch::nn::Sequential& model, const std::string& architecture,
                     const std::string& path);

/// Loads parameters saved by save_checkpoint into `model`, which must have the same
/// `architecture` (tag and every parameter's shape). Verifies the file first
/// (verify_checkpoint) and parses the very bytes it verified. Throws CheckpointError
/// otherwise, leaving the model as it was.
void load_checkpoint(torch::nn::Sequential& model, const std::string& architecture,
                     const std::string& path);

}  // namespace fitreel
