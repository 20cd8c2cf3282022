#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fitreel::testing {

Process::Process(const std::string& program, const std::vector<std::string>& args,
                 const ProcessOptions& options) {
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe(out_pipe) != 0 || ::pipe(err_pipe) != 0) {
    throw std::runtime_error("pipe failed");
  }
  pid_ = ::fork();
  if (pid_ < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid_ == 0) {  // the child: only async-signal-safe calls until exec
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) {
      ::_exit(127);
    }
    for (const auto& [name, value] : options.env) {
      if (value) {
        ::setenv(name.c_str(), value->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (const auto& arg : args) {
      argv.push_back(const_cast<char*>(arg.c_str()));
    }
    argv.push_back(nullptr);
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
}

Process::~Process() {
  if (!waited_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  for (int fd : {out_fd_, err_fd_}) {
    if (fd >= 0) {
      ::close(fd);
    }
  }
}

bool Process::pump(int timeout_ms) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  int open = 0;
  for (auto& fd : fds) {
    open += fd.fd >= 0 ? 1 : 0;
  }
  if (open == 0) {
    return false;
  }
  if (::poll(fds, 2, timeout_ms) <= 0) {
    return true;
  }
  char buffer[4096];
  int* owners[2] = {&out_fd_, &err_fd_};
  std::string* sinks[2] = {&result_.out, &result_.err};
  for (int i = 0; i < 2; ++i) {
    if (fds[i].fd < 0 || fds[i].revents == 0) {
      continue;
    }
    const ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
    if (got > 0) {
      sinks[i]->append(buffer, static_cast<size_t>(got));
    } else {
      ::close(fds[i].fd);
      *owners[i] = -1;
    }
  }
  return true;
}

bool Process::wait_for_stderr(const std::string& text, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (result_.err.find(text) == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline || !pump(100)) {
      return result_.err.find(text) != std::string::npos;
    }
  }
  return true;
}

void Process::send(int signal) { ::kill(pid_, signal); }

ProcessResult Process::wait(std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pump(100)) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
    }
  }
  int status = 0;
  struct rusage usage{};
  ::wait4(pid_, &status, 0, &usage);
  result_.max_rss_kib = usage.ru_maxrss;
  waited_ = true;
  result_.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result_;
}

ProcessResult run(const std::string& program, const std::vector<std::string>& args,
                  const ProcessOptions& options) {
  Process process(program, args, options);
  return process.wait();
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "fitreel-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string probe_video(const std::string& path) {
  const ProcessResult result = run(
      FITREEL_FFPROBE, {"-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries",
                        "stream=codec_name,pix_fmt,width,height,nb_read_frames", "-of",
                        "default=noprint_wrappers=1", path});
  return result.exit_code == 0 ? result.out : "";
}

int frames_in(const std::string& path) {
  const std::string info = probe_video(path);
  const size_t at = info.find("nb_read_frames=");
  return at == std::string::npos ? -1 : std::stoi(info.substr(at + 15));
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

}  // namespace fitreel::testing
