// Video files through FFmpeg's own libraries (libavcodec, libavformat, libswscale): unlike
// OpenCV's VideoWriter they let us choose the x264 preset, put the MP4 index at the front
// (faststart, so browsers can play while downloading) and tag the colour space.
#include <fitreel/render/video.hpp>

#include <fitreel/files/atomic_file.hpp>

#include "gif_palette.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <optional>
#include <thread>
#include <vector>

namespace fitreel::render {

std::string_view video_format_name(VideoFormat format) {
  switch (format) {
    case VideoFormat::mp4:
      return "mp4";
    case VideoFormat::webm:
      return "webm";
    case VideoFormat::avi:
      return "avi";
    case VideoFormat::gif:
      return "gif";
  }
  return "?";
}

std::optional<VideoFormat> video_format_from_name(std::string_view name) {
  for (VideoFormat f : {VideoFormat::mp4, VideoFormat::webm, VideoFormat::avi, VideoFormat::gif}) {
    if (video_format_name(f) == name) {
      return f;
    }
  }
  return std::nullopt;
}

std::optional<VideoFormat> video_format_of(const std::filesystem::path& path) {
  const std::string extension = path.extension().string();
  if (extension.size() < 2) {
    return std::nullopt;
  }
  return video_format_from_name(std::string_view(extension).substr(1));
}

bool is_x264_preset(std::string_view preset) {
  for (const char* known : {"ultrafast", "superfast", "veryfast", "faster", "fast", "medium",
                            "slow", "slower", "veryslow"}) {
    if (preset == known) {
      return true;
    }
  }
  return false;
}

VideoLimits video_limits(VideoFormat format) {
  VideoLimits limits;
  limits.max_fps_why = "displays show no more frames than that";
  if (format == VideoFormat::gif) {
    // A GIF frame waits a whole number of 1/100 s, and players (and FFmpeg) show a wait under
    // 2/100 s as 1/10 s; FFmpeg's muxer fails outright from about 110 fps.
    limits.max_fps = 50;
    limits.max_fps_why =
        "GIF frame delays are whole 1/100 s, and players slow delays under 2/100 s down to "
        "1/10 s";
  }
  return limits;
}

void check_video_settings(VideoFormat format, const VideoSettings& settings) {
  const VideoLimits limits = video_limits(format);
  const std::string video = std::string(format == VideoFormat::avi ? "an " : "a ") +
                            std::string(video_format_name(format)) + " video";
  if (settings.fps < limits.min_fps || settings.fps > limits.max_fps) {
    throw InputError("fps " + std::to_string(settings.fps) + " is too " +
                     (settings.fps < limits.min_fps ? "slow" : "fast") + " for " + video +
                     ": it takes " + std::to_string(limits.min_fps) + " to " +
                     std::to_string(limits.max_fps) + " frames per second (" +
                     (settings.fps < limits.min_fps ? std::string("a whole frame a second at least")
                                                    : std::string(limits.max_fps_why)) +
                     ")");
  }
  const int width = settings.size.width;
  const int height = settings.size.height;
  const auto fits = [&](int side) {
    return side >= limits.min_side && side <= limits.max_side && side % 2 == 0;
  };
  if (!fits(width) || !fits(height)) {
    throw InputError("frame size " + std::to_string(width) + "x" + std::to_string(height) +
                     " does not suit " + video + ": it takes a width and a height from " +
                     std::to_string(limits.min_side) + " to " + std::to_string(limits.max_side) +
                     " pixels, both even (the encoders keep colour at half the size), e.g. "
                     "1280x720");
  }
}

namespace {

std::string av_error(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof text);
  return text;
}

void check(int code, const std::string& what) {
  if (code < 0) {
    throw VideoError(what + ": " + av_error(code));
  }
}

// One encoder a format can use, and how to set it up.
struct Encoder {
  const char* name;
  AVPixelFormat pixel_format;
};

std::vector<Encoder> encoders_for(VideoFormat format) {
  switch (format) {
    case VideoFormat::mp4:
      return {{"libx264", AV_PIX_FMT_YUV420P}, {"libopenh264", AV_PIX_FMT_YUV420P}};
    case VideoFormat::webm:
      return {{"libvpx-vp9", AV_PIX_FMT_YUV420P}, {"libvpx", AV_PIX_FMT_YUV420P}};
    case VideoFormat::avi:
      return {{"mjpeg", AV_PIX_FMT_YUVJ420P}};
    case VideoFormat::gif:
      return {{"gif", AV_PIX_FMT_PAL8}};
  }
  return {};
}

void copy_plane(const uint8_t* source, int source_stride, int width, int height, uint8_t* target,
                int target_stride) {
  for (int row = 0; row < height; ++row) {
    std::memcpy(target + static_cast<ptrdiff_t>(row) * target_stride,
                source + static_cast<ptrdiff_t>(row) * source_stride, static_cast<size_t>(width));
  }
}

class FfmpegVideo final : public FrameSink {
 public:
  FfmpegVideo(const files::Folder& folder, const std::string& name, VideoFormat format,
              const Encoder& encoder, const VideoSettings& settings)
      : path_(folder.path_of(name).string()), file_(folder, name), size_(settings.size) {
    try {
      open(format, encoder, settings);
    } catch (...) {
      release();  // file_ then removes the temporary file: nothing half-written is left
      throw;
    }
  }

