#pragma once

// Which folders are fitreel's to replace: every folder it publishes lists what it wrote in a
// manifest, and a run replaces a folder only when it holds nothing else.

#include <filesystem>
#include <string>
#include <vector>

namespace fitreel::app {

/// The paths below `folder`, relative to it and sorted; folders end in '/'. A symbolic link is
/// listed as itself, never followed.
std::vector<std::string> entries_below(const std::filesystem::path& folder);

/// Writes `folder`/.fitreel-manifest listing entries_below(folder), atomically.
void write_manifest(const std::filesystem::path& folder);

/// True when `folder` (DIR/<name>) holds only what fitreel wrote: every entry in its manifest,
/// or, for a folder made by fitreel 0.1 (no manifest), only names 0.1 writes and a
/// summary.json with fitreel_version.
bool owned_by_fitreel(const std::filesystem::path& folder, const std::string& name);

/// Throws UsageError unless a run may replace `folder` (DIR/<name>) whole: it does not exist,
/// or it is a real folder (no symbolic link, no file) that fitreel owns (owned_by_fitreel) and
/// that this user may empty. The message names the first foreign entry.
void check_replaceable(const std::filesystem::path& folder, const std::string& name);

}  // namespace fitreel::app
