// How fitreel fails: divergence, signals, kills, checkpoints. Each drives the real binary;
// signals are sent once the first progress line is on stderr, never after a guessed sleep.
#include "json_file.hpp"
#include "process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace fitreel {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::frames_in;
using testing::lines_of;
using testing::Process;
using testing::read_file;
using testing::run;
using testing::summary_of;
using testing::TempDir;

const std::string kFitreel = FITREEL_EXE;
constexpr const char* kTrainingStarted = "training started";

std::vector<std::string> hidden_entries(const std::string& dir) {
  std::vector<std::string> hidden;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    // fitreel keeps no hidden file in DIR (no lock files, no marker): any is a leftover.
    if (name.front() == '.') {
      hidden.push_back(name);
    }
  }
  return hidden;
}

TEST(Divergence, StopsAtTheFirstNonFiniteLossWithAPlayableVideoAndExitThree) {
  TempDir dir;
  const auto result = run(kFitreel, {"line", "--lr", "1e30", "--epochs", "2000", "--frames", "50",
                                     "--size", "320x240", "--out", dir.path()});
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_NE(result.err.find("diverged"), std::string::npos) << result.err;
  const nlohmann::json summary = summary_of(dir / "line");
  EXPECT_EQ(summary["diverged"], true);
  EXPECT_EQ(summary["diverged_at_epoch"], 1) << "loss 701 at epoch 0, inf at epoch 1";
  EXPECT_EQ(summary["epochs_run"], 2);
  EXPECT_EQ(summary["interrupted"], false);
  EXPECT_TRUE(summary["loss_at_epoch"]["1"].is_null()) << "JSON has no inf";
  EXPECT_EQ(lines_of(read_file(dir / "line/loss.csv")).size(), 3U);
  const int frames = summary["frames"];
  EXPECT_GE(frames, 2) << "the frames so far and a last one where it stopped";
  EXPECT_EQ(frames_in(dir / "line/line.mp4"), frames);
  EXPECT_TRUE(fs::exists(dir / "line/after.png"));
}

TEST(Divergence, AllGoesOnToTheNextDemoAndExitsThreeAtTheEnd) {
  TempDir dir;
  const auto result = run(
      kFitreel, {"all", "--lr", "1e30", "--epochs", "100", "--video", "none", "--out", dir.path()});
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_EQ(summary_of(dir / "line")["diverged"], true);
  EXPECT_TRUE(fs::exists(dir / "net/summary.json")) << "net still ran";
}

TEST(Divergence, AHugeRateOnNormalizedStepsIsABadFitNotDivergence) {
  TempDir dir;
  const auto result = run(
      kFitreel, {"net", "--lr", "1e6", "--epochs", "300", "--video", "none", "--out", dir.path()});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(summary_of(dir / "net")["diverged"], false);
}

struct SignalCase {
  int signal;
  int exit_code;
};

void PrintTo(const SignalCase& c, std::ostream* out) { *out << "signal " << c.signal; }

class Interruption : public ::testing::TestWithParam<SignalCase> {};

TEST_P(Interruption, StopsAfterTheEpochFinishesTheVideoAndSaysSo) {
  TempDir dir;
  Process fitreel(kFitreel, {"net", "--epochs", "100000000", "--frames", "40", "--size", "320x240",
                             "--out", dir.path()});
  ASSERT_TRUE(fitreel.wait_for_stderr(kTrainingStarted, 120s));
  fitreel.send(GetParam().signal);
  const auto result = fitreel.wait(120s);
  EXPECT_EQ(result.exit_code, GetParam().exit_code) << result.err;
  const nlohmann::json summary = summary_of(dir / "net");
  EXPECT_EQ(summary["interrupted"], true);
  EXPECT_LT(summary["epochs_run"].get<int64_t>(), 100000000);
  EXPECT_EQ(lines_of(read_file(dir / "net/loss.csv")).size(),
            summary["epochs_run"].get<size_t>() + 1);
  EXPECT_EQ(frames_in(dir / "net/net.mp4"), summary["frames"].get<int>()) << "playable, complete";
  EXPECT_TRUE(hidden_entries(dir.path()).empty()) << "no staging folder left";
}

