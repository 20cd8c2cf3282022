// fitreel::Film: a run filmed through the library's one call, for a module of the user's own
// as for a Sequential; the files it writes, only those, atomically; its errors.

#include <fitreel/files/result_folder.hpp>
#include <fitreel/fitreel.hpp>

#include <opencv2/imgcodecs.hpp>

#include "json_file.hpp"
#include "process.hpp"

#include <gtest/gtest.h>
#include <sys/mount.h>

#include <filesystem>
#include <fstream>
#include <set>

namespace fitreel {
namespace {

namespace fs = std::filesystem;

// A module of the user's own (not a Sequential): 1 -> 8 -> 1 with tanh.
struct CubicNetImpl : torch::nn::Module {
  torch::nn::Linear fc1{register_module("fc1", torch::nn::Linear(1, 8))};
  torch::nn::Linear out{register_module("out", torch::nn::Linear(8, 1))};
  torch::Tensor forward(torch::Tensor x) { return out(torch::tanh(fc1(x))); }
};
TORCH_MODULE(CubicNet);

class FilmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("fitreel_film_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    torch::manual_seed(0);
    const torch::Tensor x = torch::rand({200, 1}) * 4 - 2;
    data_ = Dataset{x, x.pow(3) - 2 * x};
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::set<std::string> files_in(const fs::path& folder) const {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(folder)) {
      names.insert(entry.path().filename().string());
    }
    return names;
  }

  static TrainOptions adam(int64_t epochs) {
    TrainOptions options;
    options.epochs = epochs;
    options.lr = 0.01;
    options.optimizer = OptimizerKind::adam;
    return options;
  }

