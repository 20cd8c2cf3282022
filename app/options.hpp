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

/// Every option of one invocation, validated, with the demo defaults still open (nullopt).
struct RunOptions {
  std::string command = "all";  ///< line, net or all
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
  std::string gradients = "auto";
  bool cuda_graphs = true;
  std::optional<std::string> save_model;  ///< line/net: write the trained model here
  std::optional<std::string> load_model;  ///< line/net: start from this trained model
  std::string command_line;               ///< as typed, for summary.json
};

/// Strict parsers for option values: the whole text must be the number, in decimal.
/// Each throws UsageError naming `option` and the accepted range.
int64_t parse_integer(std::string_view text, std::string_view option, int64_t min, int64_t max);
uint64_t parse_unsigned(std::string_view text, std::string_view option);
double parse_positive_real(std::string_view text, std::string_view option);
/// "WIDTHxHEIGHT", both even and at least 64.
std::pair<int, int> parse_size(std::string_view text, std::string_view option);
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
