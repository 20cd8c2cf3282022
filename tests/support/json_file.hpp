#pragma once

// Reading the JSON files the CLI writes (summary.json, sweep.json, goldens) in the CLI tests.

#include "process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace fitreel::testing {

/// The JSON in `path`; a missing or empty file fails the test (and throws on parsing).
inline nlohmann::json read_json(const std::string& path) {
  const std::string text = read_file(path);
  EXPECT_FALSE(text.empty()) << "no JSON in " << path;
  return nlohmann::json::parse(text);
}

/// `summary.json` of a demo's result folder.
inline nlohmann::json summary_of(const std::string& demo_dir) {
  return read_json(demo_dir + "/summary.json");
}

}  // namespace fitreel::testing
