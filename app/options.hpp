#pragma once

// The fitreel command line, parsed and validated into plain values (no LibTorch, no CLI11).

#include <cstdint>
#include <optional>
#include <stdexcept>
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

/// Bad input: reported as "fitreel: error: <what> (see --help)", exit 2, nothing written.
class UsageError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

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
  std::string loss = "mse";  ///< mse, l1 or huber
  double huber_delta = 1.0;
  int64_t batch_size = 0;  ///< 0 = the full batch
  double momentum = 0.0;   ///< sgd
  double weight_decay = 0.0;
  std::string schedule = "constant";  ///< constant, step, exp or cosine
  int64_t step_size = 1;
  double gamma = 0.1;
  double eta_min = 0.0;
};

/// Every option of one invocation, validated, with the demo defaults still open (nullopt).
struct RunOptions {
  std::string command = "all";  ///< line, net, all or sweep
  std::string sweep_demo;       ///< sweep: line or net
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
  std::optional<std::string> schedule;  ///< line log, net linear
  int fps = 30;
  int width = 1280;
  int height = 720;
  std::string preset = "ultrafast";
  bool show = false;
  bool units = true;  ///< net: draw the hidden units behind the model
  std::string gradients = "auto";
  std::optional<std::string> kernels;  ///< "exact" or "fused"; none: the command's default
  bool cuda_graphs = true;
  std::optional<std::string> data;  ///< line/net/sweep: points from a CSV file
  /// --columns X,Y: the file's x and y columns, each a 0-based index or a header name; none:
  /// the file has exactly two columns, x and y.
  std::optional<std::pair<DataColumn, DataColumn>> columns;
  std::optional<std::pair<double, double>> truth;  ///< the true line (slope, intercept)
  std::vector<int64_t> hidden{2};                  ///< net: hidden layer sizes
  std::string activation = "sigmoid";              ///< net: sigmoid, tanh or relu
  std::string optimizer = "adagrad";               ///< adagrad, sgd or adam
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

/// Parses argv. Returns the options, or an exit code when the run should end here (help or
/// version printed: 0; bad input reported on stderr: 2).
struct ParseOutcome {
  std::optional<RunOptions> options;
  int exit_code = kExitOk;
};
ParseOutcome parse_command_line(int argc, const char* const* argv);

}  // namespace fitreel::app
