// Schedule::adaptive: a Film measures a first pass, then films the same run replayed from the
// same start; frames go where the curve moves.

#include <fitreel/fitreel.hpp>

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace fitreel {
namespace {

namespace fs = std::filesystem;

class AdaptiveFilm : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("fitreel_adaptive_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

// A model whose run draws from the generator (dropout, shuffled mini-batches) and keeps state
// of its own (BatchNorm's running statistics): a replay that did not start where the first pass
// started would differ.
torch::nn::Sequential noisy_net() {
  return torch::nn::Sequential(torch::nn::Linear(1, 16), torch::nn::BatchNorm1d(16),
                               torch::nn::Tanh(), torch::nn::Dropout(0.3),
                               torch::nn::Linear(16, 1));
}

struct NoisyRun {
  std::vector<float> losses;
  TrainResult result;
  torch::Tensor running_mean, next_draw;
};

NoisyRun run_noisy(const Dataset& data, Film* film) {
  torch::manual_seed(3);
  torch::nn::Sequential model = noisy_net();
  TrainOptions options;
  options.epochs = 300;
  options.lr = 0.05;
  options.batch_size = 32;
  NoisyRun run;
  TrainCallbacks callbacks;
  callbacks.on_loss = [&](int64_t, float loss) { run.losses.push_back(loss); };
  run.result =
      film ? train(model, data, options, *film, callbacks) : train(model, data, options, callbacks);
  run.running_mean = model[1]->as<torch::nn::BatchNorm1d>()->running_mean.clone();
  run.next_draw = torch::rand({4});  // where the generator stands after the run
  return run;
}

TEST_F(AdaptiveFilm, FilmsTheMeasuredRunReplayedBitForBit) {
  torch::manual_seed(0);
  const torch::Tensor x = torch::rand({200, 1}) * 4 - 2;
  const Dataset data{x, x.pow(3) - 2 * x};
  const NoisyRun plain = run_noisy(data, nullptr);

  FilmOptions look;
  look.schedule = Schedule::adaptive;
  look.frames = 20;
  look.width = 320;
  look.height = 180;
  Film film(dir_ / "noisy.mp4", look);
  const NoisyRun filmed = run_noisy(data, &film);

  ASSERT_EQ(filmed.losses.size(), plain.losses.size()) << "the first pass tells no one";
  for (size_t e = 0; e < plain.losses.size(); ++e) {
    ASSERT_EQ(filmed.losses[e], plain.losses[e]) << "epoch " << e;
  }
  EXPECT_EQ(filmed.result.final_params, plain.result.final_params);
  EXPECT_TRUE(torch::equal(filmed.running_mean, plain.running_mean));
  EXPECT_TRUE(torch::equal(filmed.next_draw, plain.next_draw));
  EXPECT_EQ(film.frames(), 20);
}

TEST_F(AdaptiveFilm, StoppedWhileMeasuringItFilmsTheEpochsItReached) {
  torch::manual_seed(0);
  const torch::Tensor x = torch::rand({100, 1}) * 4 - 2;
  const Dataset data{x, x.pow(3) - 2 * x};
  // As the CLI's signal flag: one count for every copy, and once set it stays set.
  const auto stop_after = [](int64_t epochs) {
    auto polls = std::make_shared<int64_t>(0);
    return [epochs, polls] { return ++*polls >= epochs; };
  };
  TrainOptions options;
  options.epochs = 1000;
  options.lr = 0.05;
  NetSpec eight;
  eight.hidden = {8};
  torch::manual_seed(1);
  torch::nn::Sequential alone = make_net(eight);
  TrainCallbacks plain;
  plain.should_stop = stop_after(70);
  const TrainResult expected = train(alone, data, options, plain);

  torch::manual_seed(1);
  torch::nn::Sequential filmed = make_net(eight);
  FilmOptions look;
  look.frames = 10;
  look.width = 320;
  look.height = 180;
  Film film(dir_ / "stopped.mp4", look);
  std::vector<bool> measuring;
  TrainCallbacks told;
  told.should_stop = stop_after(70);  // stops the first pass; the film replays those 70
  told.on_progress = [&](const Progress& p) { measuring.push_back(p.measuring); };
  const TrainResult result = train(filmed, data, options, film, told);
  EXPECT_TRUE(result.interrupted);
  EXPECT_EQ(result.epochs_run, 70);
  EXPECT_EQ(result.final_params, expected.final_params);
  EXPECT_EQ(film.frames(), 10);
  ASSERT_FALSE(measuring.empty());
  EXPECT_TRUE(measuring.front()) << "the first pass says so";
  EXPECT_FALSE(measuring.back());
}

// The README's cubic program: its fit looks finished by epoch ~100 of 3000.
struct ReadmeCubicImpl : torch::nn::Module {
  torch::nn::Linear fc1{register_module("fc1", torch::nn::Linear(1, 32))};
  torch::nn::Linear fc2{register_module("fc2", torch::nn::Linear(32, 32))};
  torch::nn::Linear out{register_module("out", torch::nn::Linear(32, 1))};
  torch::Tensor forward(const torch::Tensor& x) {
    return out(torch::tanh(fc2(torch::tanh(fc1(x)))));
  }
};
TORCH_MODULE(ReadmeCubic);

double still_share(const fs::path& video, Schedule schedule) {
  torch::manual_seed(0);
  const torch::Tensor x = torch::rand({500, 1}) * 4 - 2;
  const torch::Tensor y = x.pow(3) - 2 * x + 0.3 * torch::randn({500, 1});
  ReadmeCubic net;
  FilmOptions look;
  look.truth = [](double v) { return v * v * v - 2 * v; };
  look.schedule = schedule;
  TrainOptions options;
  options.epochs = 3000;
  options.lr = 0.01;
  options.optimizer = OptimizerKind::adam;
  Film film(video, look);
  train(net, {x, y}, options, film);
  return static_cast<double>(film.still_steps()) / static_cast<double>(film.frames() - 1);
}

TEST_F(AdaptiveFilm, TheReadmesCubicMovesInMostStepsInsteadOfFewFrames) {
  const double linear = still_share(dir_ / "linear.mp4", Schedule::linear);
  const double adaptive = still_share(dir_ / "adaptive.mp4", Schedule::adaptive);
  EXPECT_GE(linear, 0.5) << "evenly spread frames show a finished fit most of the time";
  EXPECT_LE(adaptive, 0.2);
}

TEST_F(AdaptiveFilm, ASweepFilmsItsPanelsWhereTheyMove) {
  torch::manual_seed(0);
  const Dataset data = demos::make_identity(40);
  std::vector<torch::nn::Sequential> nets;
  std::vector<ModelRef> models;
  BatchedOptions options;
  options.epochs = 2000;
  options.lrs.clear();
  for (const double lr : {0.1, 0.5}) {
    for (int seed = 0; seed < 3; ++seed) {
      torch::manual_seed(static_cast<uint64_t>(seed));
      nets.push_back(make_net());
      models.emplace_back(nets.back());
      options.lrs.push_back(lr);
    }
  }
  SweepFilmOptions look;
  look.look.schedule = Schedule::adaptive;
  look.look.frames = 60;
  SweepFilm film(dir_ / "sweep.mp4", look);
  train_batched(models, {data}, options, film);
  const std::vector<int64_t>& epochs = film.epochs();
  ASSERT_EQ(epochs.size(), 60U);
  EXPECT_EQ(epochs.front(), 0);
  EXPECT_EQ(epochs.back(), 1999);
  EXPECT_TRUE(std::is_sorted(epochs.begin(), epochs.end()));
  EXPECT_EQ(film.frames(), 60);
  EXPECT_LE(film.still_steps(), 12);
}

}  // namespace
}  // namespace fitreel
