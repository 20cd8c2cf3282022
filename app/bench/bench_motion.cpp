#include "bench_motion.hpp"

#include <fitreel/reel.hpp>

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <utility>

namespace fitreel::bench {

namespace {

namespace fs = std::filesystem;

// The README's cubic program's model: 1 -> 32 -> 32 -> 1 with tanh.
struct CubicNetImpl : torch::nn::Module {
  torch::nn::Linear fc1{register_module("fc1", torch::nn::Linear(1, 32))};
  torch::nn::Linear fc2{register_module("fc2", torch::nn::Linear(32, 32))};
  torch::nn::Linear out{register_module("out", torch::nn::Linear(32, 1))};
  torch::Tensor forward(const torch::Tensor& x) {
    return out(torch::tanh(fc2(torch::tanh(fc1(x)))));
  }
};
TORCH_MODULE(CubicNet);

struct Motion {
  int64_t still = 0, steps = 0;
  double seconds = 0.0;  // the whole filmed run, both passes of an adaptive one included
};

Motion timed(const std::function<std::pair<int64_t, int64_t>()>& film) {
  const auto start = std::chrono::steady_clock::now();
  const auto [still, frames] = film();
  return {still, std::max<int64_t>(1, frames - 1),
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
}

Motion filmed(const fs::path& video, const ModelRef& model, const Dataset& data,
              const TrainOptions& options, const FilmOptions& look) {
  return timed([&] {
    Film film(video, look);
    train(model, data, options, film);
    return std::make_pair(film.still_steps(), film.frames());
  });
}

TrainOptions run_of(int64_t epochs, double lr, OptimizerKind optimizer = OptimizerKind::adagrad) {
  TrainOptions options;
  options.epochs = epochs;
  options.lr = lr;
  options.optimizer = optimizer;
  return options;
}

Motion line_demo(const fs::path& video, Schedule schedule) {
  torch::manual_seed(0);
  const Dataset data = demos::make_noisy_line(demos::kLine.points);
  torch::nn::Sequential model = demos::make_line_model();
  FilmOptions look = demos::line_look();
  look.frames = 300;  // the CLI's default
  look.schedule = schedule;
  return filmed(video, model, data, run_of(demos::kLine.epochs, demos::kLine.lr), look);
}

Motion net_demo(const fs::path& video, Schedule schedule) {
  torch::manual_seed(0);
  const Dataset data = demos::make_identity(demos::kNet.points);
  torch::nn::Sequential model = make_net();
  FilmOptions look = demos::net_look(model);
  look.frames = 300;
  look.schedule = schedule;
  return filmed(video, model, data, run_of(demos::kNet.epochs, demos::kNet.lr), look);
}

Motion cubic(const fs::path& video, Schedule schedule) {
  torch::manual_seed(0);
  const torch::Tensor x = torch::rand({500, 1}) * 4 - 2;
  const torch::Tensor y = x.pow(3) - 2 * x + 0.3 * torch::randn({500, 1});
  CubicNet net;
  FilmOptions look;
  look.truth = [](double v) { return v * v * v - 2 * v; };
  look.schedule = schedule;
  return filmed(video, net, {x, y}, run_of(3000, 0.01, OptimizerKind::adam), look);
}

// `fitreel sweep net --seeds 0-31 --lrs 0.1,1`: model k drawn after seed k.
Motion sweep(const fs::path& video, Schedule schedule) {
  std::vector<torch::nn::Sequential> nets;
  std::vector<ModelRef> models;
  BatchedOptions options;
  options.lrs.clear();
  for (const double lr : {0.1, 1.0}) {
    for (int seed = 0; seed < 32; ++seed) {
      torch::manual_seed(static_cast<uint64_t>(seed));
      nets.push_back(make_net());
      models.emplace_back(nets.back());
      options.lrs.push_back(lr);
    }
  }
  torch::manual_seed(0);
  const Dataset data = demos::make_identity(demos::kNet.points);
  options.epochs = demos::kNet.epochs;
  SweepFilmOptions look;
  look.look.frames = 300;
  look.look.schedule = schedule;
  look.look.truth = render::StraightLine{1.0, 0.0};
  return timed([&] {
    SweepFilm film(video, look);
    train_batched(models, {data}, options, film);
    return std::make_pair(film.still_steps(), film.frames());
  });
}

}  // namespace

void print_motion(const std::string& folder) {
  std::printf("\nframe steps in which the model's curve moved less than 1 px at 1280x720\n");
  std::printf("%-34s %-9s %7s %7s %7s %9s\n", "film", "schedule", "still", "steps", "share",
              "seconds");
  struct Case {
    const char* name;
    Motion (*film)(const fs::path&, Schedule);
  };
  const Case cases[] = {{"line demo (30000 epochs, 300 fr)", line_demo},
                        {"net demo (10000 epochs, 300 fr)", net_demo},
                        {"README cubic (3000 epochs, 150 fr)", cubic},
                        {"sweep net 32 seeds x 2 rates", sweep}};
  for (const Case& c : cases) {
    for (const Schedule schedule : {Schedule::linear, Schedule::log, Schedule::adaptive}) {
      const Motion m = c.film(fs::path(folder) / "motion.mp4", schedule);
      std::printf("%-34s %-9s %7lld %7lld %6.1f%% %9.2f\n", c.name,
                  std::string(schedule_name(schedule)).c_str(), static_cast<long long>(m.still),
                  static_cast<long long>(m.steps),
                  100.0 * static_cast<double>(m.still) / static_cast<double>(m.steps), m.seconds);
      std::fflush(stdout);
    }
  }
}

}  // namespace fitreel::bench
