// Beyond the seed: your own data, wider nets, other optimizers, learning-rate sweeps.
#include "json_file.hpp"
#include "process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fitreel {
namespace {

namespace fs = std::filesystem;
using testing::lines_of;
using testing::read_file;
using testing::read_json;
using testing::run;
using testing::TempDir;

const std::string kFitreel = FITREEL_EXE;

// y = 3x - 1 exactly, x = 0..n-1, with a header and a comment.
std::string write_line_csv(const TempDir& dir, int rows) {
  const std::string path = dir / "points.csv";
  std::ofstream out(path);
  out << "# y = 3x - 1\nx,y\n";
  for (int i = 0; i < rows; ++i) {
    out << i * 0.1 << "," << 3 * (i * 0.1) - 1 << "\n";
  }
  return path;
}

TEST(DataFile, TheLineFitsYourPointsAndHoldsOutTwentyPercent) {
  TempDir dir;
  const std::string csv = write_line_csv(dir, 50);
  const auto result = run(kFitreel, {"line", "--data", csv, "--epochs", "3000", "--lr", "0.5",
                                     "--video", "none", "--out", dir.path()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json summary = read_json(dir / "line/summary.json");
  EXPECT_EQ(summary["points"], 50);
  EXPECT_NEAR(summary["least_squares"][0].get<double>(), 3.0, 1e-4);
  EXPECT_NEAR(summary["least_squares"][1].get<double>(), -1.0, 1e-4);
  EXPECT_NEAR(summary["final_params"][0][0].get<double>(), 3.0, 0.05);
  EXPECT_LT(summary["test_mse"].get<double>(), 0.01);
  EXPECT_NE(result.err.find("points.csv"), std::string::npos);
  EXPECT_EQ(result.err.find("true line"), std::string::npos) << "no truth unless --truth";
}

TEST(DataFile, TheNetFitsYourPointsAndDrawsTheTruthGiven) {
  TempDir dir;
  const std::string csv = write_line_csv(dir, 40);
  const auto result = run(kFitreel, {"net", "--data", csv, "--truth", "3,-1", "--epochs", "200",
                                     "--frames", "5", "--size", "320x240", "--out", dir.path()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(read_json(dir / "net/summary.json")["points"], 40);
  EXPECT_NE(testing::probe_video(dir / "net/net.mp4").find("nb_read_frames=5"), std::string::npos);
}

TEST(DataFile, BadFilesAreBadInputNamingFileLineAndProblem) {
  TempDir dir;
  const std::string csv = dir / "bad.csv";
  std::ofstream(csv) << "x,y\n1,2\n3,oops\n";
  const auto result = run(kFitreel, {"line", "--data", csv, "--out", dir / "out"});
  EXPECT_EQ(result.exit_code, 2);
  ASSERT_EQ(lines_of(result.err).size(), 1U) << result.err;
  EXPECT_NE(result.err.find("bad.csv:3:"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("'oops'"), std::string::npos) << result.err;
  EXPECT_FALSE(fs::exists(dir / "out"));
  const auto missing = run(kFitreel, {"net", "--data", dir / "none.csv", "--out", dir / "out"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("none.csv: cannot open"), std::string::npos) << missing.err;
  const auto both = run(kFitreel, {"line", "--data", csv, "--points", "50", "--out", dir / "out"});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.err.find("--points"), std::string::npos) << both.err;
}

TEST(WiderNets, HiddenActivationAndOptimizerShapeTheModel) {
  TempDir dir;
  const auto result =
      run(kFitreel, {"net", "--hidden", "8,4", "--activation", "tanh", "--optimizer", "adam",
                     "--lr", "0.01", "--epochs", "2000", "--seed", "1", "--points", "60", "--video",
                     "none", "--out", dir.path()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json summary = read_json(dir / "net/summary.json");
  EXPECT_EQ(summary["model"], "1-8-4-1 tanh");
  EXPECT_EQ(summary["optimizer"], "adam");
  ASSERT_EQ(summary["final_params"].size(), 6U);
  // The same numbers as Python PyTorch (tests/golden/net-h8-4-tanh-adam.json; 2.x: pytorch2/).
  const nlohmann::json golden =
      read_json(std::string(FITREEL_ADAM_GOLDEN_DIR) + "/net-h8-4-tanh-adam.json");
  EXPECT_EQ(summary["initial_params"], golden["initial_params"]);
  const double want = golden["loss_at_epoch"]["1999"];
  EXPECT_LE(std::abs(summary["loss_at_epoch"]["1999"].get<double>() - want), 1e-5 * want);
}

TEST(WiderNets, BadShapesAreBadInput) {
  TempDir dir;
  for (const std::vector<std::string>& args : {std::vector<std::string>{"net", "--hidden", "0"},
                                               {"net", "--hidden", "4,,2"},
                                               {"net", "--hidden", "x"},
                                               {"net", "--activation", "swish"},
                                               {"line", "--optimizer", "lbfgs"},
                                               {"line", "--truth", "1"},
                                               {"line", "--truth", "nan,1"}}) {
    std::vector<std::string> full = args;
    full.insert(full.end(), {"--out", dir / "out"});
    const auto result = run(kFitreel, full);
    EXPECT_EQ(result.exit_code, 2) << args[1] << " " << args[2] << ": " << result.err;
    EXPECT_EQ(lines_of(result.err).size(), 1U) << result.err;
  }
  EXPECT_FALSE(fs::exists(dir / "out"));
}

TEST(Sweep, OneModelPerRateInAGridVideoWithJsonAndChart) {
  TempDir dir;
  const auto result = run(kFitreel, {"sweep", "line", "--lrs", "0.01,0.1,1,1e30", "--epochs", "300",
                                     "--frames", "24", "--size", "640x360", "--out", dir.path()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string folder = dir / "sweep-line";
  const std::string info = testing::probe_video(folder + "/sweep-line.mp4");
  EXPECT_NE(info.find("nb_read_frames=24"), std::string::npos) << info;
  EXPECT_NE(info.find("width=640"), std::string::npos) << info;
  EXPECT_TRUE(fs::file_size(folder + "/sweep.png") > 1000);
  const nlohmann::json sweep = read_json(folder + "/sweep.json");
  EXPECT_EQ(sweep["demo"], "line");
  ASSERT_EQ(sweep["runs"].size(), 4U);
  EXPECT_EQ(sweep["frames"], 24);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(sweep["runs"][i]["diverged"], false) << i;
    EXPECT_TRUE(sweep["runs"][i]["final_loss"].is_number());
  }
  EXPECT_EQ(sweep["runs"][3]["lr"], 1e30);
  EXPECT_EQ(sweep["runs"][3]["diverged"], true) << "a diverging rate does not stop the sweep";

  // Each rate equals the single run with that rate: same seed, same data, same start.
  ASSERT_EQ(run(kFitreel, {"line", "--lr", "0.1", "--epochs", "300", "--video", "none", "--out",
                           dir / "single"})
                .exit_code,
            0);
  // Trained in one batch, whose kernels sum in another order: equal within the batch contract.
  const nlohmann::json single = read_json(dir / "single/line/summary.json");
  const double loss = single["loss_at_epoch"]["299"].get<double>();
  EXPECT_NEAR(sweep["runs"][1]["final_loss"].get<double>(), loss, 1e-5 * loss);
  for (size_t p = 0; p < 2; ++p) {
    const double expected = single["final_params"][p][0].get<double>();
    EXPECT_NEAR(sweep["runs"][1]["final_params"][p][0].get<double>(), expected,
                1e-3 * (1 + std::abs(expected)))
        << "parameter " << p;
  }
}

// A sweep's model and `net --kernels fused` with its rate run the same kernels on the same
// numbers: equal bit for bit, also at lr 1, where the net's training is chaotic and the exact
// path (the demos' default) parts from both.
TEST(Sweep, EachModelIsItsFusedSingleRunBitForBit) {
  TempDir dir;
  ASSERT_EQ(run(kFitreel, {"sweep", "net", "--lrs", "0.1,1", "--epochs", "500", "--video", "none",
                           "--out", dir.path()})
                .exit_code,
            0);
  const nlohmann::json sweep = read_json(dir / "sweep-net/sweep.json");
  ASSERT_EQ(sweep["runs"].size(), 2U);
  for (const char* kernels : {"fused", "exact"}) {
    const std::string out = dir / kernels;
    const auto result = run(kFitreel, {"net", "--kernels", kernels, "--lr", "1", "--epochs", "500",
                                       "--video", "none", "--out", out});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const nlohmann::json single = read_json(out + "/net/summary.json");
    EXPECT_EQ(single["kernels"], kernels);
    if (std::string(kernels) == "fused") {
      EXPECT_EQ(single["final_params"], sweep["runs"][1]["final_params"]);
      EXPECT_EQ(single["loss_at_epoch"]["499"], sweep["runs"][1]["final_loss"]);
    }
  }
  TempDir plain;
  ASSERT_EQ(
      run(kFitreel, {"net", "--epochs", "5", "--video", "none", "--out", plain.path()}).exit_code,
      0);
  EXPECT_EQ(read_json(plain / "net/summary.json")["kernels"], "exact") << "the demos' default";
}

TEST(Sweep, NeedsADemoAndRates) {
  TempDir dir;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"sweep"},
        {"sweep", "circle"},
        {"sweep", "net", "--lrs", "0.1,-1"},
        {"sweep", "net", "--lrs", ""},
        {"sweep", "net", "--seeds", "5..2"},
        {"sweep", "net", "--seeds", "1,2,1"},
        {"sweep", "net", "--seeds", "0..299"},
        {"sweep", "net", "--seeds", "0..99", "--lrs", "0.1,0.2,0.3"},
        {"sweep", "net", "--seeds", "0..3", "--seed", "1"}}) {
    std::vector<std::string> full = args;
    full.insert(full.end(), {"--out", dir / "out"});
    const auto result = run(kFitreel, full);
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_EQ(lines_of(result.err).size(), 1U) << result.err;
  }
  EXPECT_FALSE(fs::exists(dir / "out"));
}

// Each (seed, rate) model trained in the batch ends where its single run ends: the batched
// trainer sums in another order, so within the parity contract's tolerance for batches.
TEST(Sweep, SeedsCrossedWithRatesTrainInOneBatchAsTheirSingleRuns) {
  TempDir dir;
  const auto result = run(kFitreel, {"sweep", "line", "--seeds", "0..2", "--lrs", "0.01,0.1",
                                     "--epochs", "300", "--video", "none", "--out", dir.path()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json sweep = read_json(dir / "sweep-line/sweep.json");
  EXPECT_EQ(sweep["batched"], true);
  ASSERT_EQ(sweep["runs"].size(), 6U);
  EXPECT_EQ(sweep["runs"][3]["seed"], 1);  // seeds outer, rates inner
  EXPECT_EQ(sweep["runs"][3]["lr"], 0.1);
  ASSERT_EQ(run(kFitreel, {"line", "--seed", "1", "--lr", "0.1", "--epochs", "300", "--video",
                           "none", "--out", dir / "single"})
                .exit_code,
            0);
  const double single =
      read_json(dir / "single/line/summary.json")["loss_at_epoch"]["299"].get<double>();
  EXPECT_NEAR(sweep["runs"][3]["final_loss"].get<double>(), single, 1e-5 * single);
}

TEST(Sweep, BeyondSixteenModelsTheGridShowsSixteenSpreadOverTheLosses) {
  TempDir dir;
  const auto result =
      run(kFitreel, {"sweep", "net", "--seeds", "0..19", "--epochs", "50", "--frames", "3",
                     "--video", "png", "--size", "640x360", "--out", dir.path()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json sweep = read_json(dir / "sweep-net/sweep.json");
  ASSERT_EQ(sweep["runs"].size(), 20U);
  int in_video = 0;
  for (const auto& r : sweep["runs"]) {
    in_video += r["in_video"].get<bool>() ? 1 : 0;
  }
  EXPECT_EQ(in_video, 16);
  EXPECT_TRUE(fs::exists(dir / "sweep-net/frames/frame_00002.png"));
}

// Issue 22: the training set-up of a PyTorch loop from the command line, and a run that goes
// on where a saved one stopped.
TEST(Training, LossBatchesMomentumDecayAndScheduleReachTheRun) {
  TempDir dir;
  for (const char* option :
       {"--loss", "--batch-size", "--momentum", "--weight-decay", "--lr-schedule"}) {
    EXPECT_NE(run(kFitreel, {"net", "--help"}).out.find(option), std::string::npos) << option;
  }
  const std::vector<std::string> common{"net",  "--epochs",    "200",    "--video",
                                        "none", "--optimizer", "sgd",    "--lr",
                                        "1e-5", "--out",       dir / "a"};
  std::vector<std::string> args = common;
  args.insert(args.end(), {"--loss", "huber:2", "--batch-size", "16", "--momentum", "0.9",
                           "--weight-decay", "1e-3", "--lr-schedule", "step:50:0.5"});
  const auto result = run(kFitreel, args);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json summary = read_json(dir / "a/net/summary.json");
  EXPECT_EQ(summary["loss"], "huber");
  EXPECT_EQ(summary["batch_size"], 16);
  EXPECT_EQ(summary["lr_schedule"], "step");
  EXPECT_NE(result.err.find("mini-batches of 16"), std::string::npos) << result.err;
  // The same without the options trains to other numbers: they are not ignored.
  const auto plain = run(kFitreel, common);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_NE(read_json(dir / "a/net/summary.json")["final_params"], summary["final_params"]);
}

TEST(Training, BadTrainingOptionsAreOneLineAndExitTwo) {
  TempDir dir;
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"net", "--momentum", "0.9"},  // adagrad has no momentum
        {"net", "--optimizer", "sgd", "--momentum", "-1"},
        {"line", "--loss", "l2"},
        {"line", "--loss", "l1:3"},
        {"line", "--batch-size", "-4"},
        {"line", "--weight-decay", "nan"},
        {"line", "--lr-schedule", "step:0:0.5"},
        {"line", "--lr-schedule", "exp"},
        {"line", "--lr-schedule", "cosine:-1"}}) {
    std::vector<std::string> args = bad;
    args.insert(args.end(), {"--out", dir / "out"});
    const auto result = run(kFitreel, args);
    EXPECT_EQ(result.exit_code, 2) << bad[1] << " " << bad.back() << ": " << result.err;
    EXPECT_EQ(lines_of(result.err).size(), 1U) << result.err;
    EXPECT_FALSE(fs::exists(dir / "out"));
  }
}

TEST(Training, LoadModelGoesOnFromTheSavedEpochWithTheOptimizersState) {
  TempDir dir;
  const std::vector<std::string> adam{"net",  "--optimizer", "adam", "--lr",
                                      "0.01", "--video",     "none"};
  const auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> args = adam;
    args.insert(args.end(), more.begin(), more.end());
    return run(kFitreel, args);
  };
  ASSERT_EQ(with({"--epochs", "600", "--out", dir / "straight"}).exit_code, 0);
  ASSERT_EQ(
      with({"--epochs", "300", "--out", dir / "first", "--save-model", dir / "m.pt"}).exit_code, 0);
  const auto second =
      with({"--epochs", "300", "--out", dir / "second", "--load-model", dir / "m.pt"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.err.find("going on from epoch 300 with adam's state"), std::string::npos)
      << second.err;
  const nlohmann::json resumed = read_json(dir / "second/net/summary.json");
  EXPECT_EQ(resumed["resumed_at_epoch"], 300);
  EXPECT_EQ(resumed["final_params"], read_json(dir / "straight/net/summary.json")["final_params"])
      << "300 + 300 epochs are 600 epochs, bit for bit";
  const auto other = run(kFitreel, {"net", "--epochs", "5", "--video", "none", "--out",
                                    dir / "third", "--load-model", dir / "m.pt"});
  EXPECT_EQ(other.exit_code, 2) << "adam's state with adagrad: " << other.err;
  EXPECT_NE(other.err.find("--optimizer adam"), std::string::npos) << other.err;
}

}  // namespace
}  // namespace fitreel