  ~FfmpegVideo() override { release(); }

  void write(const cv::Mat& bgr) override {
    if (finished_) {
      throw VideoError("write after finish to " + path_);
    }
    if (bgr.size() != size_ || bgr.type() != CV_8UC3 || !bgr.isContinuous()) {
      throw VideoError("frame of the wrong size or type for " + path_);
    }
    check(av_frame_make_writable(frame_), "frame buffer");
    if (palette_) {
      palette_->map(bgr, frame_->data[0], frame_->linesize[0]);
    } else if (frame_->format == AV_PIX_FMT_YUV420P) {
      // OpenCV's converter is several times quicker than swscale's for BGR24 (BT.601 matrix).
      cv::cvtColor(bgr, yuv_, cv::COLOR_BGR2YUV_I420);
      copy_plane(yuv_.data, size_.width, size_.width, size_.height, frame_->data[0],
                 frame_->linesize[0]);
      const uint8_t* u = yuv_.data + static_cast<ptrdiff_t>(size_.width) * size_.height;
      const uint8_t* v = u + static_cast<ptrdiff_t>(size_.width / 2) * (size_.height / 2);
      copy_plane(u, size_.width / 2, size_.width / 2, size_.height / 2, frame_->data[1],
                 frame_->linesize[1]);
      copy_plane(v, size_.width / 2, size_.width / 2, size_.height / 2, frame_->data[2],
                 frame_->linesize[2]);
    } else {
      const uint8_t* source[1] = {bgr.data};
      const int stride[1] = {static_cast<int>(bgr.step)};
      sws_scale(converter_, source, stride, 0, size_.height, frame_->data, frame_->linesize);
    }
    frame_->pts = frames_++;
    encode(frame_);
  }

  void finish() override {
    if (finished_) {
      return;
    }
    finished_ = true;
    encode(nullptr);  // flush the frames the encoder holds back
    check(av_write_trailer(container_), "finishing " + path_);
    release();
    file_.commit();  // the whole video appears under its name, or nothing does
  }

  const std::string& path() const override { return path_; }
  int64_t frames() const override { return frames_; }
  cv::Size frame_size() const override { return size_; }

