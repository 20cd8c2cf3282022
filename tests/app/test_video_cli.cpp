// What `fitreel` leaves behind for people to watch: stills, videos, and the --show window.
#include "json_file.hpp"
#include "process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace fitreel {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::run;
using testing::summary_of;
using testing::TempDir;

const std::string kFitreel = FITREEL_EXE;

std::string probe(const std::string& path) {
  const std::string info = testing::probe_video(path);
  EXPECT_FALSE(info.empty()) << "ffprobe cannot read " << path;
  return info;
}

TEST(VideoCli, DefaultRunMakesThreeHundredFrameHdVideosThatBrowsersPlay) {
  TempDir dir;
  const auto result = run(kFitreel, {"--out", dir.path(), "-q"});  // `fitreel all`, defaults
  ASSERT_EQ(result.exit_code, 0) << result.err;
  for (const std::string demo : {"line", "net"}) {
    const std::string folder = dir / demo;
    const std::string info = probe(folder + "/" + demo + ".mp4");
    for (const char* want :
         {"codec_name=h264", "pix_fmt=yuv420p", "width=1280", "height=720", "nb_read_frames=300"}) {
      EXPECT_NE(info.find(want), std::string::npos) << demo << ": " << info;
    }
    const nlohmann::json summary = summary_of(folder);
    EXPECT_EQ(summary["frames"], 300);
    EXPECT_EQ(summary["video"], folder + "/" + demo + ".mp4");
    for (const char* still : {"before.png", "after.png", "loss.csv"}) {
      EXPECT_TRUE(fs::exists(folder + "/" + still)) << demo << " " << still;
    }
  }
  EXPECT_TRUE(fs::exists(dir / "line/data.png"));
  EXPECT_TRUE(fs::exists(dir / "line/truth.png"));
}

TEST(VideoCli, FramesAndSizeAreHonoured) {
  TempDir dir;
  ASSERT_EQ(run(kFitreel, {"net", "--epochs", "60", "--frames", "20", "--size", "320x240", "--fps",
                           "10", "--out", dir.path()})
                .exit_code,
            0);
  const std::string info = probe(dir / "net/net.mp4");
  EXPECT_NE(info.find("nb_read_frames=20"), std::string::npos) << info;
  EXPECT_NE(info.find("width=320"), std::string::npos) << info;
  EXPECT_EQ(summary_of(dir / "net")["frames"], 20);
}

TEST(VideoCli, MoreFramesThanEpochsGivesOnePerEpoch) {
  TempDir dir;
  ASSERT_EQ(
      run(kFitreel, {"line", "--epochs", "7", "--size", "160x120", "--out", dir.path()}).exit_code,
      0);
  EXPECT_NE(probe(dir / "line/line.mp4").find("nb_read_frames=7"), std::string::npos);
  EXPECT_EQ(summary_of(dir / "line")["frames"], 7);
}

struct FormatCase {
  std::string video;
  std::string file;
  std::string codec;
};

class VideoFormats : public ::testing::TestWithParam<FormatCase> {};

void PrintTo(const FormatCase& c, std::ostream* out) { *out << c.video; }

TEST_P(VideoFormats, WriteTheFileTheyName) {
  TempDir dir;
  const auto result = run(kFitreel, {"net", "--epochs", "40", "--frames", "12", "--size", "160x120",
                                     "--video", GetParam().video, "--out", dir.path()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string path = dir / ("net/" + GetParam().file);
  EXPECT_EQ(summary_of(dir / "net")["video"], path);
  const std::string info = probe(path);
  EXPECT_NE(info.find("codec_name=" + GetParam().codec), std::string::npos) << info;
  EXPECT_NE(info.find("nb_read_frames=12"), std::string::npos) << info;
}

INSTANTIATE_TEST_SUITE_P(All, VideoFormats,
                         ::testing::Values(FormatCase{"webm", "net.webm", "vp9"},
                                           FormatCase{"avi", "net.avi", "mjpeg"},
                                           FormatCase{"gif", "net.gif", "gif"}),
                         [](const auto& param_info) { return param_info.param.video; });

TEST(VideoCli, PngWritesNumberedFrames) {
  TempDir dir;
  ASSERT_EQ(run(kFitreel, {"line", "--epochs", "30", "--frames", "5", "--size", "160x120",
                           "--video", "png", "--out", dir.path()})
                .exit_code,
            0);
  EXPECT_EQ(summary_of(dir / "line")["video"], dir / "line/frames");
  EXPECT_TRUE(fs::exists(dir / "line/frames/frame_00004.png"));
  EXPECT_FALSE(fs::exists(dir / "line/frames/frame_00005.png"));
}

TEST(ShowWindow, WithoutADisplayExitsTwoBeforeTraining) {
  TempDir dir;
  for (const std::optional<std::string>& display :
       {std::optional<std::string>(), std::optional<std::string>(":97")}) {
    testing::ProcessOptions options;
    options.env["DISPLAY"] = display;
    options.env["WAYLAND_DISPLAY"] = std::nullopt;
    const auto result = run(kFitreel, {"line", "--show", "--out", dir / "out"}, options);
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_NE(result.err.find("display"), std::string::npos) << result.err;
    EXPECT_EQ(testing::lines_of(result.err).size(), 1U) << result.err;
    EXPECT_FALSE(fs::exists(dir / "out"));
  }
}

TEST(ShowWindow, OpensAndClosesUnderXvfb) {
  TempDir dir;
  // On this shared host xvfb-run now and then hands over a display that takes no connection
  // (measured: 3 of 19 runs, "cannot reach the display DISPLAY=:99" within a second, also
  // outside any test). fitreel then refuses before training, as it should; that report alone
  // gets two more tries.
  const std::vector<std::string> args = {"-a",      kFitreel,   "net",   "--show",  "--epochs",
                                         "300",     "--frames", "30",    "--size",  "320x240",
                                         "--video", "none",     "--out", dir.path()};
  auto result = run(FITREEL_XVFB_RUN, args);
  for (int retry = 0; retry < 2 && result.err.find("cannot reach the display") != std::string::npos;
       ++retry) {
    result = run(FITREEL_XVFB_RUN, args);
  }
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(fs::exists(dir / "net/summary.json"));
  EXPECT_EQ(summary_of(dir / "net")["frames"], 30) << "frames drawn for the window";
}

}  // namespace
}  // namespace fitreel
