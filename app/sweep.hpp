#pragma once

#include "demo.hpp"
#include "options.hpp"

namespace fitreel::app {

/// `fitreel sweep line|net --lrs ... [--seeds ...]`: one model per (seed, learning rate), each
/// drawn as its single run would be (line: its own data per seed), trained together in batches
/// by the batched trainer, drawn side by side in one video (at most 16 panels, spread over the
/// final losses), with sweep.json and sweep.png (every loss curve) in DIR/sweep-<demo>/. A
/// model that diverges is shown as such and does not stop the others.
/// Its results go into `output` (DIR/sweep-<demo>), published at the end.
DemoOutcome run_sweep(const RunOptions& options, const XyPoints* file, DemoOutput& output);

}  // namespace fitreel::app
