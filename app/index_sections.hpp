#pragma once

// One result folder (DIR/line, DIR/net, DIR/sweep-<demo>) as a section of index.html.

#include <fitreel/files/folder.hpp>

#include <string>

namespace fitreel::app {

/// The HTML of DIR/<name> (`dir` held open): its videos, stills, loss chart, log, summary and a
/// link to every file, all linked relative to DIR. Reads only regular files, through the held
/// folder with no link followed and each read capped; a missing or damaged file leaves its
/// part out.
std::string result_section(const files::Folder& dir, const std::string& name);

}  // namespace fitreel::app
