#pragma once

// Checks of the machine a run needs, made before anything is written or trained: the display
// for --show, a video encoder, the --out path, the thread count.

#include "options.hpp"

namespace fitreel::app {

/// Throws UsageError for what the user can fix (no reachable display, a dangling --out link),
/// std::runtime_error when no video encoder at all is left; warns about what only slows or
/// changes the run (too many threads, a format that falls back to Motion JPEG AVI).
void check_environment(const RunOptions& options);

}  // namespace fitreel::app
