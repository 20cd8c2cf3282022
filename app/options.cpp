#include "options.hpp"

#include <algorithm>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <regex>

namespace fitreel::app {

namespace {

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

// Decimal or scientific notation only: no nan, inf, hex floats or trailing junk.
const std::regex& real_number() {
  static const std::regex pattern("[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?");
  return pattern;
}

}  // namespace

int64_t parse_integer(std::string_view text, std::string_view option, int64_t min, int64_t max) {
  const std::string value(text);
  const std::string range =
      max == std::numeric_limits<int64_t>::max()
          ? "an integer >= " + std::to_string(min)
          : "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  static const std::regex kDecimal("[+-]?(0|[1-9][0-9]*)");
  if (!std::regex_match(value, kDecimal)) {
    const bool leading_zero = std::regex_match(value, std::regex("[+-]?0[0-9]+"));
    throw UsageError(std::string(option) + " got " + quoted(text) + "; it takes " + range +
                     (leading_zero ? ", written without leading zeros" : ""));
  }
  errno = 0;
  const long long parsed = std::strtoll(value.c_str(), nullptr, 10);
  if (errno == ERANGE || parsed < min || parsed > max) {
    throw UsageError(std::string(option) + " got " + quoted(text) + "; it takes " + range);
  }
  return parsed;
}

uint64_t parse_unsigned(std::string_view text, std::string_view option) {
  const std::string value(text);
  static const std::regex kDecimal("\\+?(0|[1-9][0-9]*)");
  const bool decimal = std::regex_match(value, kDecimal);
  errno = 0;
  const unsigned long long parsed = decimal ? std::strtoull(value.c_str(), nullptr, 10) : 0;
  if (!decimal || errno == ERANGE) {
    throw UsageError(std::string(option) + " got " + quoted(text) +
                     "; it takes an integer from 0 to 18446744073709551615, without leading zeros");
  }
  return parsed;
}

std::vector<uint64_t> parse_seeds(std::string_view text) {
  std::vector<uint64_t> seeds;
  const size_t dots = text.find("..");
  if (dots != std::string_view::npos) {
    const uint64_t first = parse_unsigned(text.substr(0, dots), "--seeds");
    const uint64_t last = parse_unsigned(text.substr(dots + 2), "--seeds");
    if (last < first || last - first >= kMaxSweepModels) {
      throw UsageError("--seeds " + quoted(text) + ": a range A..B needs A <= B and at most " +
                       std::to_string(kMaxSweepModels) + " seeds");
    }
    // Counted, not compared: a range ending at the largest seed must not wrap around to 0.
    for (uint64_t offset = 0; offset <= last - first; ++offset) {
      seeds.push_back(first + offset);
    }
    return seeds;
  }
  seeds = parse_list<uint64_t>(text, "--seeds", kMaxSweepModels, parse_unsigned);
  std::vector<uint64_t> sorted = seeds;
  std::sort(sorted.begin(), sorted.end());
  if (const auto twice = std::adjacent_find(sorted.begin(), sorted.end()); twice != sorted.end()) {
    throw UsageError("--seeds lists seed " + std::to_string(*twice) + " twice");
  }
  return seeds;
}

double parse_positive_real(std::string_view text, std::string_view option) {
  const std::string value(text);
  const std::string accepted = "; it takes a finite number greater than 0 (e.g. 0.01 or 1e-3)";
  if (!std::regex_match(value, real_number())) {
    throw UsageError(std::string(option) + " got " + quoted(text) + accepted);
  }
  const double parsed = std::strtod(value.c_str(), nullptr);
  if (!std::isfinite(parsed) || !(parsed > 0.0)) {
    throw UsageError(std::string(option) + " got " + quoted(text) + accepted);
  }
  return parsed;
}

double parse_learning_rate(std::string_view text, std::string_view option) {
  const double parsed = parse_positive_real(text, option);
  // Training computes in float32: a rate that becomes 0 or infinity there is no rate.
  const auto as_float = static_cast<float>(parsed);
  if (!(parsed <= std::numeric_limits<float>::max()) || !(as_float > 0.0F)) {
    throw UsageError(std::string(option) + " got " + quoted(text) +
                     "; it takes a number greater than 0 that float32 holds (1.4e-45 to 3.4e38)");
  }
  return parsed;
}

double parse_real(std::string_view text, std::string_view option) {
  const std::string value(text);
  const double parsed =
      std::regex_match(value, real_number()) ? std::strtod(value.c_str(), nullptr) : NAN;
  if (!std::isfinite(parsed)) {
    throw UsageError(std::string(option) + " got " + quoted(text) +
                     "; it takes a finite number (e.g. -0.5 or 2e3)");
  }
  return parsed;
}

std::pair<int, int> parse_size(std::string_view text, std::string_view option, int min_side,
                               int max_side) {
  const std::string value(text);
  static const std::regex kSize("([1-9][0-9]{0,4})x([1-9][0-9]{0,4})");
  std::smatch match;
  const std::string accepted = "; it takes WIDTHxHEIGHT, both even and from " +
                               std::to_string(min_side) + " to " + std::to_string(max_side) +
                               " (e.g. 1280x720)";
  if (!std::regex_match(value, match, kSize)) {
    throw UsageError(std::string(option) + " got " + quoted(text) + accepted);
  }
  const int width = std::stoi(match[1]);
  const int height = std::stoi(match[2]);
  for (int side : {width, height}) {
    if (side < min_side || side > max_side || side % 2 != 0) {
      throw UsageError(std::string(option) + " got " + quoted(text) + accepted);
    }
  }
  return {width, height};
}

std::string parse_choice(std::string_view text, std::string_view option,
                         const std::vector<std::string>& choices) {
  for (const auto& choice : choices) {
    if (text == choice) {
      return choice;
    }
  }
  std::string listed;
  for (size_t i = 0; i < choices.size(); ++i) {
    listed += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + choices[i];
  }
  throw UsageError(std::string(option) + " got " + quoted(text) + "; it takes " + listed);
}

std::string_view demo_name(Demo demo) { return demo == Demo::line ? "line" : "net"; }

std::vector<Demo> demos_of(Command command, Demo sweep_demo) {
  switch (command) {
    case Command::line:
      return {Demo::line};
    case Command::net:
      return {Demo::net};
    case Command::all:
      return {Demo::line, Demo::net};
    case Command::sweep:
      return {sweep_demo};
  }
  return {};
}

}  // namespace fitreel::app
