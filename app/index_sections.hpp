#pragma once

// One result folder (DIR/line, DIR/net, DIR/sweep-<demo>) as a section of index.html.

#include <filesystem>
#include <string>

namespace fitreel::app {

/// The HTML of `folder` (DIR/<name>): its videos, stills, loss chart, log, summary and a link to
/// every file, all linked relative to DIR. Reads only what is there; a missing or damaged file
/// leaves its part out.
std::string result_section(const std::filesystem::path& folder, const std::string& name);

}  // namespace fitreel::app
