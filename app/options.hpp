#pragma once

// The fitreel command line, parsed and validated into typed values (no LibTorch, no CLI11): every
// choice is converted once, here, into the library's own enums; nothing compares its text later.

#include <fitreel/choices.hpp>
#include <fitreel/error.hpp>
#include <fitreel/schedule.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fitreel::app {

/// Exit codes of the interface contract.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,      ///< runtime failure: I/O error, no encoder left
  kExitUsage = 2,        ///< bad input or usage
  kExitDiverged = 3,     ///< a demo's loss became non-finite
  kExitInterrupt = 130,  ///< SIGINT
  kExitTerminate = 143,  ///< SIGTERM
};

/// What a run does: one demo, both one after the other, or a sweep of one demo.
enum class Command { line, net, all, sweep };
/// One of the notebook's two demos: the noisy line, or the net learning y = x.
enum class Demo { line, net };
/// "line" or "net" (the demo's result folder, log and summary name).
std::string_view demo_name(Demo demo);
/// The demos a command trains, in order: its own, both for `all`, the swept one for `sweep`.
std::vector<Demo> demos_of(Command command, Demo sweep_demo);

/// What a run does with its frames.
enum class VideoChoice { mp4, webm, avi, gif, png, none };

/// A column of a --data file, as --columns names it: a 0-based index, or a header name.
struct DataColumn {
  std::optional<int64_t> index;  ///< when given as digits
  std::string name;              ///< otherwise
};

/// How the model is trained, beyond the rate and optimizer (--loss, --batch-size, --momentum,
/// --weight-decay, --lr-schedule); the defaults are the seed's full-batch MSE loop.
struct TrainingChoices {
  LossKind loss = LossKind::mse;
  double huber_delta = 1.0;
  int64_t batch_size = 0;  ///< 0 = the full batch
  double momentum = 0.0;   ///< sgd
  double weight_decay = 0.0;
  LrScheduleKind schedule = LrScheduleKind::constant;
  int64_t step_size = 1;
  double gamma = 0.1;
  double eta_min = 0.0;
};

/// Every option of one invocation, validated, with the demo defaults still open (nullopt).
struct RunOptions {
  Command command = Command::all;
  Demo sweep_demo = Demo::line;  ///< sweep: the demo swept
  std::string out_dir = "fitreel-out";
  uint64_t seed = 0;
  int64_t points = 100;
  std::optional<int64_t> epochs;  ///< line 30000, net 10000
  std::optional<double> lr;       ///< line 0.01, net 0.1
  std::string device = "auto";
  std::optional<int> threads;
  std::string log_level = "info";
  bool quiet = false;
  VideoChoice video = VideoChoice::mp4;
  int64_t frames = 300;
  std::optional<Schedule> schedule;  ///< the frames' epochs; none: adaptive
  int fps = 30;
  int width = 1280;
  int height = 720;
  std::string preset = "ultrafast";
  bool show = false;
  bool units = true;  ///< net: draw the hidden units behind the model
  Gradients gradients = Gradients::automatic;
  std::optional<TrainPath> kernels;  ///< --kernels fused: fastest; none: the command's default
  bool cuda_graphs = true;
  std::optional<std::string> data;  ///< line/net/sweep: points from a CSV file
  /// --columns X,Y: the file's x and y columns, each a 0-based index or a header name; none:
  /// the file has exactly two columns, x and y.
  std::optional<std::pair<DataColumn, DataColumn>> columns;
  std::optional<std::pair<double, double>> truth;  ///< the true line (slope, intercept)
  std::vector<int64_t> hidden{2};                  ///< net: hidden layer sizes
  Activation activation = Activation::sigmoid;     ///< net: after each hidden layer
  OptimizerKind optimizer = OptimizerKind::adagrad;
  std::vector<double> lrs{0.001, 0.01, 0.1, 1.0};  ///< sweep: the learning rates
  std::vector<uint64_t> seeds{};                   ///< sweep: one model per seed (empty: --seed)
  std::optional<std::string> save_model;           ///< line/net: write the trained model here
  std::optional<std::string> load_model;           ///< line/net: start from this trained model
  TrainingChoices training{};                      ///< line/net/all: loss, batches, schedule
  std::string command_line;                        ///< as typed, for summary.json
};

/// Strict parsers for option values: the whole text must be the number, in decimal.
/// Each throws UsageError naming `option` and the accepted range.
int64_t parse_integer(std::string_view text, std::string_view option, int64_t min, int64_t max);
uint64_t parse_unsigned(std::string_view text, std::string_view option);
double parse_positive_real(std::string_view text, std::string_view option);
/// A learning rate: finite, > 0, and still so in float32 (training computes in float32).
double parse_learning_rate(std::string_view text, std::string_view option);
/// A finite number of either sign.
double parse_real(std::string_view text, std::string_view option);
/// Comma-separated values, each parsed by `parse_one`; at least one, at most `max_count`.
template <class T, class Parse>
std::vector<T> parse_list(std::string_view text, std::string_view option, size_t max_count,
                          Parse parse_one) {
  std::vector<T> values;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    values.push_back(parse_one(text.substr(start, comma - start), option));
    if (comma == std::string_view::npos) {
      break;
    }
    start = comma + 1;
  }
  if (values.size() > max_count) {
    throw UsageError(std::string(option) + " takes at most " + std::to_string(max_count) +
                     " values");
  }
  return values;
}
/// Most models one sweep trains (seeds times rates).
inline constexpr size_t kMaxSweepModels = 256;
/// --seeds: "A..B" (every seed from A to B) or "S[,T...]"; distinct, at most kMaxSweepModels.
std::vector<uint64_t> parse_seeds(std::string_view text);
/// "WIDTHxHEIGHT", both even and from `min_side` to `max_side` (at most 5 digits each).
std::pair<int, int> parse_size(std::string_view text, std::string_view option, int min_side,
                               int max_side);
/// One of `choices`, exactly.
std::string parse_choice(std::string_view text, std::string_view option,
                         const std::vector<std::string>& choices);
/// A value named on the command line, and its name there.
template <class T>
struct Named {
  std::string_view name;
  T value;
};
/// The value of the one of `choices` named `text`, exactly; UsageError lists the names.
template <class T>
T parse_named(std::string_view text, std::string_view option,
              const std::vector<Named<T>>& choices) {
  std::vector<std::string> names;
  for (const Named<T>& choice : choices) {
    names.emplace_back(choice.name);
  }
  const std::string chosen = parse_choice(text, option, names);
  for (const Named<T>& choice : choices) {
    if (choice.name == chosen) {
      return choice.value;
    }
  }
  throw UsageError(std::string(option) + ": no value named '" + chosen + "'");  // unreachable
}

/// Parses argv. Returns the options, or an exit code when the run should end here (help or
/// version printed: 0; bad input reported on stderr: 2).
struct ParseOutcome {
  std::optional<RunOptions> options;
  int exit_code = kExitOk;
};
ParseOutcome parse_command_line(int argc, const char* const* argv);

}  // namespace fitreel::app
