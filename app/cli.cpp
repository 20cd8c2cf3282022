// The command line: CLI11 collects every value as text and options.cpp validates it, because
// CLI11 2.1's own checks let nan, wrapped negatives and octal "010" through.
#include "options.hpp"
#include "output.hpp"

#include <fitreel/demos.hpp>
#include <fitreel/render/plot.hpp>
#include <fitreel/render/video.hpp>
#include <fitreel/version.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>

namespace fitreel::app {

namespace {

const std::vector<std::string> kCommands = {"line", "net", "all", "sweep"};

// `all` and `sweep` train several models, so a model file would be ambiguous; CLI11 alone
// would only say "arguments were not expected".
void refuse_model_options(const std::string& command, const std::vector<std::string>& args) {
  if (command != "all" && command != "sweep") {
    return;
  }
  for (const std::string& arg : args) {
    for (const char* option : {"--save-model", "--load-model"}) {
      if (arg == option || arg.rfind(std::string(option) + "=", 0) == 0) {
        throw UsageError(std::string(option) + " belongs to `fitreel line` or `fitreel net`: `" +
                         command + "` trains " +
                         (command == "all" ? "two models (line and net)" : "one model per rate") +
                         ", so run one demo, e.g. `fitreel line " + option + " FILE`");
      }
    }
  }
}

// Option values exactly as typed; empty = not given.
struct RawOptions {
  std::string out, seed, points, epochs, lr, device, threads, log_level;
  std::string video, frames, schedule, fps, size, preset, gradients, kernels;
  std::string save_model, load_model;
  std::string data, columns, truth, hidden, activation, optimizer, lrs, seeds, sweep_demo;
  std::string loss, batch_size, momentum, weight_decay, lr_schedule;
  bool quiet = false;
  bool show = false;
  bool no_cuda_graphs = false;
  bool no_units = false;
};

void add_common_options(CLI::App& command, RawOptions& raw, bool with_lr = true) {
  command
      .add_option("--out", raw.out,
                  "Folder for the results (default fitreel-out). Each demo writes DIR/<demo>/, "
                  "replacing what an earlier run of it left there")
      ->type_name("DIR");
  command
      .add_option("--seed", raw.seed,
                  "Seed of LibTorch's CPU generator (default 0); the same seed gives the same "
                  "numbers as Python PyTorch")
      ->type_name("N");
  command
      .add_option("--points", raw.points,
                  "Number of data points, at least 5 (default 100, the seed's)")
      ->type_name("N");
  command
      .add_option("--epochs", raw.epochs,
                  "Full-batch training steps, at least 1 (default: line 30000, net 10000)")
      ->type_name("N");
  if (with_lr) {  // a sweep takes its rates from --lrs
    command
        .add_option("--lr", raw.lr,
                    "Learning rate, > 0 and within float32's range, up to 3.4e38 (default: "
                    "line 0.01, net 0.1)")
        ->type_name("X");
  }
  command
      .add_option("--device", raw.device,
                  "auto (CUDA when present, else CPU), cpu, cuda or cuda:N (default auto)")
      ->type_name("D");
  command
      .add_option("--threads", raw.threads,
                  "Threads for LibTorch's kernels and a batched sweep's, one count for both, "
                  "1 to 256 (default: one per CPU this process may use)")
      ->type_name("N");
  command
      .add_option("--log-level", raw.log_level,
                  "trace, debug, info, warn, error or off (default info)")
      ->type_name("L");
  command.add_flag("-q,--quiet", raw.quiet, "Only warnings and errors on stderr, no progress");
  command
      .add_option("--video", raw.video,
                  "mp4 (H.264, plays in browsers and phones), webm (VP9), avi (Motion JPEG), "
                  "gif (looping), png (numbered frames in DIR/<demo>/frames/) or none "
                  "(default mp4)")
      ->type_name("FORMAT");
  command
      .add_option("--frames", raw.frames,
                  "Frames in the video, at least 2; always the first and last epoch, one per "
                  "epoch when there are fewer epochs (default 300)")
      ->type_name("N");
  command
      .add_option("--schedule", raw.schedule,
                  "Which epochs become frames: adaptive (default: a first, unfilmed pass finds "
                  "where the fit moves, then the same run is filmed with each frame moving the "
                  "curve about as much as the next), log (dense early) or linear (even)")
      ->type_name("S");
  command.add_option("--fps", raw.fps, "Video frame rate, 1 to 240, gif 1 to 50 (default 30)")
      ->type_name("N");
  command
      .add_option("--size", raw.size,
                  "Frame size WIDTHxHEIGHT, even, 64 to 7680 (default 1280x720)")
      ->type_name("WxH");
  command
      .add_option(
          "--preset", raw.preset,
          "x264 preset for mp4, ultrafast to veryslow: faster makes bigger files "
          "(default ultrafast: quickest to make; veryfast is ~2x slower for ~3x smaller files)")
      ->type_name("P");
  command.add_flag("--show", raw.show,
                   "Also show the frames in a window as training runs (needs a display)");
  command.add_flag("--no-units", raw.no_units,
                   "net: do not draw the hidden units (each unit's share of the output, faint "
                   "behind the model, up to 8 of the last hidden layer)");
  command
      .add_option("--gradients", raw.gradients,
                  "auto (hand-derived chain rule where the model allows, else autograd), "
                  "autograd or analytic; all give the same numbers (default auto)")
      ->type_name("G");
  command
      .add_option("--kernels", raw.kernels,
                  "exact: LibTorch's own kernels, number for number with PyTorch (default of "
                  "line, net and all); fused: the sweep's fused CPU kernels, several times "
                  "faster past the seed's size, within the batch contract of exact, and bit for "
                  "bit a sweep's model (default of sweep; exact there trains one model at a time)")
      ->type_name("K");
  command.add_flag("--no-cuda-graphs", raw.no_cuda_graphs,
                   "On CUDA, launch every kernel of a step instead of replaying a captured graph");
}

// Options of one demo's own: they make no sense for `all`.
void add_model_options(CLI::App& command, RawOptions& raw) {
  command
      .add_option("--save-model", raw.save_model,
                  "After training, save the model and the optimizer's state to FILE, in the "
                  "format of Python's torch.save (torch.load(FILE, weights_only=True) reads it); "
                  "written whole or not at all")
      ->type_name("FILE");
  command
      .add_option("--load-model", raw.load_model,
                  "Start from a saved model instead of random parameters: fitreel's (the "
                  "optimizer's state, the epoch and the schedule go on from there), a state_dict "
                  "Python saved (torch.save(model.state_dict(), FILE)), or fitreel 0.2's")
      ->type_name("FILE");
}

// How the model is trained: what PyTorch's loop would say in one line each.
void add_training_options(CLI::App& command, RawOptions& raw) {
  command
      .add_option("--loss", raw.loss,
                  "mse (the seed's), l1, or huber or huber:DELTA (squared up to DELTA, linear "
                  "beyond; default delta 1), averaged over the samples")
      ->type_name("L");
  command
      .add_option("--batch-size", raw.batch_size,
                  "Samples per step: 0 (default) is the full batch, one step per epoch; N "
                  "reshuffles every epoch and steps once per batch of N, as DataLoader(..., "
                  "batch_size=N, shuffle=True) does")
      ->type_name("N");
  command.add_option("--momentum", raw.momentum, "sgd: momentum, >= 0 (default 0)")->type_name("X");
  command
      .add_option("--weight-decay", raw.weight_decay,
                  "L2 penalty added to the gradient, >= 0 (default 0; any optimizer)")
      ->type_name("X");
  command
      .add_option("--lr-schedule", raw.lr_schedule,
                  "How the rate changes after each epoch, as torch.optim.lr_scheduler does: "
                  "constant (default), step:SIZE:GAMMA (times GAMMA every SIZE epochs), "
                  "exp:GAMMA (times GAMMA every epoch) or cosine[:ETA_MIN] (down to ETA_MIN, "
                  "default 0, over the run's epochs)")
      ->type_name("S");
}

// Your own points, the line they should follow, and the optimizer.
void add_data_options(CLI::App& command, RawOptions& raw) {
  command
      .add_option("--data", raw.data,
                  "Fit the points in a CSV file instead of the seed's: two numeric columns "
                  "x,y (or two of many, with --columns), an optional header, # comments. The "
                  "line demo still holds out 20%")
      ->type_name("FILE");
  command
      .add_option("--columns", raw.columns,
                  "The --data file's x and y columns, each a 0-based index (digits) or a name "
                  "from its header line, e.g. 0,2 or t,signal; the file may then have any "
                  "number of columns (default: the file has exactly two, x then y)")
      ->type_name("X,Y");
  command
      .add_option("--truth", raw.truth,
                  "The true line to draw, SLOPE,INTERCEPT (default: the seed's, or none "
                  "with --data)")
      ->type_name("W,B");
  command
      .add_option("--optimizer", raw.optimizer,
                  "adagrad (the seed's optimizer; its comment calls it SGD, but it is "
                  "Adagrad), sgd (plain stochastic gradient descent) or adam (default "
                  "adagrad)")
      ->type_name("O");
}

// The net's shape.
void add_net_options(CLI::App& command, RawOptions& raw) {
  command
      .add_option("--hidden", raw.hidden,
                  "Hidden layer sizes, comma-separated, e.g. 16 or 8,4 (default 2: the "
                  "seed's 1-2-1 net)")
      ->type_name("N[,M...]");
  command
      .add_option("--activation", raw.activation,
                  "sigmoid (the seed's), tanh or relu, after every hidden layer")
      ->type_name("A");
}

// The loosest of every format's video limits: what --fps and --size take before --video's
// own limits narrow them (png frames and none take these too).
render::VideoLimits widest_video_limits() {
  render::VideoLimits widest = render::video_limits(render::VideoFormat::mp4);
  for (const render::VideoFormat format :
       {render::VideoFormat::webm, render::VideoFormat::avi, render::VideoFormat::gif}) {
    const render::VideoLimits limits = render::video_limits(format);
    widest.min_fps = std::min(widest.min_fps, limits.min_fps);
    widest.max_fps = std::max(widest.max_fps, limits.max_fps);
    widest.min_side = std::min(widest.min_side, limits.min_side);
    widest.max_side = std::max(widest.max_side, limits.max_side);
  }
  return widest;
}

// --columns X,Y: two columns, each digits (a 0-based index) or a header name.
std::pair<DataColumn, DataColumn> parse_columns(const std::string& text) {
  const std::string accepted =
      "; it takes X,Y: two columns of the --data file, each a 0-based index or a header name "
      "(e.g. 0,2 or t,signal)";
  const size_t comma = text.find(',');
  if (comma == std::string::npos || text.find(',', comma + 1) != std::string::npos) {
    throw UsageError("--columns got '" + text + "'" + accepted);
  }
  const auto column = [&](std::string_view item) {
    // Trimmed as the reader trims header cells.
    const size_t first = item.find_first_not_of(" \t");
    const size_t last = item.find_last_not_of(" \t");
    item =
        first == std::string_view::npos ? std::string_view() : item.substr(first, last - first + 1);
    if (item.empty()) {
      throw UsageError("--columns got '" + text + "', with an empty column" + accepted);
    }
    DataColumn chosen;
    if (item.find_first_not_of("0123456789") == std::string_view::npos) {
      chosen.index = parse_integer(item, "--columns", 0, 1'000'000'000);
    } else {
      chosen.name = std::string(item);
    }
    return chosen;
  };
  return {column(std::string_view(text).substr(0, comma)),
          column(std::string_view(text).substr(comma + 1))};
}

// --loss, --batch-size, --momentum, --weight-decay, --lr-schedule, each checked once here.
void validate_training(const RawOptions& raw, OptimizerKind optimizer, TrainingChoices& training) {
  if (!raw.loss.empty()) {
    const size_t colon = raw.loss.find(':');
    training.loss = parse_named<LossKind>(
        std::string_view(raw.loss).substr(0, colon), "--loss",
        {{"mse", LossKind::mse}, {"l1", LossKind::l1}, {"huber", LossKind::huber}});
    if (colon != std::string::npos) {
      if (training.loss != LossKind::huber) {
        throw UsageError("--loss " + raw.loss + ": only huber takes a delta (huber:DELTA)");
      }
      training.huber_delta = parse_positive_real(raw.loss.substr(colon + 1), "--loss huber:DELTA");
    }
  }
  if (!raw.batch_size.empty()) {
    training.batch_size = parse_integer(raw.batch_size, "--batch-size", 0, 100'000'000);
  }
  if (!raw.momentum.empty()) {
    if (optimizer != OptimizerKind::sgd) {
      throw UsageError(
          "--momentum is SGD's: add --optimizer sgd (adam's momentum is its betas, "
          "adagrad has none)");
    }
    training.momentum = parse_real(raw.momentum, "--momentum");
    if (training.momentum < 0.0) {
      throw UsageError("--momentum got '" + raw.momentum + "'; it takes a number >= 0 (e.g. 0.9)");
    }
  }
  if (!raw.weight_decay.empty()) {
    training.weight_decay = parse_real(raw.weight_decay, "--weight-decay");
    if (training.weight_decay < 0.0) {
      throw UsageError("--weight-decay got '" + raw.weight_decay +
                       "'; it takes a number >= 0 (e.g. 1e-4)");
    }
  }
  if (!raw.lr_schedule.empty()) {
    std::vector<std::string> parts;
    for (size_t start = 0;;) {
      const size_t colon = raw.lr_schedule.find(':', start);
      parts.push_back(raw.lr_schedule.substr(start, colon - start));
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    using Kind = LrScheduleKind;
    training.schedule = parse_named<Kind>(parts[0], "--lr-schedule",
                                          {{"constant", Kind::constant},
                                           {"step", Kind::step},
                                           {"exp", Kind::exponential},
                                           {"cosine", Kind::cosine}});
    const Kind kind = training.schedule;
    const std::string form = kind == Kind::step          ? "step:SIZE:GAMMA (e.g. step:1000:0.5)"
                             : kind == Kind::exponential ? "exp:GAMMA (e.g. exp:0.999)"
                             : kind == Kind::cosine      ? "cosine or cosine:ETA_MIN"
                                                         : "constant";
    const size_t wanted = kind == Kind::step ? 3 : kind == Kind::exponential ? 2 : 0;
    const bool fits = wanted != 0
                          ? parts.size() == wanted
                          : parts.size() == 1 || (kind == Kind::cosine && parts.size() == 2);
    if (!fits) {
      throw UsageError("--lr-schedule got '" + raw.lr_schedule + "'; it takes " + form);
    }
    if (kind == Kind::step) {
      training.step_size = parse_integer(parts[1], "--lr-schedule step:SIZE", 1, 1'000'000'000);
      training.gamma = parse_positive_real(parts[2], "--lr-schedule step:SIZE:GAMMA");
    } else if (kind == Kind::exponential) {
      training.gamma = parse_positive_real(parts[1], "--lr-schedule exp:GAMMA");
    } else if (kind == Kind::cosine && parts.size() == 2) {
      training.eta_min = parse_real(parts[1], "--lr-schedule cosine:ETA_MIN");
      if (training.eta_min < 0.0) {
        throw UsageError("--lr-schedule cosine:ETA_MIN got '" + parts[1] +
                         "'; it takes a rate >= 0");
      }
    }
  }
}

RunOptions validate(const std::string& command, const RawOptions& raw) {
  RunOptions options;
  options.command = parse_named<Command>(command, "COMMAND",
                                         {{"line", Command::line},
                                          {"net", Command::net},
                                          {"all", Command::all},
                                          {"sweep", Command::sweep}});
  if (!raw.out.empty()) {
    options.out_dir = raw.out;
  }
  if (!raw.seed.empty()) {
    options.seed = parse_unsigned(raw.seed, "--seed");
  }
  if (!raw.points.empty()) {
    options.points = parse_integer(raw.points, "--points", 5, 100'000'000);
  }
  if (!raw.epochs.empty()) {
    options.epochs = parse_integer(raw.epochs, "--epochs", 1, 1'000'000'000);
  }
  if (!raw.lr.empty()) {
    options.lr = parse_learning_rate(raw.lr, "--lr");
  }
  if (!raw.device.empty()) {
    options.device = raw.device;  // resolved (and checked) against the machine later
  }
  if (!raw.threads.empty()) {
    options.threads = static_cast<int>(parse_integer(raw.threads, "--threads", 1, 256));
  }
  if (!raw.log_level.empty()) {
    options.log_level = parse_choice(raw.log_level, "--log-level",
                                     {"trace", "debug", "info", "warn", "error", "off"});
  }
  options.quiet = raw.quiet;
  if (!raw.video.empty()) {
    const std::string video =
        parse_choice(raw.video, "--video", {"mp4", "webm", "avi", "gif", "png", "none"});
    options.video = video == "mp4"    ? VideoChoice::mp4
                    : video == "webm" ? VideoChoice::webm
                    : video == "avi"  ? VideoChoice::avi
                    : video == "gif"  ? VideoChoice::gif
                    : video == "png"  ? VideoChoice::png
                                      : VideoChoice::none;
  }
  if (!raw.frames.empty()) {
    options.frames = parse_integer(raw.frames, "--frames", 2, 1'000'000);
  }
  if (!raw.schedule.empty()) {
    options.schedule = parse_named<Schedule>(
        raw.schedule, "--schedule",
        {{"adaptive", Schedule::adaptive}, {"log", Schedule::log}, {"linear", Schedule::linear}});
  }
  // The library decides the limits (render::video_limits); here they are worded as options.
  // --fps and --size first take what any format takes, then --video's own range.
  const render::VideoLimits widest = widest_video_limits();
  if (!raw.fps.empty()) {
    options.fps = static_cast<int>(parse_integer(raw.fps, "--fps", widest.min_fps, widest.max_fps));
  }
  if (!raw.size.empty()) {
    std::tie(options.width, options.height) =
        parse_size(raw.size, "--size", widest.min_side, widest.max_side);
  }
  if (const std::optional<render::VideoFormat> format = video_format(options.video)) {
    const render::VideoLimits limits = render::video_limits(*format);
    const std::string name(render::video_format_name(*format));
    if (options.fps > limits.max_fps) {  // gif: FFmpeg would fail (or play slow) after training
      throw UsageError("--fps " + std::to_string(options.fps) + " is too fast for --video " + name +
                       ": " + std::string(limits.max_fps_why) + ", so " + name + " takes --fps " +
                       std::to_string(limits.min_fps) + " to " + std::to_string(limits.max_fps));
    }
    // Whatever else the library refuses stops the run here too, not after training.
    try {
      render::VideoSettings settings;
      settings.size = {options.width, options.height};
      settings.fps = options.fps;
      render::check_video_settings(*format, settings);
    } catch (const InputError& error) {
      throw UsageError("--video " + name + ": " + error.what());
    }
  }
  if (!raw.preset.empty()) {
    options.preset = parse_choice(raw.preset, "--preset",
                                  {"ultrafast", "superfast", "veryfast", "faster", "fast", "medium",
                                   "slow", "slower", "veryslow"});
  }
  options.show = raw.show;
  if (!raw.gradients.empty()) {
    options.gradients = parse_named<Gradients>(raw.gradients, "--gradients",
                                               {{"auto", Gradients::automatic},
                                                {"autograd", Gradients::autograd},
                                                {"analytic", Gradients::analytic}});
  }
  if (!raw.kernels.empty()) {
    options.kernels = parse_named<TrainPath>(
        raw.kernels, "--kernels", {{"exact", TrainPath::exact}, {"fused", TrainPath::fastest}});
  }
  options.cuda_graphs = !raw.no_cuda_graphs;
  options.units = !raw.no_units;
  if (!raw.save_model.empty()) {
    options.save_model = raw.save_model;
  }
  if (!raw.load_model.empty()) {
    options.load_model = raw.load_model;
  }
  if (!raw.data.empty()) {
    if (!raw.points.empty()) {
      throw UsageError("--data and --points exclude each other: the file gives the points");
    }
    options.data = raw.data;
  }
  if (!raw.columns.empty()) {
    if (raw.data.empty()) {
      throw UsageError("--columns picks the columns of a --data FILE; give --data too");
    }
    options.columns = parse_columns(raw.columns);
  }
  if (!raw.truth.empty()) {
    const auto values = parse_list<double>(raw.truth, "--truth", 2, parse_real);
    if (values.size() != 2) {
      throw UsageError("--truth got '" + raw.truth + "'; it takes SLOPE,INTERCEPT (e.g. 3,-1)");
    }
    options.truth = std::pair(values[0], values[1]);
  }
  if (!raw.hidden.empty()) {
    options.hidden = parse_list<int64_t>(raw.hidden, "--hidden", 8, [](auto text, auto name) {
      return parse_integer(text, name, 1, 4096);
    });
  }
  if (!raw.activation.empty()) {
    options.activation = parse_named<Activation>(
        raw.activation, "--activation",
        {{"sigmoid", Activation::sigmoid}, {"tanh", Activation::tanh}, {"relu", Activation::relu}});
  }
  if (!raw.optimizer.empty()) {
    options.optimizer = parse_named<OptimizerKind>(raw.optimizer, "--optimizer",
                                                   {{"adagrad", OptimizerKind::adagrad},
                                                    {"sgd", OptimizerKind::sgd},
                                                    {"adam", OptimizerKind::adam}});
  }
  validate_training(raw, options.optimizer, options.training);
  if (options.command == Command::sweep) {
    options.sweep_demo = parse_named<Demo>(raw.sweep_demo, "sweep's DEMO",
                                           {{"line", Demo::line}, {"net", Demo::net}});
    if (options.sweep_demo == Demo::line && (!raw.hidden.empty() || !raw.activation.empty())) {
      throw UsageError("--hidden and --activation shape the net; `sweep line` fits a line");
    }
    if (!raw.lrs.empty()) {
      options.lrs = parse_list<double>(raw.lrs, "--lrs", kMaxSweepModels, parse_learning_rate);
    }
    if (!raw.seeds.empty()) {
      if (!raw.seed.empty()) {
        throw UsageError("--seed and --seeds both given: a sweep over seeds takes --seeds alone");
      }
      options.seeds = parse_seeds(raw.seeds);
      if (raw.lrs.empty()) {  // seeds alone: each at the demo's own rate, as its single run
        options.lrs = {options.sweep_demo == Demo::line ? demos::kLine.lr : demos::kNet.lr};
      }
    }
    const size_t models = options.lrs.size() * std::max<size_t>(1, options.seeds.size());
    if (models > kMaxSweepModels) {
      throw UsageError("a sweep trains at most " + std::to_string(kMaxSweepModels) +
                       " models; --seeds times --lrs makes " + std::to_string(models));
    }
  }
  return options;
}

std::string lower_first(std::string text) {
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') {
    text[0] = static_cast<char>(text[0] - 'A' + 'a');
  }
  return text;
}

}  // namespace

ParseOutcome parse_command_line(int argc, const char* const* argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string command_line = "fitreel";
  for (const auto& arg : args) {
    command_line += " " + arg;
  }
  const auto usage_error = [](const std::string& what) {
    std::cerr << "fitreel: error: " << what << " (see --help)\n";
    return ParseOutcome{std::nullopt, kExitUsage};
  };

  // No command means `all`, so `fitreel --epochs 100` is `fitreel all --epochs 100`.
  const bool top_level_only =
      !args.empty() && (args[0] == "-h" || args[0] == "--help" || args[0] == "--version");
  if (args.empty() || (args[0].rfind('-', 0) == 0 && !top_level_only)) {
    args.insert(args.begin(), "all");
  }
  if (!top_level_only &&
      std::find(kCommands.begin(), kCommands.end(), args[0]) == kCommands.end()) {
    return usage_error("unknown command '" + args[0] +
                       "'; the commands are line, net, all and sweep");
  }

  if (!top_level_only) {
    try {
      refuse_model_options(args[0], {args.begin() + 1, args.end()});
    } catch (const UsageError& error) {
      return usage_error(error.what());
    }
  }

  CLI::App cli(
      "fitreel: the two demos of the classic \"15 minute PyTorch\" notebook in "
      "LibTorch C++\n(a noisy line fitted by Linear(1,1), and a 1-2-1 sigmoid net "
      "learning y = x), drawn into PNG stills and training videos.",
      "fitreel");
  // The second line says which font frames get (DejaVu Sans unless a fallback was needed).
  const std::optional<std::string> no_font = render::text_fallback_reason();
  cli.set_version_flag("--version", std::string("fitreel ") + kVersion + "\ntext: " +
                                        (no_font ? "Hershey (" + *no_font + ")"
                                                 : std::string("DejaVu Sans via OpenCV freetype")));
  cli.require_subcommand(0, 1);
  cli.footer(
      "Run `fitreel <command> --help` for the options; with no command fitreel runs `all`.\n"
      "Outputs per demo, in DIR/<demo>/: summary.json, loss.csv, PNG stills and the video;\n"
      "a sweep writes DIR/sweep-<demo>/: the grid video, sweep.json and sweep.png.\n"
      "Exit codes: 0 ok, 1 runtime failure, 2 bad input, 3 diverged (a sweep exits 0 and says\n"
      "which rates diverged), 130 SIGINT, 143 SIGTERM.");
  RawOptions raw;
  CLI::App* line = cli.add_subcommand(
      "line",
      "Fit a Linear(1,1) to y = -0.5x + 2 plus noise with Adagrad and MSE, holding out 20%");
  CLI::App* net =
      cli.add_subcommand("net", "Train a 1-2-1 sigmoid net to learn y = x with Adagrad and MSE");
  CLI::App* all = cli.add_subcommand("all", "Run line, then net, with the same options (default)");
  CLI::App* sweep = cli.add_subcommand(
      "sweep",
      "Train line or net once per learning rate (--lrs) and seed (--seeds), together in batches, "
      "and draw them side by side");
  for (CLI::App* command : {line, net, all}) {
    add_common_options(*command, raw);
  }
  add_common_options(*sweep, raw, /*with_lr=*/false);
  for (CLI::App* command : {line, net}) {
    add_model_options(*command, raw);
  }
  for (CLI::App* command : {line, net, all}) {
    add_training_options(*command, raw);
  }
  for (CLI::App* command : {line, net, sweep}) {
    add_data_options(*command, raw);
  }
  add_net_options(*net, raw);
  add_net_options(*sweep, raw);
  sweep->add_option("demo", raw.sweep_demo, "line or net")->required()->type_name("DEMO");
  sweep
      ->add_option("--lrs", raw.lrs,
                   "Learning rates, comma-separated, each finite and > 0; one model each, from "
                   "the same seed and data (default 0.001,0.01,0.1,1)")
      ->type_name("X[,Y...]");
  sweep
      ->add_option("--seeds", raw.seeds,
                   "Seeds, A..B or comma-separated: one model per seed (for line each seed has "
                   "its own data and split, as its single run), crossed with --lrs; at most 256 "
                   "models in all, trained together in batches as memory allows")
      ->type_name("A..B|S[,T...]");

  std::vector<const char*> cli_argv{"fitreel"};
  for (const auto& arg : args) {
    cli_argv.push_back(arg.c_str());
  }
  try {
    cli.parse(static_cast<int>(cli_argv.size()), cli_argv.data());
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) {  // --help or --version
      cli.exit(error);
      return {std::nullopt, kExitOk};
    }
    return usage_error(lower_first(error.what()));
  }
  try {
    const std::string command =
        cli.get_subcommands().empty() ? "all" : cli.get_subcommands()[0]->get_name();
    // An option given an empty value ("--epochs ''") is an error, not its default.
    for (const CLI::App* parsed : cli.get_subcommands()) {
      for (const CLI::Option* option : parsed->get_options()) {
        for (const std::string& value : option->results()) {
          if (value.empty() && option->get_type_size() != 0) {
            throw UsageError(option->get_name() + " got an empty value");
          }
        }
      }
    }
    RunOptions options = validate(command, raw);
    options.command_line = command_line;
    return {options, kExitOk};
  } catch (const UsageError& error) {
    return usage_error(error.what());
  }
}

}  // namespace fitreel::app
