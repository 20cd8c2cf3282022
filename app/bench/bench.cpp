// fitreel-bench: where the time goes. Per demo and device: microseconds per training epoch
// (median of repeats after a warm-up, for both ways of computing gradients, and on CUDA with
// and without a captured graph); with the renderer built, frames/s of drawing alone, of
// encoding alone and of a whole run with video; and the peak RSS. Prints a table; --json FILE
// also writes the numbers (scripts/bench.sh compares them with Python's). The batched section
// times K models trained at once (train_batched) against the same K trained one after another.
#include <fitreel/batched.hpp>
#include <fitreel/data.hpp>
#include <fitreel/demos.hpp>
#include <fitreel/device.hpp>
#include <fitreel/model.hpp>
#include <fitreel/schedule.hpp>
#include <fitreel/trainer.hpp>

#ifdef FITREEL_BENCH_RENDER
#include "bench_motion.hpp"
#include "bench_render.hpp"

#include <fitreel/reel.hpp>

#endif

#include <sys/resource.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace fitreel;

struct Settings {
  int repeats = 5;
  int64_t line_epochs = 10000;
  int64_t net_epochs = 10000;
  int64_t frames = 300;
  int64_t batched_epochs = 1000;
  std::vector<int64_t> batch_sizes{16, 64};
  bool batched_only = false;
  bool motion_only = false;  // the frame schedules' still steps alone (bench_motion.hpp)
  std::string preset = "ultrafast";
  std::vector<std::string> devices;
  std::string json;
  std::string scratch;  // the bench's own temporary folder (ScratchFolder)
};

