#pragma once

// Runs a program the way a user would (for the CLI tests): arguments, environment, a working
// folder; captures its exit code, stdout and stderr.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fitreel::testing {

/// How a finished process ended.
struct ProcessResult {
  int exit_code = -1;  ///< exit status, or 128 + signal when killed by one
  std::string out;
  std::string err;
  long max_rss_kib = 0;  ///< its peak resident memory (getrusage's ru_maxrss)
};

/// Options for starting a process.
struct ProcessOptions {
  std::string cwd;                                        ///< empty: the test's own
  std::map<std::string, std::optional<std::string>> env;  ///< set (or, with nullopt, unset)
};

/// A started process whose stderr can be watched while it runs.
class Process {
 public:
  Process(const std::string& program, const std::vector<std::string>& args,
          const ProcessOptions& options = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  /// Reads output until stderr contains `text`; false if the process ended or time ran out.
  bool wait_for_stderr(const std::string& text, std::chrono::seconds timeout);
  /// Sends `signal` to the process.
  void send(int signal);
  /// Waits for the end (killing it after `timeout`) and returns what it did.
  ProcessResult wait(std::chrono::seconds timeout = std::chrono::seconds(600));

 private:
  bool pump(int timeout_ms);  // reads what is available; false once both pipes are closed

  int pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  ProcessResult result_;
  bool waited_ = false;
};

/// Runs `program args...` to the end.
ProcessResult run(const std::string& program, const std::vector<std::string>& args,
                  const ProcessOptions& options = {});

/// A fresh empty folder under the system's temporary folder, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// ffprobe's view of a video's first stream: "key=value" lines for codec_name, pix_fmt, width,
/// height and nb_read_frames (counted by decoding). Empty when ffprobe cannot read the file.
std::string probe_video(const std::string& path);
/// The frames ffprobe decodes from a video, or -1 when it cannot read it.
int frames_in(const std::string& path);

/// Lines of `text` (without the newlines), ignoring a last empty one.
std::vector<std::string> lines_of(const std::string& text);
/// The whole content of a file ("" when unreadable).
std::string read_file(const std::string& path);

}  // namespace fitreel::testing
