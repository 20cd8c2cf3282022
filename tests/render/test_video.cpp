// Videos written by fitreel::render, read back by OpenCV and checked by ffprobe.
#include <fitreel/render/plot.hpp>
#include <fitreel/render/video.hpp>

#include <fitreel/files/atomic_file.hpp>

#include "process.hpp"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace fitreel::render {
namespace {

namespace fs = std::filesystem;
using fitreel::testing::TempDir;

// A recognisable frame: white, a blue block, a red bar whose position encodes the index.
cv::Mat make_frame(cv::Size size, int index) {
  cv::Mat frame(size, CV_8UC3, colors::kBackground);
  cv::rectangle(frame, {20, 20, 80, 60}, colors::kData, cv::FILLED);
  cv::rectangle(frame, {10 + index * 4, size.height - 40, 6, 30}, colors::kTruth, cv::FILLED);
  return frame;
}

std::string write_video(const TempDir& dir, VideoFormat format, int frames, cv::Size size,
                        std::string* codec = nullptr) {
  VideoSettings settings;
  settings.size = size;
  settings.fps = 25;
  OpenedVideo video = open_video(dir.path(), "clip", format, settings);
  EXPECT_EQ(video.format, format) << video.warning;
  EXPECT_TRUE(video.warning.empty()) << video.warning;
  for (int i = 0; i < frames; ++i) {
    video.sink->write(make_frame(size, i));
  }
  video.sink->finish();
  video.sink->finish();  // twice is harmless
  EXPECT_EQ(video.sink->frames(), frames);
  if (codec != nullptr) {
    *codec = video.codec;
  }
  return video.sink->path();
}

std::string probe(const std::string& path) {
  const std::string info = fitreel::testing::probe_video(path);
  EXPECT_FALSE(info.empty()) << "ffprobe cannot read " << path;
  return info;
}

int frames_read_by_opencv(const std::string& path, cv::Size* size = nullptr,
                          cv::Mat* first = nullptr) {
  cv::VideoCapture capture(path);
  EXPECT_TRUE(capture.isOpened()) << path;
  int count = 0;
  for (cv::Mat frame; capture.read(frame); ++count) {
    if (size != nullptr) {
      *size = frame.size();
    }
    if (first != nullptr && count == 0) {
      *first = frame.clone();
    }
  }
  return count;
}

TEST(Video, Mp4IsH264InYuv420pWithTheIndexFirst) {
  TempDir dir;
  std::string codec;
  const std::string path = write_video(dir, VideoFormat::mp4, 24, {320, 240}, &codec);
  EXPECT_EQ(fs::path(path).filename(), "clip.mp4");
  EXPECT_EQ(codec, "libx264");
  const std::string info = probe(path);
  EXPECT_NE(info.find("codec_name=h264"), std::string::npos) << info;
  EXPECT_NE(info.find("pix_fmt=yuv420p"), std::string::npos) << info;
  EXPECT_NE(info.find("width=320"), std::string::npos) << info;
  EXPECT_NE(info.find("nb_read_frames=24"), std::string::npos) << info;
  cv::Size size;
  cv::Mat first;
  EXPECT_EQ(frames_read_by_opencv(path, &size, &first), 24);
  EXPECT_EQ(size, cv::Size(320, 240));
  // Lossy, but the blue block is still blue and the background white.
  const cv::Vec3b blue = first.at<cv::Vec3b>(50, 60);
  EXPECT_GT(blue[0], 200);
  EXPECT_LT(blue[2], 50);
  EXPECT_GT(first.at<cv::Vec3b>(150, 200)[1], 240);
  // faststart: the index (moov) comes before the media data (mdat), so browsers can stream it.
  const std::string bytes = fitreel::testing::read_file(path);
  ASSERT_NE(bytes.find("moov"), std::string::npos);
  EXPECT_LT(bytes.find("moov"), bytes.find("mdat"));
}

TEST(Video, WebmIsVp9) {
  TempDir dir;
  const std::string path = write_video(dir, VideoFormat::webm, 10, {160, 120});
  EXPECT_EQ(fs::path(path).extension(), ".webm");
  const std::string info = probe(path);
  EXPECT_NE(info.find("codec_name=vp9"), std::string::npos) << info;
  EXPECT_NE(info.find("pix_fmt=yuv420p"), std::string::npos) << info;
  EXPECT_EQ(frames_read_by_opencv(path), 10);
}

TEST(Video, AviIsMotionJpeg) {
  TempDir dir;
  const std::string path = write_video(dir, VideoFormat::avi, 8, {160, 120});
  const std::string info = probe(path);
  EXPECT_NE(info.find("codec_name=mjpeg"), std::string::npos) << info;
  EXPECT_EQ(frames_read_by_opencv(path), 8);
}

TEST(Video, GifLoopsAndKeepsThePlotColoursExact) {
  TempDir dir;
  const std::string path = write_video(dir, VideoFormat::gif, 6, {160, 120});
  const std::string info = probe(path);
  EXPECT_NE(info.find("codec_name=gif"), std::string::npos) << info;
  EXPECT_NE(info.find("nb_read_frames=6"), std::string::npos) << info;
  // Loops forever: the NETSCAPE2.0 application extension with a loop count of 0.
  const std::string bytes = fitreel::testing::read_file(path);
  const size_t netscape = bytes.find("NETSCAPE2.0");
  ASSERT_NE(netscape, std::string::npos);
  EXPECT_EQ(bytes.substr(netscape + 11, 4), std::string("\x03\x01\x00\x00", 4));
  cv::Mat first;
  cv::Size size;
  EXPECT_EQ(frames_read_by_opencv(path, &size, &first), 6);
  EXPECT_EQ(size, cv::Size(160, 120));
  EXPECT_EQ(first.at<cv::Vec3b>(50, 60), cv::Vec3b(255, 0, 0));      // kData, exact
  EXPECT_EQ(first.at<cv::Vec3b>(100, 12), cv::Vec3b(0, 0, 255));     // kTruth, exact
  EXPECT_EQ(first.at<cv::Vec3b>(5, 150), cv::Vec3b(255, 255, 255));  // background, exact
}

TEST(Video, AMissingEncoderFallsBackToMotionJpegAviAndSaysSo) {
  TempDir dir;
  VideoSettings settings;
  settings.size = {160, 120};
  settings.encoder = "no-such-encoder";
  OpenedVideo video = open_video(dir.path(), "clip", VideoFormat::mp4, settings);
  EXPECT_EQ(video.format, VideoFormat::avi);
  EXPECT_EQ(video.codec, "mjpeg");
  EXPECT_NE(video.warning.find("no-such-encoder"), std::string::npos) << video.warning;
  EXPECT_EQ(fs::path(video.sink->path()).filename(), "clip.avi");
  video.sink->write(make_frame({160, 120}, 0));
  video.sink->finish();
  EXPECT_FALSE(fs::exists(dir / "clip.mp4")) << "no half-made file of the format that failed";
  EXPECT_NE(probe(video.sink->path()).find("codec_name=mjpeg"), std::string::npos);
}

TEST(Video, RejectsWrongFramesAndSettings) {
  TempDir dir;
  VideoSettings odd;
  odd.size = {161, 120};
  EXPECT_THROW(open_video(dir.path(), "odd", VideoFormat::mp4, odd), InputError);
  VideoSettings settings;
  settings.size = {160, 120};
  OpenedVideo video = open_video(dir.path(), "clip", VideoFormat::mp4, settings);
  EXPECT_THROW(video.sink->write(cv::Mat(100, 100, CV_8UC3)), VideoError);
  video.sink->finish();
  EXPECT_THROW(video.sink->write(make_frame({160, 120}, 0)), VideoError);
}

// The one place that decides a video's limits; open_video, Film and the CLI all use it.
TEST(VideoLimits, GifTakesFiftyFramesPerSecondTheOthersTwoHundredForty) {
  for (VideoFormat format : {VideoFormat::mp4, VideoFormat::webm, VideoFormat::avi}) {
    const VideoLimits limits = video_limits(format);
    EXPECT_EQ(limits.min_fps, 1);
    EXPECT_EQ(limits.max_fps, 240) << video_format_name(format);
    EXPECT_EQ(limits.min_side, 64);
    EXPECT_EQ(limits.max_side, 7680);
  }
  const VideoLimits gif = video_limits(VideoFormat::gif);
  EXPECT_EQ(gif.max_fps, 50) << "a frame delay of 2/100 s";
  EXPECT_NE(gif.max_fps_why.find("1/100 s"), std::string_view::npos) << gif.max_fps_why;
}

TEST(VideoLimits, CheckAcceptsTheEdgesAndRefusesJustPastThemInOneLine) {
  for (VideoFormat format :
       {VideoFormat::mp4, VideoFormat::webm, VideoFormat::avi, VideoFormat::gif}) {
    const VideoLimits limits = video_limits(format);
    const auto settings = [](int width, int height, int fps) {
      VideoSettings made;
      made.size = {width, height};
      made.fps = fps;
      return made;
    };
    EXPECT_NO_THROW(
        check_video_settings(format, settings(limits.min_side, limits.max_side, limits.min_fps)));
    EXPECT_NO_THROW(
        check_video_settings(format, settings(limits.max_side, limits.min_side, limits.max_fps)));
    struct Refused {
      VideoSettings settings;
      std::vector<std::string> parts;
    };
    const std::string fps_range =
        std::to_string(limits.min_fps) + " to " + std::to_string(limits.max_fps);
    const std::string size_range =
        std::to_string(limits.min_side) + " to " + std::to_string(limits.max_side);
    for (const Refused& refused : std::vector<Refused>{
             {settings(640, 360, limits.max_fps + 1),
              {"fps " + std::to_string(limits.max_fps + 1), "too fast", fps_range}},
             {settings(640, 360, limits.min_fps - 1), {"too slow", fps_range}},
             {settings(limits.min_side - 2, 360, 30), {"frame size", size_range, "even"}},
             {settings(640, limits.max_side + 2, 30), {size_range}},
             {settings(641, 360, 30), {"641x360", "even"}},
             {settings(640, 361, 30), {"640x361"}}}) {
      try {
        check_video_settings(format, refused.settings);
        ADD_FAILURE() << video_format_name(format) << " took " << refused.settings.size << " at "
                      << refused.settings.fps << " fps";
      } catch (const InputError& error) {
        const std::string message = error.what();
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
        EXPECT_NE(message.find(std::string(video_format_name(format)) + " video"),
                  std::string::npos)
            << message;
        for (const std::string& part : refused.parts) {
          EXPECT_NE(message.find(part), std::string::npos) << part << " in: " << message;
        }
      }
    }
  }
}

TEST(VideoLimits, OpenVideoRefusesAFastGifBeforeMakingItsFolder) {
  TempDir dir;
  VideoSettings settings;
  settings.size = {160, 120};
  settings.fps = video_limits(VideoFormat::gif).max_fps + 1;
  EXPECT_THROW(open_video(dir / "new", "clip", VideoFormat::gif, settings), InputError);
  EXPECT_FALSE(fs::exists(dir / "new"));
  // The same rate suits an mp4.
  OpenedVideo video = open_video(dir / "new", "clip", VideoFormat::mp4, settings);
  video.sink->write(make_frame(settings.size, 0));
  video.sink->finish();
  EXPECT_EQ(video.sink->frames(), 1);
}

TEST(Video, AMissingFolderIsCreated) {
  TempDir dir;
  VideoSettings settings;
  settings.size = {160, 120};
  OpenedVideo video = open_video(dir / "new/deeper", "clip", VideoFormat::mp4, settings);
  video.sink->write(make_frame({160, 120}, 0));
  video.sink->finish();
  EXPECT_EQ(testing::frames_in(dir / "new/deeper/clip.mp4"), 1);
}

TEST(Video, AFolderThatCannotBeMadeIsBlamedOnTheFolderAndLeavesNothing) {
  TempDir dir;
  std::ofstream(dir / "file") << "a file where the folder should go";
  VideoSettings settings;
  settings.size = {160, 120};
  // Blamed on the folder, not on the encoders (no fallback is tried).
  try {
    open_video(dir / "file/sub", "clip", VideoFormat::mp4, settings);
    ADD_FAILURE() << "opened a video under a file";
  } catch (const files::WriteError& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.rfind("cannot create the folder " + dir / "file/sub" + ": ", 0), 0U)
        << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(Video, FormatNamesRoundTrip) {
  for (VideoFormat f : {VideoFormat::mp4, VideoFormat::webm, VideoFormat::avi, VideoFormat::gif}) {
    EXPECT_EQ(video_format_from_name(video_format_name(f)), f);
    EXPECT_TRUE(can_encode(f)) << video_format_name(f);
  }
  EXPECT_FALSE(video_format_from_name("mov"));
  EXPECT_TRUE(is_x264_preset("ultrafast"));
  EXPECT_FALSE(is_x264_preset("warp"));
}

TEST(PngSequence, NumbersTheFrames) {
  TempDir dir;
  auto sink = make_png_sequence(dir / "frames");
  for (int i = 0; i < 3; ++i) {
    sink->write(make_frame({64, 64}, i));
  }
  sink->finish();
  EXPECT_EQ(sink->frames(), 3);
  EXPECT_TRUE(fs::exists(dir / "frames/frame_00002.png"));
  EXPECT_FALSE(fs::exists(dir / "frames/frame_00003.png"));
}

}  // namespace
}  // namespace fitreel::render
