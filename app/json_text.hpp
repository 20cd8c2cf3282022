#pragma once

// JSON as fitreel writes it (summary.json, sweep.json).

#include <nlohmann/json.hpp>

#include <string>

namespace fitreel::app {

/// `json` as indented text with a final newline. Strings need not be valid UTF-8: paths on
/// Linux are bytes (a Latin-1 file name, say), so each invalid byte is written as U+FFFD
/// instead of failing the run after training. The files themselves keep the exact bytes given.
inline std::string json_text(const nlohmann::ordered_json& json) {
  return json.dump(1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace fitreel::app
