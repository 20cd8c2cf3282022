#pragma once

// What a shell command prints on stdout, for the tests that run this platform's Python.

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace fitreel::testing_support {

/// Runs `command` through the shell and returns its stdout; the test fails when it exits
/// non-zero.
inline std::string output_of(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  EXPECT_NE(pipe, nullptr) << command;
  std::string text;
  char buffer[4096];
  while (pipe != nullptr) {
    const std::size_t got = std::fread(buffer, 1, sizeof buffer, pipe);
    if (got == 0) break;
    text.append(buffer, got);
  }
  const int status = pipe != nullptr ? ::pclose(pipe) : -1;
  EXPECT_EQ(status, 0) << command;
  return text;
}

}  // namespace fitreel::testing_support
