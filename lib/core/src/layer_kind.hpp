#pragma once

// Internal: the layers fitreel's own gradients cover, one vocabulary for the analytic step, the
// batched ATen step and the fused CPU kernels. No LibTorch: the kernels read it. Not installed.

namespace fitreel::detail {

/// A layer of a Sequential the hand-derived gradients cover.
enum class LayerKind { linear, sigmoid, tanh, relu };

}  // namespace fitreel::detail
