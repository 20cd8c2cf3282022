// fitreel: the command-line front end. Parses, checks, then runs the demos; no maths, no drawing.
#include "demo.hpp"
#include "index_page.hpp"
#include "options.hpp"
#include "output.hpp"
#include "preflight.hpp"
#include "run_log.hpp"
#include "signals.hpp"
#include "sweep.hpp"

#include <fitreel/error.hpp>
#include <fitreel/render/plot.hpp>
#include <fitreel/runtime.hpp>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace fitreel::app;

void set_up_logging(const RunOptions& options) {
  // spdlog colours whenever COLORTERM is set; a dumb terminal shows the codes as junk.
  const char* term = std::getenv("TERM");
  const bool dumb = term != nullptr && std::string_view(term) == "dumb";
  auto logger = spdlog::stderr_color_mt(
      "fitreel", dumb ? spdlog::color_mode::never : spdlog::color_mode::automatic);
  logger->set_pattern("%^[%l]%$ %v");
  record_run_log(*logger);  // each result folder keeps its own part as log.txt
  spdlog::set_default_logger(logger);
  spdlog::set_level(options.quiet ? spdlog::level::warn
                                  : spdlog::level::from_str(options.log_level));
}

int exit_code_for_signal(int signal) { return signal == SIGTERM ? kExitTerminate : kExitInterrupt; }

// Result folders this run replaces: DIR/line, DIR/net, or DIR/sweep-<demo>.
std::vector<std::string> result_folder_names(const RunOptions& options) {
  std::vector<std::string> names;
  for (const Demo demo : demos_of(options.command, options.sweep_demo)) {
    names.push_back((options.command == Command::sweep ? "sweep-" : "") +
                    std::string(demo_name(demo)));
  }
  return names;
}

// Trains what the command asks, each demo into its own output; returns the exit code.
int train_into(const RunOptions& options, const fitreel::XyPoints* file,
               const std::vector<std::unique_ptr<DemoOutput>>& outputs) {
  if (options.command == Command::sweep) {
    const DemoOutcome outcome = run_sweep(options, file, *outputs.front());
    return outcome == DemoOutcome::interrupted ? exit_code_for_signal(stop_signal()) : kExitOk;
  }
  bool diverged = false;
  const std::vector<Demo> demos = demos_of(options.command, options.sweep_demo);
  for (std::size_t i = 0; i < demos.size(); ++i) {
    const DemoOutcome outcome = run_demo(demos[i], options, file, *outputs[i]);
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

int run(const RunOptions& options) {
  // Everything that can be wrong with the input is found before anything is written.
  const std::vector<std::string> names = result_folder_names(options);
  check_model_paths(options, names);
  const std::shared_ptr<const fitreel::XyPoints> file = check_inputs(options);
  check_environment(options);
  // DIR is locked, and every folder this run replaces checked, before any training.
  const OutputRoot root(options.out_dir);
  std::vector<std::unique_ptr<DemoOutput>> outputs;
  for (const std::string& name : names) {
    outputs.push_back(std::make_unique<DemoOutput>(root, name));
  }
  install_stop_handlers();
  int exit_code = kExitOk;
  try {
    exit_code = train_into(options, file.get(), outputs);
  } catch (...) {
    // `all` whose net failed after line was published: the page must not show the old line.
    if (std::any_of(outputs.begin(), outputs.end(),
                    [](const auto& out) { return out->published(); })) {
      refresh_index_page(root.folder());
    }
    throw;
  }
  // Diverged and interrupted runs published results too: the page shows them all.
  refresh_index_page(root.folder());
  return exit_code;
}

// A closed stdin, stdout or stderr (`fitreel 2>&-`) would hand its number to the first file
// fitreel opens, and the log would be written into a video. /dev/null takes the place first.
void open_closed_standard_streams() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
      const int opened = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
      if (opened >= 0 && opened != fd) {  // open() takes the lowest free number: fd itself
        ::dup2(opened, fd);
        ::close(opened);
      }
    }
  }
}

// Runs the command and reports a failure in one line; returns the exit code.
int run_and_report(const RunOptions& options) {
  try {
    return run(options);
  } catch (const fitreel::InputError& error) {  // a UsageError, a folder that is not fitreel's
    std::cerr << "fitreel: error: " << error.what() << " (see --help)\n";
    return kExitUsage;
  } catch (const std::bad_alloc&) {
    std::cerr << "fitreel: error: out of memory (the results written so far are kept; fewer "
                 "points, models or frames need less)\n";
    return kExitFailure;
  } catch (const std::exception& error) {
    std::cerr << "fitreel: error: " << error.what() << "\n";
    return kExitFailure;
  }
}

// Ends the process without static destructors. Every result is committed (or removed) and every
// lock released by now; what is left is LibTorch unregistering its ~2000 operators one by one,
// ~60 ms of a ~1.5 s run. Sanitizer builds exit normally: their checks run at exit.
[[noreturn]] void leave(int exit_code) {
  spdlog::shutdown();  // flushes the loggers
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  std::exit(exit_code);
#else
  std::_Exit(exit_code);
#endif
}

}  // namespace

int main(int argc, char** argv) {
  open_closed_standard_streams();
  // Past a file size limit (ulimit -f) a write fails with EFBIG and fitreel says so in one
  // line, instead of being killed mid-write without a word.
  std::signal(SIGXFSZ, SIG_IGN);
  fitreel::keep_freed_memory();  // before LibTorch allocates: large runs stay out of the kernel
  const ParseOutcome parsed = parse_command_line(argc, argv);
  if (!parsed.options) {
    leave(parsed.exit_code);
  }
  set_up_logging(*parsed.options);
  if (const std::optional<std::string> no_font = fitreel::render::text_fallback_reason()) {
    spdlog::warn("{}", *no_font);  // once: frames still get text, in a plainer font
  }
  leave(run_and_report(*parsed.options));
}
