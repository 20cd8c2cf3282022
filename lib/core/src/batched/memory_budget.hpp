#pragma once

// Internal: how many models of one architecture train_batched() stacks into one batch, so a
// batch's memory stays under its budget. Not installed.

#include "sequential_plan.hpp"

#include <cstdint>

namespace fitreel::detail {

/// The most memory this process may still take: what the address-space limit (ulimit -v)
/// leaves and what the machine has available, whichever is smaller (infinite when neither is
/// known).
double memory_left_bytes();

/// The budget one batch may take when the caller gives none: half of memory_left_bytes(), at
/// least 1 MB and at most 1 GB.
double default_batch_budget_bytes();

/// What one model of `plan` holds while its batch trains: its parameters and their copies
/// (stacked, gradient, optimizer state, initial and final values), `points` rows of data with
/// the activations of its widest layer, and `snapshots` snapshots (parameters and a curve of
/// `curve_points`), plus its loss history.
double bytes_per_batched_model(const SequentialPlan& plan, int64_t points, int64_t snapshots,
                               int64_t curve_points);

/// How many of `models` such models fit `budget_bytes` together: 1 to `models`.
int64_t models_per_batch(double budget_bytes, double bytes_per_model, int64_t models);

}  // namespace fitreel::detail
