#pragma once

// Runs the seed's demos end to end: data, model, training, frames, stills, results.

#include "options.hpp"

#include <string>

namespace fitreel::app {

/// How one demo ended.
enum class DemoOutcome { completed, diverged, interrupted };

/// Applies --threads and checks --device against this machine (UsageError when it cannot be
/// used). Call before anything is written.
void prepare_torch(const RunOptions& options);

/// Runs demo "line" or "net" with `options` and publishes DIR/<demo>/.
DemoOutcome run_demo(const std::string& demo, const RunOptions& options);

}  // namespace fitreel::app
