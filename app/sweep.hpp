#pragma once

#include "demo.hpp"
#include "options.hpp"

namespace fitreel::app {

/// `fitreel sweep line|net --lrs ...`: one model per learning rate, each from the same seed
/// and data (so each equals the single run with that rate), drawn side by side in one video,
/// with sweep.json and sweep.png (the loss curves) in DIR/sweep-<demo>/. A rate that diverges
/// is shown as such and does not stop the others.
/// Its results go into `output` (DIR/sweep-<demo>), published at the end.
DemoOutcome run_sweep(const RunOptions& options, const XyPoints* file, DemoOutput& output);

}  // namespace fitreel::app