 private:
  void open(VideoFormat format, const Encoder& encoder, const VideoSettings& settings) {
    const AVCodec* codec = avcodec_find_encoder_by_name(encoder.name);
    if (codec == nullptr) {
      throw VideoError(std::string("no ") + encoder.name + " encoder in this FFmpeg");
    }
    const std::string muxer(video_format_name(format));
    check(avformat_alloc_output_context2(&container_, nullptr, muxer.c_str(),
                                         file_.temporary_path().c_str()),
          "container for " + path_);
    stream_ = avformat_new_stream(container_, nullptr);
    context_ = avcodec_alloc_context3(codec);
    if (stream_ == nullptr || context_ == nullptr) {
      throw VideoError("out of memory opening " + path_);
    }
    context_->width = size_.width;
    context_->height = size_.height;
    context_->time_base = AVRational{1, settings.fps};
    context_->framerate = AVRational{settings.fps, 1};
    context_->pix_fmt = encoder.pixel_format;
    context_->gop_size = 2 * settings.fps;  // a key frame every 2 s keeps seeking quick
    // One core stays for training and drawing, which run at the same time as the encoder.
    context_->thread_count = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) - 1);
    // Untagged HD video is taken for BT.709 by browsers; the frames are converted with
    // BT.601's matrix (OpenCV's), so say so, with sRGB's (= BT.709's) primaries.
    const bool jpeg = encoder.pixel_format == AV_PIX_FMT_YUVJ420P;
    context_->color_range = jpeg ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
    if (encoder.pixel_format == AV_PIX_FMT_YUV420P) {
      context_->colorspace = AVCOL_SPC_SMPTE170M;
      context_->color_primaries = AVCOL_PRI_BT709;
      context_->color_trc = AVCOL_TRC_BT709;
    }
    if (container_->oformat->flags & AVFMT_GLOBALHEADER) {
      context_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    }
    AVDictionary* codec_options = nullptr;
    const std::string name = encoder.name;
    if (name == "libx264") {
      av_dict_set(&codec_options, "preset", settings.preset.c_str(), 0);
      av_dict_set(&codec_options, "crf", "23", 0);
    } else if (name == "libvpx-vp9" || name == "libvpx") {
      // libvpx's defaults take seconds per frame; realtime mode is fast and fine for plots.
      av_dict_set(&codec_options, "deadline", "realtime", 0);
      av_dict_set(&codec_options, "cpu-used", "8", 0);
      av_dict_set(&codec_options, "crf", "30", 0);
      av_dict_set(&codec_options, "b", "2M", 0);
      av_dict_set(&codec_options, "row-mt", "1", 0);
    } else if (jpeg) {
      context_->flags |= AV_CODEC_FLAG_QSCALE;
      context_->global_quality = FF_QP2LAMBDA * 3;
    }
    const int opened = avcodec_open2(context_, codec, &codec_options);
    av_dict_free(&codec_options);
    check(opened, std::string("opening the ") + encoder.name + " encoder");
    check(avcodec_parameters_from_context(stream_->codecpar, context_), "stream parameters");
    stream_->time_base = context_->time_base;

    check(avio_open(&container_->pb, file_.temporary_path().c_str(), AVIO_FLAG_WRITE),
          "creating " + path_);
    AVDictionary* muxer_options = nullptr;
    if (format == VideoFormat::mp4) {
      av_dict_set(&muxer_options, "movflags", "+faststart", 0);
    }
    const int header = avformat_write_header(container_, &muxer_options);
    av_dict_free(&muxer_options);
    check(header, "writing the header of " + path_);

