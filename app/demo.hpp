#pragma once

// Runs the seed's demos end to end: data, model, training, frames, stills, results.

#include "options.hpp"

#include <memory>
#include <string>

namespace fitreel {
struct XyPoints;
}

namespace fitreel::app {

/// How one demo ended.
enum class DemoOutcome { completed, diverged, interrupted };

/// Checks what the command line asks of this machine before anything is written: applies
/// --threads, resolves --device, reads --data (returned; null without it) and tries
/// --load-model on the demo's model. Throws UsageError for anything unusable.
std::shared_ptr<const XyPoints> check_inputs(const RunOptions& options);

class DemoOutput;

/// Runs `demo` with `options` (on the points of `file`, when not null), writes
/// its results into `output` and publishes them.
DemoOutcome run_demo(Demo demo, const RunOptions& options, const XyPoints* file,
                     DemoOutput& output);

}  // namespace fitreel::app
