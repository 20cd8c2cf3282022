#pragma once

// Which folders in DIR are fitreel's: those with its manifest (files::ResultFolder publishes
// them), and those fitreel 0.1 made before manifests existed.

#include <fitreel/files/result_folder.hpp>

#include <string>

namespace fitreel::app {

/// How a folder fitreel 0.1 made as DIR/<name> is recognised (no manifest): only names 0.1
/// writes, and a summary.json (or sweep.json) with fitreel_version.
files::LegacyRule version_0_1_rule(const std::string& name);

}  // namespace fitreel::app
