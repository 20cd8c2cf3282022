#pragma once

// Internal: torch::optim's default settings, in one place for every path that steps them: the
// exact optimizer (step_optimizer.cpp), ATen's batched update (batched/batched_epoch.cpp) and the
// fused kernels (batched/cpu/kernels.inc, which round them to float). No LibTorch here. Not
// installed.

namespace fitreel::detail::optimizer_defaults {

constexpr double kAdagradEps = 1e-10;
constexpr double kAdamBeta1 = 0.9;
constexpr double kAdamBeta2 = 0.999;
constexpr double kAdamEps = 1e-8;

}  // namespace fitreel::detail::optimizer_defaults
