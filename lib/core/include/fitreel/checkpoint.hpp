#pragma once

#include <fitreel/error.hpp>
#include <fitreel/files/atomic_file.hpp>
#include <fitreel/files/folder.hpp>

#include <fitreel/model_ref.hpp>
#include <fitreel/training.hpp>

#include <cstdint>
#include <string>

namespace fitreel {

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

/// Saves `model`'s parameters and buffers (any module: see ModelRef) as LibTorch's
/// torch::save does, tagged with `architecture` (e.g. "1-2-1 sigmoid"; empty: no tag).
/// Serialized in memory, then written atomically (temporary name in the same folder, fsync,
/// rename): FILE is the whole new checkpoint or what it was before. Throws files::WriteError
/// ("cannot write PATH: No space left on device").
void save_checkpoint(const ModelRef& model, const std::string& architecture,
                     const std::string& path);
/// The same without a tag.
void save_checkpoint(const ModelRef& model, const std::string& path);
/// Saves `model` with the training state `state` (TrainResult::state): the optimizer's state in
/// PyTorch's optimizer.state_dict() layout, the epochs done and the generator's state
/// ("rng_state"), so a run resumed from it gives the numbers of a run that never stopped, and
/// Python's `torch.load(path, weights_only=True)` gives dicts that `model.load_state_dict(d
/// ["model"])` and `optimizer.load_state_dict(d["optimizer"])` take.
void save_checkpoint(const ModelRef& model, const TrainingState& state, const std::string& path,
                     const std::string& architecture = {});
/// The same into `name` beneath a held folder (no link followed there).
void save_checkpoint(const ModelRef& model, const std::string& architecture,
                     const files::Folder& folder, const std::string& name);

/// Summaries (summary.json, a Film's NAME.json, sweep.json) list parameter values inline up to
/// this many per model; a larger model's values go to a checkpoint beside the summary, which
/// names it.
inline constexpr std::int64_t kMostInlineParameters = 4096;

/// Loads a checkpoint into `model` (any module: no clone() needed) and returns the training
/// state it holds, for TrainOptions::resume (empty when it holds none: a bare state_dict, a
/// fitreel 0.2 file). Takes fitreel's own files, what Python's `torch.save(model.state_dict(),
/// path)` writes, and `torch.save({"model": ..., "optimizer": opt.state_dict(), "epoch": N},
/// path)`; names are matched to the model's as state_dict() names them ("fc1.weight", "0.bias"
/// in a Sequential). Verifies the file first (verify_checkpoint) and reads the very bytes it
/// verified, as data (see the header's notes); then checks the tag (unless `architecture` is
/// empty) and that every parameter and buffer of `model` is there with its shape, and only
/// then copies them in. Throws CheckpointError (one line naming every mismatch), leaving the
/// model as it was.
TrainingState load_checkpoint(const ModelRef& model, const std::string& architecture,
                              const std::string& path);
/// The same without checking a tag.
TrainingState load_checkpoint(const ModelRef& model, const std::string& path);

}  // namespace fitreel
