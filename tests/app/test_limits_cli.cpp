// Limits of the machine set with ulimit (issue 20, cases 13 and 14): a run that meets them ends
// with one line, never a signal. Not built with the sanitizers: AddressSanitizer reserves more
// address space than `ulimit -v` allows, so there the limit tests the sanitizer, not fitreel.
#include "json_file.hpp"
#include "process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace fitreel {
namespace {

namespace fs = std::filesystem;
using testing::lines_of;
using testing::read_json;
using testing::run;
using testing::TempDir;

const std::string kFitreel = FITREEL_EXE;

// stderr without the log's "[info]" lines.
std::vector<std::string> complaints(const std::string& err) {
  std::vector<std::string> said;
  for (const std::string& line : lines_of(err)) {
    if (line.rfind("[info]", 0) != 0) said.push_back(line);
  }
  return said;
}

// Case 13: two 1-4096-4096-1 nets under a 3 GiB address space: sized to fit (or, short of
// memory, one line and exit 1), never std::terminate.
TEST(Limits, ASweepOfLargeNetsUnderAnAddressSpaceLimitEndsInOneLineAtMost) {
  TempDir dir;
  const auto result = run("/bin/sh", {"-c", "ulimit -v 3145728; exec \"$@\"", "sh", kFitreel,
                                      "sweep", "net", "--hidden", "4096,4096", "--epochs", "1",
                                      "--lrs", "0.1,0.2", "--video", "none", "--out", dir / "out"});
  ASSERT_TRUE(result.exit_code == 0 || result.exit_code == 1) << result.exit_code << result.err;
  if (result.exit_code == 0) {
    const nlohmann::json sweep = read_json(dir / "out/sweep-net/sweep.json");
    EXPECT_EQ(sweep["runs"].size(), 2U);
    EXPECT_LT(fs::file_size(dir / "out/sweep-net/sweep.json"), 64U * 1024U)
        << "parameters are in checkpoints, not inlined";
    EXPECT_TRUE(fs::exists(dir / "out/sweep-net/models/0.pt"));
  } else {
    const auto said = complaints(result.err);
    ASSERT_FALSE(said.empty());
    EXPECT_NE(said.back().find("out of memory"), std::string::npos) << result.err;
  }
}

// Case 14: past `ulimit -f` a write fails with a message instead of a silent SIGXFSZ.
TEST(Limits, AFileSizeLimitIsAOneLineErrorNotASignal) {
  TempDir dir;
  const auto result = run("/bin/sh", {"-c", "ulimit -f 64; exec \"$@\"", "sh", kFitreel, "net",
                                      "--epochs", "50", "--frames", "30", "--out", dir / "out"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  const auto said = complaints(result.err);
  ASSERT_EQ(said.size(), 1U) << result.err;
  EXPECT_NE(said[0].find("File too large"), std::string::npos) << said[0];
  EXPECT_FALSE(fs::exists(dir / "out/net")) << "nothing half-written is published";
}

}  // namespace
}  // namespace fitreel
