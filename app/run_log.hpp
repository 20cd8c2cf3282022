#pragma once

// What a run told on stderr, kept so that each result folder can hold its own log.txt.

#include <spdlog/logger.h>

#include <string>

namespace fitreel::app {

/// Makes `logger` also record every message it logs (as "[level] text" lines, no colours).
void record_run_log(spdlog::logger& logger);

/// The lines recorded since the last call, which forgets them: each published folder gets what
/// was told while it was made.
std::string take_run_log();

}  // namespace fitreel::app
