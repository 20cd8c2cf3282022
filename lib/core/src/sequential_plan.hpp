#pragma once

// Internal: which Sequential models fitreel's own gradients cover, read once from the module.
// Not installed.

#include "layer_kind.hpp"

#include <fitreel/model_ref.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fitreel::detail {

/// One layer of the shared architecture. A Linear's weight and bias are parameters
/// `weight_param` and `weight_param + 1` (parameters() order).
struct PlanLayer {
  LayerKind kind = LayerKind::linear;
  int64_t in = 0, out = 0;  // linear only
  size_t weight_param = 0;  // linear only
  bool operator==(const PlanLayer& other) const {
    return kind == other.kind && in == other.in && out == other.out;
  }
};

/// The architecture of a Sequential fitreel's own gradients cover (the analytic step, the
/// batched trainer, the fused kernels): its layers in order and its parameters' shapes.
struct SequentialPlan {
  std::vector<PlanLayer> layers;
  std::vector<std::vector<int64_t>> param_shapes;  // parameters() order
  /// The layers for messages, e.g. "Linear(1, 2) Sigmoid Linear(2, 1)".
  std::string describe() const;
};

/// The plan of `model`, or the reason those gradients cannot train it (one line, no fix): the one
/// walk over a Sequential's children that every hand-derived path takes.
struct PlanOrReason {
  std::optional<SequentialPlan> plan;
  std::string reason;
};
PlanOrReason sequential_plan_of(const ModelRef& model);

}  // namespace fitreel::detail
