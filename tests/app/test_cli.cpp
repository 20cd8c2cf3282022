// The fitreel executable driven as a user would: short runs, their outputs, and bad input.
#include "json_file.hpp"
#include "process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

namespace fitreel {
namespace {

namespace fs = std::filesystem;
using testing::lines_of;
using testing::read_file;
using testing::read_json;
using testing::run;
using testing::TempDir;

const std::string kFitreel = FITREEL_EXE;

nlohmann::json golden(const std::string& name) {
  return read_json(std::string(FITREEL_GOLDEN_DIR) + "/" + name + ".json");
}

TEST(Cli, HelpExplainsEveryOption) {
  const auto result = run(kFitreel, {"line", "--help"});
  EXPECT_EQ(result.exit_code, 0);
  for (const char* option :
       {"--out", "--seed", "--points", "--epochs", "--lr", "--device", "--threads", "--log-level",
        "--quiet", "--video", "--frames", "--schedule", "--fps", "--size", "--preset", "--show",
        "--gradients", "--kernels", "--no-cuda-graphs"}) {
    EXPECT_NE(result.out.find(option), std::string::npos) << option;
  }
  const auto top = run(kFitreel, {"--help"});
  EXPECT_EQ(top.exit_code, 0);
  for (const char* command : {"line", "net", "all", "Exit codes"}) {
    EXPECT_NE(top.out.find(command), std::string::npos) << command;
  }
}

TEST(Cli, Version) {
  const auto result = run(kFitreel, {"--version"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out.rfind("fitreel 0.", 0), 0U) << result.out;
  // Frames get DejaVu Sans through OpenCV's freetype module (deps.sh installs both).
  EXPECT_NE(result.out.find("text: DejaVu Sans via OpenCV freetype"), std::string::npos)
      << result.out;
}

void expect_summary_keys(const nlohmann::json& summary) {
  for (const char* key : {"demo",
                          "seed",
                          "points",
                          "epochs",
                          "epochs_run",
                          "lr",
                          "device",
                          "initial_params",
                          "final_params",
                          "loss_at_epoch",
                          "test_mse",
                          "least_squares",
                          "train_seconds",
                          "interrupted",
                          "diverged",
                          "diverged_at_epoch",
                          "video",
                          "frames",
                          "fitreel_version",
                          "torch_version",
                          "command"}) {
    EXPECT_TRUE(summary.contains(key)) << key;
  }
}

// The first epochs of a short run are the first epochs of the seed's run: same numbers.
void expect_matches_golden_start(const nlohmann::json& summary, const nlohmann::json& reference) {
  EXPECT_EQ(summary["initial_params"], reference["initial_params"]);
  for (const char* epoch : {"0", "1", "2", "10", "100"}) {
    const double want = reference["loss_at_epoch"][epoch];
    const double got = summary["loss_at_epoch"][epoch];
    EXPECT_LE(std::abs(got - want), 1e-5 * want) << "epoch " << epoch;
  }
}

TEST(Cli, LineRunWritesTheContractsOutputs) {
  TempDir dir;
  const auto result =
      run(kFitreel, {"line", "--epochs", "200", "--video", "none", "--out", dir / "out"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string demo = dir / "out/line";
  const nlohmann::json summary = read_json(demo + "/summary.json");
  expect_summary_keys(summary);
  EXPECT_EQ(summary["demo"], "line");
  EXPECT_EQ(summary["epochs"], 200);
  EXPECT_EQ(summary["epochs_run"], 200);
  EXPECT_EQ(summary["device"], "cpu");
  EXPECT_EQ(summary["interrupted"], false);
  EXPECT_EQ(summary["diverged"], false);
  EXPECT_TRUE(summary["video"].is_null());
  EXPECT_TRUE(summary["loss_at_epoch"].contains("199"));
  EXPECT_LT(summary["test_mse"].get<double>(), 1000.0);
  EXPECT_NEAR(summary["least_squares"][0].get<double>(), -0.5, 0.05);
  expect_matches_golden_start(summary, golden("line-seed0"));

  const auto rows = lines_of(read_file(demo + "/loss.csv"));
  ASSERT_EQ(rows.size(), 201U);
  EXPECT_EQ(rows[0], "epoch,loss");
  EXPECT_EQ(rows[1].rfind("0,701.344", 0), 0U) << rows[1];
  for (const char* still : {"data.png", "truth.png", "before.png", "after.png"}) {
    EXPECT_TRUE(fs::file_size(demo + "/" + still) > 1000) << still;
  }
  // The seed's story: the real LibTorch error on a 1-D input, then the fix.
  EXPECT_NE(result.err.find("mat1 and mat2 shapes cannot be multiplied"), std::string::npos);
  EXPECT_NE(result.err.find("view({-1, 1})"), std::string::npos);
  EXPECT_NE(result.err.find("least-squares"), std::string::npos);
  EXPECT_NE(result.err.find("test MSE"), std::string::npos);
  EXPECT_NE(result.err.find("epoch 0/200"), std::string::npos) << "a first progress line";
}

TEST(Cli, HeldOutLossAtEveryFrameEpochAlsoWithoutAVideo) {
  TempDir dir;
  const auto result = run(kFitreel, {"all", "--epochs", "200", "--frames", "20", "--video", "none",
                                     "--out", dir / "out"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto rows = lines_of(read_file(dir / "out/line/test_loss.csv"));
  ASSERT_EQ(rows.size(), 21U);
  EXPECT_EQ(rows[0], "epoch,test_loss");
  EXPECT_EQ(rows[1].rfind("0,", 0), 0U) << rows[1];
  EXPECT_EQ(rows[20].rfind("199,", 0), 0U) << rows[20];
  const nlohmann::json summary = read_json(dir / "out/line/summary.json");
  ASSERT_EQ(summary["test_loss_at_epoch"].size(), 20U);
  // The last one is measured before the last step: close to the final test MSE.
  const double last = summary["test_loss_at_epoch"]["199"].get<double>();
  EXPECT_NEAR(last, summary["test_mse"].get<double>(), 0.01 * last);
  // The net holds nothing out.
  EXPECT_FALSE(fs::exists(dir / "out/net/test_loss.csv"));
  EXPECT_TRUE(read_json(dir / "out/net/summary.json")["test_loss_at_epoch"].empty());
}

TEST(Cli, NetFramesShowTheHiddenUnitsUnlessToldNot) {
  TempDir dir;
  for (const char* units : {"--units-default", "--no-units"}) {
    std::vector<std::string> args{"net", "--epochs", "50", "--video", "none", "--out", dir / units};
    if (std::string(units) == "--no-units") {
      args.emplace_back(units);
    }
    const auto result = run(kFitreel, args);
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }
  // The same run, but for the two faint unit curves and the bias line behind the model.
  EXPECT_NE(read_file(dir / "--units-default/net/after.png"),
            read_file(dir / "--no-units/net/after.png"));
  EXPECT_EQ(read_file(dir / "--units-default/net/loss.csv"),
            read_file(dir / "--no-units/net/loss.csv"));
}

TEST(Cli, WithoutTheFontTextFallsBackToHersheyWithOneWarning) {
  TempDir dir;
  testing::ProcessOptions no_font;
  no_font.env["FITREEL_FONT_DIR"] = dir / "no-fonts-here";
  const auto result =
      run(kFitreel, {"net", "--epochs", "20", "--video", "none", "--out", dir / "out"}, no_font);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto warnings = [&] {
    size_t count = 0;
    for (size_t at = result.err.find("Hershey"); at != std::string::npos;
         at = result.err.find("Hershey", at + 1)) {
      ++count;
    }
    return count;
  }();
  EXPECT_EQ(warnings, 1U) << result.err;
  EXPECT_GT(fs::file_size(dir / "out/net/after.png"), 1000U);
  EXPECT_NE(run(kFitreel, {"--version"}, no_font).out.find("text: Hershey"), std::string::npos);
}

TEST(Cli, NetRunMatchesTheSeedsNumbers) {
  TempDir dir;
  const auto result =
      run(kFitreel, {"net", "--epochs", "150", "--video", "none", "--out", dir.path()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json summary = read_json(dir / "net/summary.json");
  expect_summary_keys(summary);
  EXPECT_EQ(summary["lr"], 0.1);
  EXPECT_TRUE(summary["test_mse"].is_null());
  expect_matches_golden_start(summary, golden("net-seed0"));
  EXPECT_TRUE(fs::exists(dir / "net/before.png"));
  EXPECT_FALSE(fs::exists(dir / "line")) << "net touches only its own folder";
}

TEST(Cli, AllAppliesTheCommonOptionsToBothDemos) {
  TempDir dir;
  const auto result = run(kFitreel, {"--epochs", "30", "--video", "none", "--out", dir.path()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  for (const char* demo : {"line", "net"}) {
    const nlohmann::json summary = read_json(dir / (std::string(demo) + "/summary.json"));
    EXPECT_EQ(summary["epochs_run"], 30) << demo;
    EXPECT_EQ(summary["command"], "fitreel --epochs 30 --video none --out " + dir.path());
  }
}

TEST(Cli, ARunReplacesItsDemoFolderAndNothingElse) {
  TempDir dir;
  ASSERT_EQ(run(kFitreel,
                {"line", "--epochs", "5", "--frames", "3", "--video", "png", "--out", dir.path()})
                .exit_code,
            0);
  EXPECT_TRUE(fs::exists(dir / "line/frames/frame_00002.png"));
  std::ofstream(dir / "keep.txt") << "mine";
  ASSERT_EQ(
      run(kFitreel, {"line", "--epochs", "5", "--video", "none", "--out", dir.path()}).exit_code,
      0);
  EXPECT_FALSE(fs::exists(dir / "line/frames")) << "stale frames of the earlier run";
  EXPECT_TRUE(fs::exists(dir / "line/summary.json"));
  EXPECT_EQ(read_file(dir / "keep.txt"), "mine");
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    // No lock or marker files either: fitreel locks DIR itself and marks its page inside it.
    EXPECT_NE(entry.path().filename().string().front(), '.') << "left behind: " << entry.path();
  }
}

struct BadInput {
  std::string name;
  std::vector<std::string> args;
  std::string says;  // part of the one-line error
};

void PrintTo(const BadInput& input, std::ostream* out) { *out << input.name; }

class BadInputs : public ::testing::TestWithParam<BadInput> {};

TEST_P(BadInputs, ExitTwoWithOneLineAndWriteNothing) {
  TempDir dir;
  std::vector<std::string> args = GetParam().args;
  for (auto& arg : args) {  // "FILE" stands for a regular file made here
    if (arg.rfind("FILE", 0) == 0) {
      arg = dir / ("file" + arg.substr(4));
    }
  }
  // Right after the command, so that the case's own arguments come last (--epochs with no
  // value stays at the end).
  std::vector<std::string> extra = {"--video", "none"};
  if (std::find(args.begin(), args.end(), "--out") == args.end()) {
    extra.insert(extra.end(), {"--out", dir / "out"});
  }
  args.insert(args.begin() + 1, extra.begin(), extra.end());
  std::ofstream(dir / "file") << "a regular file";
  const auto result = run(kFitreel, args);
  EXPECT_EQ(result.exit_code, 2) << result.err;
  const auto lines = lines_of(result.err);
  ASSERT_EQ(lines.size(), 1U) << result.err;
  EXPECT_EQ(lines[0].rfind("fitreel: error: ", 0), 0U) << lines[0];
  EXPECT_NE(lines[0].find("(see --help)"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(GetParam().says), std::string::npos) << lines[0];
  EXPECT_FALSE(fs::exists(dir / "out")) << "nothing is written for bad input";
  for (const auto& entry : fs::recursive_directory_iterator(dir.path())) {
    EXPECT_NE(entry.path().filename(), "summary.json");
  }
}

std::string case_name(const ::testing::TestParamInfo<BadInput>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(
    Matrix, BadInputs,
    ::testing::Values(BadInput{"EpochsZero", {"line", "--epochs", "0"}, "--epochs"},
                      BadInput{"EpochsNegative", {"line", "--epochs", "-5"}, "--epochs"},
                      BadInput{"EpochsText", {"line", "--epochs", "many"}, "--epochs"},
                      BadInput{"EpochsLeadingZero", {"line", "--epochs", "010"}, "leading zeros"},
                      BadInput{"LrZero", {"line", "--lr", "0"}, "--lr"},
                      BadInput{"LrNan", {"line", "--lr", "nan"}, "--lr"},
                      BadInput{"LrInf", {"net", "--lr", "inf"}, "--lr"},
                      BadInput{"LrNegative", {"net", "--lr", "-0.1"}, "--lr"},
                      BadInput{"PointsThree", {"line", "--points", "3"}, "--points"},
                      BadInput{"SeedNegative", {"line", "--seed", "-5"}, "--seed"},
                      BadInput{"DeviceTpu", {"line", "--device", "tpu"}, "tpu"},
                      BadInput{"DeviceCudaPastTheCount", {"line", "--device", "cuda:7"}, "cuda:7"},
                      BadInput{"DeviceMalformed", {"line", "--device", "cuda:x"}, "cuda:x"},
                      BadInput{"EpochsMissingValue", {"line", "--epochs"}, "--epochs"},
                      BadInput{"EpochsEmpty", {"line", "--epochs", ""}, "--epochs"},
                      BadInput{"PointsNan", {"line", "--points", "nan"}, "--points"},
                      BadInput{"FpsNan", {"line", "--fps", "nan"}, "--fps"},
                      BadInput{"FramesLeadingZero", {"line", "--frames", "010"}, "leading zeros"},
                      BadInput{"SeedScientific", {"line", "--seed", "1e3"}, "--seed"},
                      BadInput{"SizeMissingHeight", {"line", "--size", "1280x"}, "--size"},
                      BadInput{"PresetUnknown", {"line", "--preset", "warp"}, "--preset"},
                      BadInput{"KernelsUnknown", {"net", "--kernels", "fast"}, "--kernels"},
                      BadInput{
                          "CommandOptionForAll", {"all", "--save-model", "m.pt"}, "--save-model"},
                      BadInput{"FramesOne", {"line", "--frames", "1"}, "--frames"},
                      BadInput{"FpsZero", {"line", "--fps", "0"}, "--fps"},
                      BadInput{"SizeOdd", {"line", "--size", "1281x720"}, "--size"},
                      BadInput{"SizeTiny", {"line", "--size", "32x32"}, "--size"},
                      BadInput{"SizeMalformed", {"line", "--size", "1280*720"}, "--size"},
                      BadInput{"VideoUnknown", {"line", "--video", "mov"}, "--video"},
                      BadInput{"ScheduleUnknown", {"net", "--schedule", "cubic"}, "--schedule"},
                      BadInput{"ThreadsZero", {"net", "--threads", "0"}, "--threads"},
                      BadInput{"LogLevelUnknown", {"net", "--log-level", "loud"}, "--log-level"},
                      BadInput{"UnknownOption", {"line", "--colour", "red"}, "--colour"},
                      BadInput{"UnknownCommand", {"circle"}, "unknown command 'circle'"},
                      BadInput{"OutIsAFile", {"line", "--out", "FILE"}, "--out"},
                      BadInput{"OutBelowAFile", {"line", "--out", "FILE/below"}, "--out"}),
    case_name);

#if !FITREEL_TORCH_HAS_CUDA  // a CPU-only LibTorch can never give CUDA
TEST(Cli, CudaWithoutCudaExitsTwo) {
  TempDir dir;
  const auto result = run(kFitreel, {"line", "--device", "cuda", "--out", dir.path()});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("CUDA"), std::string::npos) << result.err;
  EXPECT_EQ(lines_of(result.err).size(), 1U) << result.err;
  EXPECT_FALSE(fs::exists(dir / "line"));
}
#endif

}  // namespace
}  // namespace fitreel
