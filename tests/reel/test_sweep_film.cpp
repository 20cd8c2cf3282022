// fitreel::SweepFilm: a batch of runs filmed through train_batched() as a grid video and a loss
// chart, the same numbers as without a film, and its errors.

#include <fitreel/fitreel.hpp>

#include <opencv2/imgcodecs.hpp>

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

namespace fitreel {
namespace {

namespace fs = std::filesystem;

class SweepFilmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("fitreel_sweep_film_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    torch::manual_seed(0);
    data_ = demos::make_identity(40);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // `count` 1-2-1 sigmoid nets, model k drawn after seed k.
  static std::vector<torch::nn::Sequential> nets(int64_t count) {
    std::vector<torch::nn::Sequential> made;
    for (int64_t k = 0; k < count; ++k) {
      torch::manual_seed(static_cast<uint64_t>(k));
      made.push_back(make_net({}));
    }
    return made;
  }
  static std::vector<ModelRef> refs(const std::vector<torch::nn::Sequential>& models) {
    return {models.begin(), models.end()};
  }
  static SweepFilmOptions small_film(int64_t frames) {
    SweepFilmOptions options;
    options.look.frames = frames;
    options.look.width = 320;
    options.look.height = 180;
    return options;
  }
  static BatchedOptions rates(std::vector<double> lrs, int64_t epochs = 60) {
    BatchedOptions options;
    options.epochs = epochs;
    options.lrs = std::move(lrs);
    return options;
  }

  fs::path dir_;
  Dataset data_;
};

// A folder name films PNG frames; the loss chart sits beside it; the numbers are those of the
// same batch trained without a film.
TEST_F(SweepFilmTest, FilmsAGridOfEveryModelAndALossChartWithoutChangingTheNumbers) {
  const std::vector<torch::nn::Sequential> filmed = nets(3), plain = nets(3);
  const BatchedOptions options = rates({0.01, 0.1, 1.0});
  SweepFilmOptions look = small_film(6);
  look.labels = {"lr 0.01", "lr 0.1", "lr 1"};
  SweepFilm film(dir_ / "sweep", look);
  const BatchedResult with_film = train_batched(refs(filmed), {data_}, options, film);
  const BatchedResult without = train_batched(refs(plain), {data_}, options);

  EXPECT_EQ(film.frames(), 6);
  EXPECT_EQ(film.shown(), (std::vector<size_t>{0, 1, 2}));
  std::set<std::string> frames;
  for (const auto& entry : fs::directory_iterator(dir_ / "sweep")) {
    frames.insert(entry.path().filename().string());
  }
  EXPECT_EQ(frames.size(), 6U);
  EXPECT_EQ(*frames.begin(), "frame_00000.png");
  const cv::Mat frame = cv::imread((dir_ / "sweep" / "frame_00005.png").string());
  EXPECT_EQ(frame.cols, 320);
  EXPECT_EQ(frame.rows, 180);
  const cv::Mat chart = cv::imread((dir_ / "sweep.png").string());
  ASSERT_FALSE(chart.empty());
  EXPECT_EQ(chart.cols, 320);
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(with_film.runs[k].final_params, without.runs[k].final_params) << k;
    EXPECT_EQ(with_film.runs[k].losses.last(), without.runs[k].losses.last()) << k;
  }
}

// Past most_panels the grid spreads its panels over the outcomes: the best run first, a
// diverged one last; run_outcome() says how each ended.
TEST_F(SweepFilmTest, ManyRunsShowTheRangeOfOutcomesBestFirstDivergedLast) {
  const std::vector<torch::nn::Sequential> models = nets(5);
  SweepFilmOptions look = small_film(3);
  look.most_panels = 2;
  SweepFilm film(SweepFilmFiles{dir_ / "grid", {}}, look);
  const BatchedResult result =
      train_batched(refs(models), {data_}, rates({0.1, 0.05, 1e30, 0.2, 0.01}), film);
  ASSERT_TRUE(result.runs[2].diverged_at_epoch.has_value());
  size_t best = 0;
  for (size_t k = 1; k < 5; ++k) {
    if (k != 2 && result.runs[k].losses.last() < result.runs[best].losses.last()) best = k;
  }
  EXPECT_EQ(film.shown(), (std::vector<size_t>{best, 2}));
  EXPECT_EQ(run_outcome(result, 2),
            "diverged at epoch " + std::to_string(*result.runs[2].diverged_at_epoch));
  EXPECT_EQ(run_outcome(result, 0).rfind("final loss ", 0), 0U) << run_outcome(result, 0);
  EXPECT_FALSE(fs::exists(dir_ / "grid.png")) << "only the files named are written";
}

// Seeds crossed with rates: one column per rate, ascending left to right, one row per seed; the
// loss chart (rates with several seeds: their median and range) is written beside the frames.
TEST_F(SweepFilmTest, RatesReadLeftToRightOneColumnEach) {
  const std::vector<torch::nn::Sequential> models = nets(6);  // seeds 0-2 x rates 0.2, 0.1
  SweepFilm film(dir_ / "grid", small_film(2));
  const BatchedResult result =
      train_batched(refs(models), {data_}, rates({0.2, 0.1, 0.2, 0.1, 0.2, 0.1}, 20), film);
  EXPECT_EQ(film.shown(), (std::vector<size_t>{1, 0, 3, 2, 5, 4}));
  EXPECT_EQ(result.runs.size(), 6U);
  EXPECT_FALSE(cv::imread((dir_ / "grid.png").string()).empty());
}

// Its mistakes are one-line InputErrors: labels that do not match the models, a second batch,
// no panels; and a video it cannot open fails when it is made, before any training.
TEST_F(SweepFilmTest, RefusesWhatItCannotFilm) {
  const std::vector<torch::nn::Sequential> models = nets(2);
  SweepFilmOptions look = small_film(3);
  look.labels = {"only one"};
  SweepFilm mislabelled(dir_ / "a", look);
  EXPECT_THROW(train_batched(refs(models), {data_}, rates({0.1}), mislabelled), InputError);

  SweepFilm once(dir_ / "b", small_film(3));
  train_batched(refs(models), {data_}, rates({0.1}), once);
  EXPECT_THROW(train_batched(refs(nets(2)), {data_}, rates({0.1}), once), InputError);

  SweepFilm refused_first(dir_ / "f", small_film(3));  // a refused batch leaves it unused
  EXPECT_THROW(train_batched(refs(nets(2)), {data_}, rates({-1.0}), refused_first), InputError);
  EXPECT_NO_THROW(train_batched(refs(nets(2)), {data_}, rates({0.1}), refused_first));

  SweepFilmOptions no_panels = small_film(3);
  no_panels.most_panels = 0;
  EXPECT_THROW(SweepFilm(dir_ / "c", no_panels), InputError);
  EXPECT_THROW(SweepFilm(dir_ / "d.mov", small_film(3)), InputError);
  EXPECT_THROW(SweepFilm(dir_ / "e", small_film(1)), InputError);
}

}  // namespace
}  // namespace fitreel
