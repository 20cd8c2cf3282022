#pragma once

#include <string>

namespace fitreel {

/// The bytes of the checkpoint at `path`, read once and verified as verify_checkpoint
/// describes; LibTorch then parses these bytes, not the file again. Throws CheckpointError.
std::string read_verified_checkpoint(const std::string& path);

}  // namespace fitreel