// A folder of the bench's own, made new under the temporary directory and removed at the end:
// never a fixed path another program (or another bench) might be using.
class ScratchFolder {
 public:
  ScratchFolder() {
    std::string name = (std::filesystem::temp_directory_path() / "fitreel-bench-XXXXXX").string();
    if (::mkdtemp(name.data()) == nullptr) {
      throw std::runtime_error("cannot make a temporary folder under " +
                               std::filesystem::temp_directory_path().string());
    }
    path_ = name;
  }
  ~ScratchFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchFolder(const ScratchFolder&) = delete;
  ScratchFolder& operator=(const ScratchFolder&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct Stats {
  double min = 0, median = 0, max = 0;
};

Stats stats_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return {values.front(), values[values.size() / 2], values.back()};
}

// One demo as the app sets it up: seed 0, 100 points, the seed's learning rate, and the model
// drawn right after the data (the parity contract's order).
struct Demo {
  std::string name;
  double lr;
  int64_t epochs;
  Dataset data;
  torch::nn::Sequential start;  // every run trains a copy of it
  torch::nn::Sequential fresh_model() const {
    return torch::nn::Sequential(
        std::dynamic_pointer_cast<torch::nn::SequentialImpl>(start->clone()));
  }
};

Demo make_demo(const std::string& name, const Settings& settings) {
  const bool line = name == "line";
  torch::manual_seed(0);
  Dataset data = line ? demos::make_noisy_line(100) : demos::make_identity(100);
  torch::nn::Sequential start = line ? demos::make_line_model() : make_net();
  return {name, line ? 0.01 : 0.1, line ? settings.line_epochs : settings.net_epochs,
          std::move(data), std::move(start)};
}

// Microseconds per epoch of train() alone, `repeats` times after a warm-up run.
Stats epoch_micros(const Demo& demo, const torch::Device& device, Gradients gradients,
                   bool cuda_graphs, const Settings& settings) {
  TrainOptions options;
  options.lr = demo.lr;
  options.device = device;
  options.gradients = gradients;
  options.cuda_graphs = cuda_graphs;
  options.epochs = std::max<int64_t>(demo.epochs / 10, 100);
  torch::nn::Sequential warm = demo.fresh_model();
  train(warm, demo.data, options);
  options.epochs = demo.epochs;
  std::vector<double> micros;
  for (int r = 0; r < settings.repeats; ++r) {
    torch::nn::Sequential model = demo.fresh_model();
    const TrainResult result = train(model, demo.data, options);
    micros.push_back(result.seconds * 1e6 / static_cast<double>(result.epochs_run));
  }
  return stats_of(micros);
}

// Seconds of CPU the whole process used so far, all threads (user + system).
double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + t.tv_usec * 1e-6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

std::string stats_json(const Stats& s) {
  char text[160];
  std::snprintf(text, sizeof text, "{\"min\": %.4f, \"median\": %.4f, \"max\": %.4f}", s.min,
                s.median, s.max);
  return text;
}

#ifdef FITREEL_BENCH_RENDER
struct VideoNumbers {
  bench::Throughput drawing, encoding, video_alone, whole;
  double train_alone_seconds = 0;
  double train_alone_cpu = 0, encoding_cpu = 0, whole_cpu = 0;  // core-seconds
};

// The frames a real run draws: snapshots of training at the app's frame epochs.
VideoNumbers video_numbers(const Demo& demo, const Settings& settings) {
  // The library's look of the demo, which `fitreel` films it with.
  torch::nn::Sequential model = demo.fresh_model();
  const FilmOptions look = demo.name == "line" ? demos::line_look() : demos::net_look(model);
  // (an adaptive film picks its frames from a first pass: here they are spread evenly)
  const Schedule schedule = look.schedule == Schedule::adaptive ? Schedule::linear : look.schedule;
  const torch::Tensor curve_x = curve_inputs(demo.data);
  const cv::Size frame_size(1280, 720);  // the app's default --size
  const render::FitPlot plot(film_scene(model, demo.data, curve_x, demo.epochs, look), frame_size);
  TrainOptions options;
  options.epochs = demo.epochs;
  options.lr = demo.lr;
  options.curve_x = curve_x;
  options.snapshot_epochs = frame_epochs(demo.epochs, settings.frames, schedule);

  std::vector<render::FitFrame> frames;
  VideoNumbers numbers;
  double cpu = cpu_seconds();
  const TrainResult alone =
      train(model, demo.data, options,
            {[&](const Snapshot& s) { frames.push_back({s.epoch, s.loss, s.params, s.curve}); }});
  numbers.train_alone_cpu = cpu_seconds() - cpu;
  numbers.train_alone_seconds = alone.seconds;
  render::VideoSettings video_settings;
  video_settings.size = frame_size;
  video_settings.preset = settings.preset;
  numbers.drawing = bench::measure_drawing(plot, frames);
  cpu = cpu_seconds();
  numbers.encoding = bench::measure_encoding(plot, frames, settings.scratch, video_settings);
  numbers.encoding_cpu = cpu_seconds() - cpu - numbers.drawing.seconds;  // minus its drawing
  numbers.video_alone = bench::measure_pipeline(
      plot, settings.scratch, "video-alone", video_settings, [&](render::RenderPipeline& pipeline) {
        for (const render::FitFrame& frame : frames) {
          pipeline.push(frame);
        }
      });

  // The whole run: training here, drawing and encoding on the pipeline's threads.
  torch::nn::Sequential fresh = demo.fresh_model();
  cpu = cpu_seconds();
  numbers.whole = bench::measure_pipeline(
      plot, settings.scratch, "whole-run", video_settings, [&](render::RenderPipeline& pipeline) {
        train(fresh, demo.data, options,
              {[&](const Snapshot& s) { pipeline.push({s.epoch, s.loss, s.params, s.curve}); }});
      });
  numbers.whole_cpu = cpu_seconds() - cpu;
  return numbers;
}
#endif

// K models as `fitreel sweep` would make them: model k drawn with seed k (the line: its own
// data too), each at the demo's learning rate.
struct Batch {
  std::vector<torch::nn::Sequential> starts;
  std::vector<Dataset> data;
  double lr = 0.0;
};

Batch make_batch(const std::string& name, int64_t models) {
  Batch batch;
  const bool line = name == "line";
  batch.lr = line ? demos::kLine.lr : demos::kNet.lr;
  for (int64_t k = 0; k < models; ++k) {
    torch::manual_seed(static_cast<uint64_t>(k));
    batch.data.push_back(line ? demos::make_noisy_line(100) : demos::make_identity(100));
    batch.starts.push_back(line ? demos::make_line_model() : make_net());
  }
  if (!line) {
    batch.data.resize(1);  // one shared Dataset: the net's data draws nothing
  }
  return batch;
}

std::vector<torch::nn::Sequential> copies(const std::vector<torch::nn::Sequential>& models) {
  std::vector<torch::nn::Sequential> fresh;
  for (const auto& m : models) {
    fresh.emplace_back(std::dynamic_pointer_cast<torch::nn::SequentialImpl>(m->clone()));
  }
  return fresh;
}

struct BatchedNumbers {
  Stats batched, sequential;  // microseconds per model-epoch
};

// Microseconds per model-epoch: the K models in one train_batched() call, and the same K
// trained one after another with train() (the sum of their training loops).
BatchedNumbers batched_micros(const Batch& batch, int64_t epochs, const Settings& settings) {
  const auto models = static_cast<double>(batch.starts.size());
  BatchedOptions options;
  options.epochs = epochs;
  options.lrs = {batch.lr};
  std::vector<double> batched, sequential;
  for (int r = -1; r < settings.repeats; ++r) {  // r = -1: warm-up
    std::vector<torch::nn::Sequential> fresh = copies(batch.starts);
    const BatchedResult result =
        train_batched(std::vector<ModelRef>(fresh.begin(), fresh.end()), batch.data, options);
    if (r >= 0) {
      batched.push_back(result.seconds * 1e6 / (models * static_cast<double>(epochs)));
    }
  }
  TrainOptions single;
  single.epochs = epochs;
  single.lr = batch.lr;
  for (int r = 0; r < std::max(1, settings.repeats / 2); ++r) {
    double seconds = 0.0;
    std::vector<torch::nn::Sequential> fresh = copies(batch.starts);
    for (size_t k = 0; k < fresh.size(); ++k) {
      seconds += train(fresh[k], batch.data[batch.data.size() == 1 ? 0 : k], single).seconds;
    }
    sequential.push_back(seconds * 1e6 / (models * static_cast<double>(epochs)));
  }
  return {stats_of(batched), stats_of(sequential)};
}

void print_batched(const Settings& settings, std::vector<std::string>& json_rows) {
  std::printf("\nbatched training, CPU, %lld epochs, us per model-epoch, median [min, max]\n",
              static_cast<long long>(settings.batched_epochs));
  std::printf("%-5s %4s %26s %26s %8s\n", "demo", "K", "train_batched", "train() one by one",
              "ratio");
  for (const std::string name : {"net", "line"}) {
    for (int64_t models : settings.batch_sizes) {
      const Batch batch = make_batch(name, models);
      const BatchedNumbers n = batched_micros(batch, settings.batched_epochs, settings);
      const double ratio = n.sequential.median / n.batched.median;
      std::printf("%-5s %4lld %8.2f [%6.2f, %6.2f] %8.2f [%6.2f, %6.2f] %7.1fx\n", name.c_str(),
                  static_cast<long long>(models), n.batched.median, n.batched.min, n.batched.max,
                  n.sequential.median, n.sequential.min, n.sequential.max, ratio);
      json_rows.push_back("{\"demo\": \"" + name +
                          "\", \"batched_models\": " + std::to_string(models) +
                          ", \"epochs\": " + std::to_string(settings.batched_epochs) +
                          ", \"batched_us_per_model_epoch\": " + stats_json(n.batched) +
                          ", \"sequential_us_per_model_epoch\": " + stats_json(n.sequential) +
                          ", \"speedup\": " + std::to_string(ratio) + "}");
    }
  }
}

Settings parse(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        throw std::invalid_argument(arg + " needs a value");
      }
      return argv[++i];
    };
    if (arg == "--repeats") {
      settings.repeats = std::max(1, std::stoi(value()));
    } else if (arg == "--line-epochs") {
      settings.line_epochs = std::max<int64_t>(100, std::stoll(value()));
    } else if (arg == "--net-epochs") {
      settings.net_epochs = std::max<int64_t>(100, std::stoll(value()));
    } else if (arg == "--frames") {
      settings.frames = std::max<int64_t>(2, std::stoll(value()));
    } else if (arg == "--preset") {
      settings.preset = value();
    } else if (arg == "--device") {
      settings.devices.push_back(value());
    } else if (arg == "--batched-epochs") {
      settings.batched_epochs = std::max<int64_t>(10, std::stoll(value()));
    } else if (arg == "--batch-sizes") {
      settings.batch_sizes.clear();
      std::stringstream list(value());
      for (std::string item; std::getline(list, item, ',');) {
        settings.batch_sizes.push_back(std::max<int64_t>(1, std::stoll(item)));
      }
    } else if (arg == "--batched-only") {
      settings.batched_only = true;
    } else if (arg == "--motion") {
      settings.motion_only = true;
    } else if (arg == "--json") {
      settings.json = value();
    } else if (arg == "--help" || arg == "-h") {
      std::cout << "fitreel-bench [--repeats N] [--line-epochs N] [--net-epochs N] [--frames N]\n"
                   "              [--preset P] [--device cpu|cuda|cuda:N]... [--json FILE]\n"
                   "              [--batched-epochs N] [--batch-sizes 16,64] [--batched-only]\n"
                   "              [--motion]  (still frame steps per schedule, alone)\n";
      std::exit(0);
    } else {
      throw std::invalid_argument("unknown option " + arg);
    }
  }
  if (settings.devices.empty()) {
    settings.devices.push_back("cpu");
    if (torch::cuda::is_available()) {
      settings.devices.push_back("cuda");
    }
  }
  return settings;
}