  fs::path dir_;
  Dataset data_;
};

TEST_F(FilmTest, AModuleOfItsOwnIsFilmedIntoAVideoAStillALossCsvAndASummary) {
  CubicNet net;
  FilmOptions look;
  look.frames = 12;
  look.width = 320;
  look.height = 180;
  look.truth = [](double v) { return v * v * v - 2 * v; };
  Film film(dir_ / "out" / "cubic.mp4", look);  // the folder does not exist yet
  const TrainResult result = train(net, data_, adam(300), film);

  EXPECT_EQ(files_in(dir_ / "out"),
            (std::set<std::string>{"cubic.mp4", "cubic.png", "cubic.loss.csv", "cubic.json"}));
  EXPECT_EQ(film.frames(), 12);
  EXPECT_EQ(testing::frames_in((dir_ / "out" / "cubic.mp4").string()), 12);
  EXPECT_FALSE(cv::imread((dir_ / "out" / "cubic.png").string()).empty());
  const std::vector<std::string> rows =
      testing::lines_of(testing::read_file((dir_ / "out" / "cubic.loss.csv").string()));
  ASSERT_EQ(rows.size(), 301U);
  EXPECT_EQ(rows[0], "epoch,loss");
  EXPECT_EQ(rows[300].substr(0, 4), "299,");
  const nlohmann::json summary = testing::read_json((dir_ / "out" / "cubic.json").string());
  EXPECT_EQ(summary["epochs_run"], 300);
  EXPECT_EQ(summary["optimizer"], "adam");
  EXPECT_EQ(summary["gradients"], "autograd");  // not a Sequential
  EXPECT_EQ(summary["param_names"][0], "fc1.weight");
  EXPECT_EQ(summary["frames"], 12);
  EXPECT_FLOAT_EQ(summary["final_loss"].get<float>(), result.losses.last());
  EXPECT_LT(result.losses.last(), result.losses.first());
}

TEST_F(FilmTest, ASequentialGoesThroughTheSameCallsWithTheAnalyticGradients) {
  torch::nn::Sequential net = make_net({{8}, Activation::tanh});
  FilmOptions look;
  look.frames = 4;
  look.width = 320;
  look.height = 180;
  Film film(dir_ / "seq.gif", look);
  const TrainResult result = train(net, data_, adam(50), film);
  EXPECT_TRUE(result.used_analytic_gradients);
  EXPECT_EQ(testing::frames_in((dir_ / "seq.gif").string()), 4);
  EXPECT_EQ(testing::read_json((dir_ / "seq.json").string())["gradients"], "analytic");
}

// What a film writes reads back: every epoch's loss as written, or thinned to about the points
// asked for (always the last), with what a log scale cannot show left out.
TEST_F(FilmTest, ItsLossCsvReadsBackWholeOrThinned) {
  FilmOptions look;
  look.frames = 10;
  Film film(dir_ / "cubic.mp4", look);
  CubicNet model;
  train(model, data_, adam(300), film);
  const files::Folder folder = files::Folder::open(dir_);
  const std::vector<std::pair<double, double>> all = read_loss_csv(folder, "cubic.loss.csv", 1000);
  ASSERT_EQ(all.size(), 300U);
  EXPECT_EQ(all.front().first, 0.0);
  EXPECT_EQ(all.back().first, 299.0);
  const std::vector<std::pair<double, double>> thinned =
      read_loss_csv(folder, "cubic.loss.csv", 40);
  EXPECT_LE(thinned.size(), 41U);
  EXPECT_GE(thinned.size(), 20U);
  EXPECT_EQ(thinned.back(), all.back());

  files::write_file_atomically(
      folder, "odd.csv",
      "epoch,loss\n0,1.5\n1,nan\n2,0\n3," + std::string(300, '9') + "\n4,inf\n5,0.25");
  EXPECT_EQ(read_loss_csv(folder, "odd.csv"),
            (std::vector<std::pair<double, double>>{{0, 1.5}, {5, 0.25}}));
  EXPECT_TRUE(read_loss_csv(folder, "missing.csv").empty());
}

// A Film written into a files::ResultFolder's staging folder is published whole: nothing at
// DIR/NAME until publish(), then exactly the film's files and the manifest, which the next run
// may replace; a file a user saves there makes the next ResultFolder refuse it.
TEST_F(FilmTest, AResultFolderPublishesAFilmWholeWithItsManifest) {
  const files::Folder root = files::Folder::open_or_create(dir_);
  FilmFiles named;
  named.video = "frames";
  named.still = "after.png";
  named.loss_csv = "loss.csv";
  for (int run = 0; run < 2; ++run) {
    files::ResultFolder result(root, "cubic");
    FilmOptions look;
    look.frames = 3;
    look.width = 64;
    look.height = 36;
    Film film(result.staging(), named, look);
    train(CubicNet(), data_, adam(20), film);
    EXPECT_EQ(fs::exists(dir_ / "cubic"), run == 1) << "the first run publishes nothing early";
    result.publish();
    EXPECT_EQ(files_in(dir_ / "cubic"),
              (std::set<std::string>{"frames", "after.png", "loss.csv", files::kManifestName}));
    EXPECT_TRUE(files::owned_by_fitreel(root, "cubic"));
  }
  std::ofstream(dir_ / "cubic" / "notes.txt") << "mine";
  EXPECT_THROW(files::ResultFolder(root, "cubic"), files::NotOwnedError);
  EXPECT_TRUE(fs::exists(dir_ / "cubic" / "notes.txt"));
}

TEST_F(FilmTest, WritesOnlyTheFilesAskedFor) {
  FilmFiles files;
  files.loss_csv = dir_ / "only" / "losses.csv";
  Film film(files);
  train(CubicNet(), data_, adam(20), film);
  EXPECT_EQ(files_in(dir_ / "only"), std::set<std::string>{"losses.csv"});
  EXPECT_EQ(film.frames(), 0);
}

TEST_F(FilmTest, AFolderNameIsPngFramesAndTheCompanionsSitBesideIt) {
  const FilmFiles beside = FilmFiles::beside(dir_ / "frames/");
  EXPECT_EQ(beside.video, dir_ / "frames");
  EXPECT_EQ(beside.still, dir_ / "frames.png");
  EXPECT_EQ(beside.loss_csv, dir_ / "frames.loss.csv");
  EXPECT_EQ(beside.summary, dir_ / "frames.json");
  FilmOptions look;
  look.frames = 3;
  look.width = 161;  // PNG frames may have odd sizes
  look.height = 91;
  Film film(FilmFiles{dir_ / "frames", {}, {}, {}}, look);
  train(CubicNet(), data_, adam(10), film);
  EXPECT_EQ(files_in(dir_ / "frames").size(), 3U);
  EXPECT_EQ(cv::imread((dir_ / "frames" / "frame_00002.png").string()).cols, 161);
}

// Issue 20, case 16: a frames folder holds exactly this film's frames, never stale ones of an
// earlier, longer film; a folder holding anything but frames is refused and left alone.
TEST_F(FilmTest, AFramesFolderHoldsExactlyThisFilmsFrames) {
  FilmOptions look;
  look.width = 64;
  look.height = 48;
  look.frames = 10;
  {
    Film film(FilmFiles{dir_ / "frames", {}, {}, {}}, look);
    train(CubicNet(), data_, adam(20), film);
  }
  ASSERT_EQ(files_in(dir_ / "frames").size(), 10U);
  look.frames = 3;
  {
    Film film(FilmFiles{dir_ / "frames", {}, {}, {}}, look);
    train(CubicNet(), data_, adam(20), film);
  }
  EXPECT_EQ(files_in(dir_ / "frames"),
            (std::set<std::string>{"frame_00000.png", "frame_00001.png", "frame_00002.png"}));
  EXPECT_EQ(files_in(dir_), (std::set<std::string>{"frames"}))
      << "no staging folder left beside it";

  std::ofstream(dir_ / "frames" / "notes.txt") << "mine";
  EXPECT_THROW(Film(FilmFiles{dir_ / "frames", {}, {}, {}}, look), InputError);
  EXPECT_EQ(files_in(dir_ / "frames").count("notes.txt"), 1U);
}

// Issue 20, case 9: every file the film writes after training is proven writable when the film
// is made (a folder where nothing can be made fails before any epoch).
TEST_F(FilmTest, AFileThatCannotBeWrittenFailsBeforeTraining) {
  fs::create_directories(dir_);
  const fs::path readonly = dir_ / "readonly";
  fs::create_directories(readonly);
  ASSERT_EQ(::mount("tmpfs", readonly.c_str(), "tmpfs", MS_RDONLY, "size=64k"), 0)
      << "this test needs root, as CI runs it";
  FilmFiles files;
  files.loss_csv = dir_ / "losses.csv";
  files.still = readonly / "after.png";
  bool refused = false;
  try {
    Film film(files);
  } catch (const files::WriteError& error) {
    refused = std::string(error.what()).find("Read-only file system") != std::string::npos;
  }
  ::umount2(readonly.c_str(), MNT_DETACH);
  EXPECT_TRUE(refused);
  EXPECT_FALSE(fs::exists(dir_ / "losses.csv"));
}

TEST_F(FilmTest, AnExceptionDuringTrainingStillLeavesAPlayableVideo) {
  FilmOptions look;
  look.frames = 20;
  look.width = 320;
  look.height = 180;
  FilmFiles files;
  files.video = dir_ / "cut.mp4";
  files.loss_csv = dir_ / "cut.loss.csv";
  Film film(files, look);
  TrainCallbacks callbacks;
  int seen = 0;
  callbacks.on_snapshot = [&](const Snapshot&) {
    if (++seen == 6) {
      throw std::runtime_error("the user's callback gave up");
    }
  };
  EXPECT_THROW(train(CubicNet(), data_, adam(400), film, callbacks), std::runtime_error);
  // The frames filmed before the exception play; the loss CSV of an unfinished run is not
  // published (and leaves no temporary file).
  EXPECT_GE(testing::frames_in((dir_ / "cut.mp4").string()), 5);
  EXPECT_EQ(files_in(dir_), std::set<std::string>{"cut.mp4"});
}

TEST_F(FilmTest, HeldOutPointsGiveATestLossAtEveryFrameAlsoWithoutAVideo) {
  Dataset split = split_train_test(data_.x_train.flatten(), data_.y_train.flatten());
  FilmOptions look;
  look.frames = 7;
  FilmFiles files;  // no video: the held-out losses come at the frames' epochs anyway
  files.test_loss_csv = dir_ / "held_out.csv";
  files.summary = dir_ / "held_out.json";
  Film film(files, look);
  const TrainResult result = train(CubicNet(), split, adam(100), film);
  ASSERT_EQ(result.test_losses.size(), 7U);
  const std::vector<std::string> rows =
      testing::lines_of(testing::read_file((dir_ / "held_out.csv").string()));
  ASSERT_EQ(rows.size(), 8U);
  EXPECT_EQ(rows[0], "epoch,test_loss");
  EXPECT_EQ(rows[7].rfind("99,", 0), 0U) << rows[7];
  const nlohmann::json summary = testing::read_json((dir_ / "held_out.json").string());
  EXPECT_EQ(summary["test_loss_at_epoch"].size(), 7U);
  EXPECT_EQ(summary["points"]["test"], 40);
}

TEST_F(FilmTest, OneRunPerFilm) {
  FilmFiles files;
  files.still = dir_ / "a.png";
  Film film(files);
  train(CubicNet(), data_, adam(5), film);
  EXPECT_THROW(train(CubicNet(), data_, adam(5), film), InputError);
}

// One set of video limits (render::video_limits) for the library and the command line: a GIF
// at 60 fps would play 30 frames in about 1.5 s instead of 0.5 s, so the film refuses it when it
// is made, before any folder or file is written.
TEST_F(FilmTest, VideoLimitsComeFromRenderAndAreCheckedBeforeAnythingIsMade) {
  const render::VideoLimits gif = render::video_limits(render::VideoFormat::gif);
  const auto refusal = [&](const fs::path& video, const FilmOptions& options) -> std::string {
    try {
      Film film(video, options);
    } catch (const InputError& error) {
      return error.what();
    }
    return "accepted";
  };
  FilmOptions sixty;
  sixty.fps = 60;
  const std::string fast_gif = refusal(dir_ / "x.gif", sixty);
  EXPECT_NE(fast_gif.find("fps 60"), std::string::npos) << fast_gif;
  EXPECT_NE(fast_gif.find("1 to " + std::to_string(gif.max_fps)), std::string::npos) << fast_gif;
  EXPECT_NE(fast_gif.find("1 to 50"), std::string::npos) << fast_gif;
  EXPECT_EQ(fast_gif.find('\n'), std::string::npos) << fast_gif;
  EXPECT_FALSE(fs::exists(dir_)) << "refused before any folder was made";

  const render::VideoLimits mp4 = render::video_limits(render::VideoFormat::mp4);
  FilmOptions too_fast;
  too_fast.fps = mp4.max_fps + 1;
  const std::string fast_mp4 = refusal(dir_ / "x.mp4", too_fast);
  EXPECT_NE(fast_mp4.find("1 to " + std::to_string(mp4.max_fps)), std::string::npos) << fast_mp4;
  FilmOptions tiny;
  tiny.width = mp4.min_side - 2;
  tiny.height = mp4.min_side;
  const std::string small = refusal(dir_ / "x.webm", tiny);
  EXPECT_NE(small.find(std::to_string(tiny.width) + "x" + std::to_string(tiny.height)),
            std::string::npos)
      << small;
  EXPECT_FALSE(fs::exists(dir_));

  // At the limit a GIF is filmed; PNG frames have no frame rate or size limits of a video.
  FilmOptions fifty;
  fifty.fps = gif.max_fps;
  fifty.frames = 3;
  fifty.width = 160;
  fifty.height = 90;
  {
    Film film(dir_ / "fifty.gif", fifty);
    train(CubicNet(), data_, adam(5), film);
  }
  EXPECT_TRUE(fs::exists(dir_ / "fifty.gif"));
  tiny.fps = 1000;
  tiny.frames = 2;
  Film frames(FilmFiles{dir_ / "frames", {}, {}, {}}, tiny);
  train(CubicNet(), data_, adam(3), frames);
  EXPECT_EQ(files_in(dir_ / "frames").size(), 2U);
}

TEST_F(FilmTest, BadPathsAndOptionsFailWhenTheFilmIsMadeInOneLine) {
  const auto message_of = [](const std::function<void()>& make) -> std::string {
    try {
      make();
    } catch (const Error& error) {
      return error.what();
    }
    return "no error";
  };
  const std::string extension = message_of([&] { Film film(dir_ / "clip.mkv"); });
  EXPECT_NE(extension.find(".mp4, .webm, .avi or .gif"), std::string::npos) << extension;
  FilmOptions odd;
  odd.width = 641;
  const std::string size = message_of([&] { Film film(dir_ / "clip.mp4", odd); });
  EXPECT_NE(size.find("641x720"), std::string::npos) << size;
  FilmOptions one_frame;
  one_frame.frames = 1;
  EXPECT_NE(message_of([&] { Film film(dir_ / "clip.mp4", one_frame); }).find("frames is 1"),
            std::string::npos);
  FilmOptions preset;
  preset.preset = "warp";
  EXPECT_NE(message_of([&] { Film film(dir_ / "clip.mp4", preset); }).find("'warp'"),
            std::string::npos);
  fs::create_directories(dir_ / "taken.png");
  FilmFiles files;
  files.still = dir_ / "taken.png";
  EXPECT_NE(message_of([&] { Film film(files); }).find("is a folder"), std::string::npos);
  files.still = dir_ / "same.csv";
  files.loss_csv = dir_ / "same.csv";
  EXPECT_NE(message_of([&] { Film film(files); }).find("twice"), std::string::npos);
  for (const std::string& message : {extension, size}) {
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  // Nothing was left behind by the films that failed.
  EXPECT_EQ(files_in(dir_), std::set<std::string>{"taken.png"});
}

TEST_F(FilmTest, BadTrainingInputsFailBeforeAnyFrameIsDrawn) {
  FilmOptions look;
  look.width = 320;
  look.height = 180;
  Film film(dir_ / "bad.mp4", look);
  Dataset flat = data_;
  flat.x_train = flat.x_train.flatten();
  EXPECT_THROW(train(CubicNet(), flat, adam(5), film), ShapeError);
  // The film is still unused: a corrected call films.
  train(CubicNet(), data_, adam(5), film);
  EXPECT_GT(film.frames(), 0);
}

}  // namespace
}  // namespace fitreel