INSTANTIATE_TEST_SUITE_P(Signals, Interruption,
                         ::testing::Values(SignalCase{SIGINT, 130}, SignalCase{SIGTERM, 143}),
                         [](const auto& param_info) {
                           return param_info.param.signal == SIGINT ? std::string("SIGINT")
                                                                    : std::string("SIGTERM");
                         });

TEST(Interruption, AllStopsAfterTheInterruptedDemo) {
  TempDir dir;
  Process fitreel(kFitreel,
                  {"all", "--epochs", "100000000", "--video", "none", "--out", dir.path()});
  ASSERT_TRUE(fitreel.wait_for_stderr(kTrainingStarted, 120s));
  fitreel.send(SIGINT);
  EXPECT_EQ(fitreel.wait(120s).exit_code, 130);
  EXPECT_EQ(summary_of(dir / "line")["interrupted"], true);
  EXPECT_FALSE(fs::exists(dir / "net")) << "net never started";
}

TEST(Interruption, ASecondSignalExitsAtOnceAndTheEarlierResultsStayWhole) {
  TempDir dir;
  ASSERT_EQ(
      run(kFitreel, {"net", "--epochs", "20", "--video", "none", "--out", dir.path()}).exit_code,
      0);
  const std::string before = read_file(dir / "net/summary.json");
  Process fitreel(kFitreel, {"net", "--epochs", "100000000", "--out", dir.path()});
  ASSERT_TRUE(fitreel.wait_for_stderr(kTrainingStarted, 120s));
  // Two different signals, so the kernel cannot merge them into one; whichever it delivers
  // second ends the process at once, with that signal's code.
  fitreel.send(SIGINT);
  fitreel.send(SIGTERM);
  const int code = fitreel.wait(120s).exit_code;
  EXPECT_TRUE(code == 128 + SIGINT || code == 128 + SIGTERM) << code;
  // Killed before publishing: the earlier run's folder is untouched.
  EXPECT_EQ(read_file(dir / "net/summary.json"), before);
}

TEST(Crash, AKilledRunLeavesNoPartialFileUnderAFinalName) {
  TempDir dir;
  ASSERT_EQ(run(kFitreel, {"line", "--epochs", "30", "--frames", "10", "--size", "320x240", "--out",
                           dir.path()})
                .exit_code,
            0);
  const std::string summary = read_file(dir / "line/summary.json");
  const int frames = frames_in(dir / "line/line.mp4");
  Process fitreel(kFitreel, {"line", "--epochs", "100000000", "--out", dir.path()});
  ASSERT_TRUE(fitreel.wait_for_stderr(kTrainingStarted, 120s));
  fitreel.send(SIGKILL);
  EXPECT_EQ(fitreel.wait(60s).exit_code, 128 + SIGKILL);
  EXPECT_EQ(read_file(dir / "line/summary.json"), summary);
  EXPECT_EQ(frames_in(dir / "line/line.mp4"), frames) << "the earlier video, whole";
  EXPECT_FALSE(hidden_entries(dir.path()).empty()) << "the killed run's staging folder";
  // The next run clears what the killed one left.
  ASSERT_EQ(
      run(kFitreel, {"line", "--epochs", "5", "--video", "none", "--out", dir.path()}).exit_code,
      0);
  EXPECT_TRUE(hidden_entries(dir.path()).empty());
}