// Everything the bench measures, in its own scratch folder; returns the exit code.
int run_bench(Settings settings) {
  const ScratchFolder scratch;
  settings.scratch = scratch.path();
#ifdef FITREEL_BENCH_RENDER
  if (settings.motion_only) {
    bench::print_motion(settings.scratch);
    return 0;
  }
#endif
  std::vector<std::string> json_rows;
  std::printf("fitreel-bench: LibTorch %s, %d repeats, median [min, max]\n", TORCH_VERSION,
              settings.repeats);
  std::printf("%-5s %-7s %-26s %12s %24s\n", "demo", "device", "training step", "us/epoch",
              "[min, max]");
  for (const std::string& device_spec : settings.devices) {
    if (settings.batched_only) {
      break;
    }
    const torch::Device device = resolve_device(device_spec);
    for (const std::string name : {"line", "net"}) {
      const Demo demo = make_demo(name, settings);
      struct Variant {
        const char* label;
        Gradients gradients;
        bool graphs;
      };
      std::vector<Variant> variants = {{"analytic (default)", Gradients::analytic, true},
                                       {"autograd", Gradients::autograd, true}};
      if (device.is_cuda()) {
        variants.push_back({"analytic, no CUDA graph", Gradients::analytic, false});
        variants.push_back({"autograd, no CUDA graph", Gradients::autograd, false});
      }
      for (const Variant& v : variants) {
        const Stats s = epoch_micros(demo, device, v.gradients, v.graphs, settings);
        std::printf("%-5s %-7s %-26s %12.2f %11.2f, %10.2f\n", name.c_str(),
                    device_name(device).c_str(), v.label, s.median, s.min, s.max);
        json_rows.push_back("{\"demo\": \"" + name + "\", \"device\": \"" + device_name(device) +
                            "\", \"step\": \"" + v.label +
                            "\", \"us_per_epoch\": " + stats_json(s) + "}");
      }
    }
  }
  print_batched(settings, json_rows);
#ifdef FITREEL_BENCH_RENDER
  if (!settings.batched_only) {
    std::printf("\n%-5s %12s %13s %19s %19s %14s %15s %15s\n", "demo", "drawing fps",
                "encoding fps", "video alone fps (s)", "whole run fps (s)", "train alone s",
                "whole/max(t,e)", "whole/max(t,v)");
    for (const std::string name : {"line", "net"}) {
      const Demo demo = make_demo(name, settings);
      const VideoNumbers v = video_numbers(demo, settings);
      // Overlap: against encoding alone (x264 and the colour conversion), and against making the
      // whole video without training (drawing + encoding on the pipeline's threads).
      const double overlap = v.whole.seconds / std::max(v.train_alone_seconds, v.encoding.seconds);
      const double video_overlap =
          v.whole.seconds / std::max(v.train_alone_seconds, v.video_alone.seconds);
      std::printf("%-5s %12.1f %13.1f %11.1f (%5.2f) %11.1f (%5.2f) %14.2f %15.2f %15.2f\n",
                  name.c_str(), v.drawing.frames_per_second, v.encoding.frames_per_second,
                  v.video_alone.frames_per_second, v.video_alone.seconds, v.whole.frames_per_second,
                  v.whole.seconds, v.train_alone_seconds, overlap, video_overlap);
      std::printf(
          "      CPU core-seconds: training %.2f, drawing %.2f, encoding %.2f, whole run %.2f "
          "(%.2f cores busy)\n",
          v.train_alone_cpu, v.drawing.seconds, v.encoding_cpu, v.whole_cpu,
          v.whole_cpu / v.whole.seconds);
      char row[600];
      std::snprintf(row, sizeof row,
                    "{\"demo\": \"%s\", \"drawing_fps\": %.2f, \"encoding_fps\": %.2f, "
                    "\"encoding_seconds\": %.4f, \"video_alone_seconds\": %.4f, "
                    "\"whole_run_fps\": %.2f, \"whole_run_seconds\": %.4f, "
                    "\"train_alone_seconds\": %.4f, \"overlap_ratio\": %.4f, "
                    "\"video_overlap_ratio\": %.4f, \"whole_run_cpu_seconds\": %.4f}",
                    name.c_str(), v.drawing.frames_per_second, v.encoding.frames_per_second,
                    v.encoding.seconds, v.video_alone.seconds, v.whole.frames_per_second,
                    v.whole.seconds, v.train_alone_seconds, overlap, video_overlap, v.whole_cpu);
      json_rows.push_back(row);
    }
  }
#endif
  const double rss = peak_rss_mb();
  std::printf("\npeak RSS of fitreel-bench: %.0f MB\n", rss);
  if (!settings.json.empty()) {
    std::ofstream out(settings.json);
    out << "{\"torch_version\": \"" << TORCH_VERSION << "\", \"peak_rss_mb\": " << rss
        << ", \"rows\": [\n";
    for (size_t i = 0; i < json_rows.size(); ++i) {
      out << "  " << json_rows[i] << (i + 1 < json_rows.size() ? ",\n" : "\n");
    }
    out << "]}\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  try {
    settings = parse(argc, argv);
  } catch (const std::exception& error) {
    std::cerr << "fitreel-bench: error: " << error.what() << " (see --help)\n";
    return 2;
  }
  try {
    return run_bench(std::move(settings));  // its scratch folder goes when it returns or throws
  } catch (const std::exception& error) {
    std::cerr << "fitreel-bench: error: " << error.what() << "\n";
    return 1;
  }
}
