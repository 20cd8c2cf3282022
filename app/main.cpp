// fitreel: the command-line front end. Parses, checks, then runs the demos; no maths, no drawing.
#include "demo.hpp"
#include "options.hpp"
#include "output.hpp"
#include "preflight.hpp"
#include "signals.hpp"
#include "sweep.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string_view>

namespace {

using namespace fitreel::app;

void set_up_logging(const RunOptions& options) {
  // spdlog colours whenever COLORTERM is set; a dumb terminal shows the codes as junk.
  const char* term = std::getenv("TERM");
  const bool dumb = term != nullptr && std::string_view(term) == "dumb";
  auto logger = spdlog::stderr_color_mt(
      "fitreel", dumb ? spdlog::color_mode::never : spdlog::color_mode::automatic);
  logger->set_pattern("%^[%l]%$ %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(options.quiet ? spdlog::level::warn
                                  : spdlog::level::from_str(options.log_level));
}

int exit_code_for_signal(int signal) { return signal == SIGTERM ? kExitTerminate : kExitInterrupt; }

int run(const RunOptions& options) {
  // Everything that can be wrong with the input is found before anything is written.
  const std::shared_ptr<const fitreel::XyPoints> file = check_inputs(options);
  check_environment(options);
  if (options.save_model) {
    check_model_destination(*options.save_model);
  }
  prepare_output_root(options.out_dir);
  install_stop_handlers();
  if (options.command == "sweep") {
    const DemoOutcome outcome = run_sweep(options, file.get());
    return outcome == DemoOutcome::interrupted ? exit_code_for_signal(stop_signal()) : kExitOk;
  }

  const std::vector<std::string> demos = options.command == "all"
                                             ? std::vector<std::string>{"line", "net"}
                                             : std::vector<std::string>{options.command};
  bool diverged = false;
  for (const std::string& demo : demos) {
    const DemoOutcome outcome = run_demo(demo, options, file.get());
    if (outcome == DemoOutcome::interrupted) {
      return exit_code_for_signal(stop_signal());  // `all` stops after an interrupted demo
    }
    diverged = diverged || outcome == DemoOutcome::diverged;
  }
  if (stop_signal() != 0) {  // arrived after the last epoch: the results are complete anyway
    return exit_code_for_signal(stop_signal());
  }
  return diverged ? kExitDiverged : kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  const ParseOutcome parsed = parse_command_line(argc, argv);
  if (!parsed.options) {
    return parsed.exit_code;
  }
  set_up_logging(*parsed.options);
  try {
    return run(*parsed.options);
  } catch (const UsageError& error) {
    std::cerr << "fitreel: error: " << error.what() << " (see --help)\n";
    return kExitUsage;
  } catch (const std::exception& error) {
    std::cerr << "fitreel: error: " << error.what() << "\n";
    return kExitFailure;
  }
}