TEST(Checkpoint, SaveThenLoadContinuesFromTheTrainedModel) {
  TempDir dir;
  const std::string model = dir / "line.pt";
  ASSERT_EQ(run(kFitreel, {"line", "--epochs", "300", "--video", "none", "--save-model", model,
                           "--out", dir / "a"})
                .exit_code,
            0);
  ASSERT_TRUE(fs::exists(model));
  const nlohmann::json first = summary_of(dir / "a/line");
  EXPECT_EQ(first["saved_model"], model);
  const auto result = run(kFitreel, {"line", "--epochs", "10", "--video", "none", "--load-model",
                                     model, "--out", dir / "b"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json second = summary_of(dir / "b/line");
  EXPECT_EQ(second["initial_params"], first["final_params"]);
  EXPECT_EQ(second["loaded_model"], model);
  EXPECT_LT(second["loss_at_epoch"]["0"].get<double>(), first["loss_at_epoch"]["0"].get<double>());
}

struct BadCheckpoint {
  std::string name;
  std::string says;
};

void PrintTo(const BadCheckpoint& c, std::ostream* out) { *out << c.name; }

class BadCheckpoints : public ::testing::TestWithParam<BadCheckpoint> {};

TEST_P(BadCheckpoints, ExitTwoWithOneLineBeforeWritingAnything) {
  TempDir dir;
  const std::string good = dir / "net.pt";
  ASSERT_EQ(run(kFitreel, {"net", "--epochs", "3", "--video", "none", "--save-model", good, "--out",
                           dir / "made"})
                .exit_code,
            0);
  std::string file = dir / "bad.pt";
  const std::string name = GetParam().name;
  if (name == "Missing") {
    file = dir / "missing.pt";
  } else if (name == "Truncated") {
    const std::string bytes = read_file(good);
    std::ofstream(file, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  } else if (name == "NotACheckpoint") {
    std::ofstream(file) << "these are not the weights you are looking for";
  } else if (name == "WrongArchitecture") {
    file = good;  // a net's checkpoint for the line demo
  }
  const auto result =
      run(kFitreel, {"line", "--video", "none", "--load-model", file, "--out", dir / "out"});
  EXPECT_EQ(result.exit_code, 2) << result.err;
  ASSERT_EQ(lines_of(result.err).size(), 1U) << result.err;
  EXPECT_NE(result.err.find("--load-model"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find(GetParam().says), std::string::npos) << result.err;
  EXPECT_FALSE(fs::exists(dir / "out/line"));
}

INSTANTIATE_TEST_SUITE_P(Files, BadCheckpoints,
                         ::testing::Values(BadCheckpoint{"Missing", "no checkpoint file"},
                                           BadCheckpoint{"Truncated", "cannot be read"},
                                           BadCheckpoint{"NotACheckpoint", "cannot be read"},
                                           BadCheckpoint{"WrongArchitecture", "1-2-1 sigmoid"}),
                         [](const auto& param_info) { return param_info.param.name; });

TEST(Checkpoint, SavingIntoAMissingFolderIsBadInput) {
  TempDir dir;
  const auto result =
      run(kFitreel, {"net", "--save-model", dir / "no/such/folder/m.pt", "--out", dir / "out"});
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_EQ(lines_of(result.err).size(), 1U) << result.err;
  EXPECT_FALSE(fs::exists(dir / "out"));
}

TEST(Memory, PeakMemoryDoesNotGrowWithEpochs) {
  TempDir dir;
  // Under AddressSanitizer freed memory waits in a quarantine that would grow with the epochs'
  // temporary tensors; without it the sanitized build measures the same thing.
  testing::ProcessOptions options;
  const char* asan = std::getenv("ASAN_OPTIONS");
  options.env["ASAN_OPTIONS"] = std::string(asan != nullptr ? asan : "") +
                                ":quarantine_size_mb=0:thread_local_quarantine_size_kb=0";
  const auto short_run =
      run(kFitreel, {"line", "--epochs", "1000", "--video", "none", "--out", dir / "a"}, options);
  const auto long_run =
      run(kFitreel, {"line", "--epochs", "600000", "--video", "none", "--out", dir / "b"}, options);
  ASSERT_EQ(short_run.exit_code, 0) << short_run.err;
  ASSERT_EQ(long_run.exit_code, 0) << long_run.err;
  // Keeping every loss (4 B) and building loss.csv in memory (~18 B) cost ~13 MB here.
  const long growth_kib = long_run.max_rss_kib - short_run.max_rss_kib;
  std::cout << "peak RSS: " << short_run.max_rss_kib << " KiB at 1000 epochs, "
            << long_run.max_rss_kib << " KiB at 600000\n";
  EXPECT_LT(growth_kib, 5 * 1024) << "memory grows with epochs";
  // loss.csv streamed to disk has every epoch, and agrees with summary.json's samples.
  const std::vector<std::string> rows = lines_of(read_file(dir / "b/line/loss.csv"));
  ASSERT_EQ(rows.size(), 600001U);
  const nlohmann::json summary = summary_of(dir / "b/line");
  for (const auto& [epoch, loss] : summary["loss_at_epoch"].items()) {
    const std::string& row = rows[std::stoul(epoch) + 1];
    EXPECT_EQ(row.substr(0, row.find(',')), epoch);
    EXPECT_EQ(std::stof(row.substr(row.find(',') + 1)), loss.get<float>()) << "epoch " << epoch;
  }
}

}  // namespace
}  // namespace fitreel