    frame_ = av_frame_alloc();
    packet_ = av_packet_alloc();
    if (frame_ == nullptr || packet_ == nullptr) {
      throw VideoError("out of memory opening " + path_);
    }
    frame_->format = encoder.pixel_format;
    frame_->width = size_.width;
    frame_->height = size_.height;
    check(av_frame_get_buffer(frame_, 0), "frame buffer");
    if (encoder.pixel_format == AV_PIX_FMT_PAL8) {
      palette_ = std::make_unique<GifPalette>();
      palette_->write_palette(frame_->data[1]);
    } else if (encoder.pixel_format != AV_PIX_FMT_YUV420P) {
      converter_ =
          sws_getContext(size_.width, size_.height, AV_PIX_FMT_BGR24, size_.width, size_.height,
                         encoder.pixel_format, SWS_POINT, nullptr, nullptr, nullptr);
      if (converter_ == nullptr) {
        throw VideoError("no colour conversion to the encoder's pixel format");
      }
      const int* bt601 = sws_getCoefficients(SWS_CS_ITU601);
      sws_setColorspaceDetails(converter_, bt601, 1, bt601, 1, 0, 1 << 16, 1 << 16);
    }
  }

  void encode(const AVFrame* frame) {
    check(avcodec_send_frame(context_, frame), "encoding a frame of " + path_);
    while (true) {
      const int received = avcodec_receive_packet(context_, packet_);
      if (received == AVERROR(EAGAIN) || received == AVERROR_EOF) {
        return;
      }
      check(received, "encoding " + path_);
      if (packet_->duration == 0) {
        packet_->duration = 1;  // one frame: without it the last frame gets no time to show
      }
      av_packet_rescale_ts(packet_, context_->time_base, stream_->time_base);
      packet_->stream_index = stream_->index;
      check(av_interleaved_write_frame(container_, packet_), "writing " + path_);
    }
  }

  void release() {
    sws_freeContext(converter_);
    converter_ = nullptr;
    av_frame_free(&frame_);
    av_packet_free(&packet_);
    avcodec_free_context(&context_);
    if (container_ != nullptr) {
      if (container_->pb != nullptr) {
        avio_closep(&container_->pb);
      }
      avformat_free_context(container_);
      container_ = nullptr;
    }
  }

  std::string path_;
  files::AtomicFile file_;  // FFmpeg writes (and, for faststart, rereads) its temporary name
  cv::Size size_;
  AVFormatContext* container_ = nullptr;
  AVStream* stream_ = nullptr;
  AVCodecContext* context_ = nullptr;
  AVFrame* frame_ = nullptr;
  AVPacket* packet_ = nullptr;
  SwsContext* converter_ = nullptr;
  std::unique_ptr<GifPalette> palette_;
  cv::Mat yuv_;  // I420 planes of the frame being converted
  int64_t frames_ = 0;
  bool finished_ = false;
};

void quiet_ffmpeg() {
  // FFmpeg logs to stderr on its own (x264's statistics, for one); errors reach the caller as
  // VideoError instead.
  av_log_set_level(AV_LOG_QUIET);
}

}  // namespace

bool can_encode(VideoFormat format) {
  for (const Encoder& encoder : encoders_for(format)) {
    if (avcodec_find_encoder_by_name(encoder.name) != nullptr) {
      return true;
    }
  }
  return false;
}

OpenedVideo open_video(const std::string& folder, const std::string& stem, VideoFormat format,
                       const VideoSettings& settings) {
  check_video_settings(format, settings);
  // A missing folder is made here, so its absence is not blamed on every encoder in turn.
  std::optional<files::Folder> opened;
  try {
    opened.emplace(files::Folder::open_or_create(folder.empty() ? "." : folder));
  } catch (const files::FileError& error) {
    throw files::WriteError(error.what());
  }
  return open_video(*opened, stem, format, settings);
}

OpenedVideo open_video(const files::Folder& folder, const std::string& stem, VideoFormat format,
                       const VideoSettings& settings) {
  check_video_settings(format, settings);
  quiet_ffmpeg();
  // What to try, in order: the format's encoders (or the one asked for), then Motion JPEG AVI,
  // which every FFmpeg has.
  std::vector<std::pair<VideoFormat, Encoder>> attempts;
  if (settings.encoder.empty()) {
    for (const Encoder& encoder : encoders_for(format)) {
      attempts.emplace_back(format, encoder);
    }
  } else {
    attempts.emplace_back(
        format, Encoder{settings.encoder.c_str(), encoders_for(format).front().pixel_format});
  }
  if (format != VideoFormat::avi || !settings.encoder.empty()) {
    attempts.emplace_back(VideoFormat::avi, encoders_for(VideoFormat::avi).front());
  }
  std::string failures;
  for (const auto& [candidate, encoder] : attempts) {
    const std::string name = stem + "." + std::string(video_format_name(candidate));
    try {
      OpenedVideo opened{std::make_unique<FfmpegVideo>(folder, name, candidate, encoder, settings),
                         candidate, encoder.name, ""};
      if (!failures.empty()) {
        opened.warning = "cannot write " + std::string(video_format_name(format)) + " (" +
                         failures + "); wrote Motion JPEG AVI instead";
      }
      return opened;
    } catch (const VideoError& error) {
      failures += std::string(failures.empty() ? "" : "; ") + error.what();
    }
  }
  throw VideoError("no video encoder works here: " + failures);
}

}  // namespace fitreel::render
