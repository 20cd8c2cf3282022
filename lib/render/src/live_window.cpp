#include <fitreel/render/live_window.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xcb/xcb.h>
#include <opencv2/highgui.hpp>

#include <fcntl.h>
#include <cerrno>
#include <cstdlib>

namespace fitreel::render {

namespace {

constexpr int kDisplayTimeoutMs = 3000;

// xcb_connect()'s error code for the display DISPLAY names, or -1 when the display did not
// answer within kDisplayTimeoutMs: xcb_connect waits without end on a server that accepts and
// never replies, so the connection is tried in a child process that is killed on time out.
int connect_with_timeout() {
  int result_pipe[2];
  if (::pipe2(result_pipe, O_CLOEXEC) != 0) {
    return XCB_CONN_ERROR;
  }
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(result_pipe[0]);
    xcb_connection_t* connection = xcb_connect(nullptr, nullptr);
    const auto error = static_cast<unsigned char>(xcb_connection_has_error(connection));
    [[maybe_unused]] const ssize_t written = ::write(result_pipe[1], &error, 1);
    ::_exit(0);
  }
  ::close(result_pipe[1]);
  int error = XCB_CONN_ERROR;
  if (child > 0) {
    pollfd ready{result_pipe[0], POLLIN, 0};
    unsigned char reported = 0;
    if (::poll(&ready, 1, kDisplayTimeoutMs) > 0 && ::read(result_pipe[0], &reported, 1) == 1) {
      error = reported;
    } else {
      error = -1;
      ::kill(child, SIGKILL);
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
  }
  ::close(result_pipe[0]);
  return error;
}

}  // namespace

std::optional<std::string> live_window_unavailable() {
  const char* display = std::getenv("DISPLAY");
  if (display == nullptr) {
    return "--show needs a display, and DISPLAY is not set (on a server, try xvfb-run)";
  }
  if (*display == '\0') {
    return "--show needs a display, and DISPLAY is empty (on a server, try xvfb-run)";
  }
  // Qt aborts the process on a display it cannot reach, so connect first ourselves: this
  // covers remote names, unix:N, a socket file that nothing listens on, and one that accepts
  // and never answers.
  const int error = connect_with_timeout();
  if (error < 0) {
    return "--show: the display DISPLAY=" + std::string(display) + " does not answer (waited " +
           std::to_string(kDisplayTimeoutMs / 1000) +
           " s; is its X server stuck? on a server, try xvfb-run)";
  }
  if (error != 0) {
    return "--show cannot reach the display DISPLAY=" + std::string(display) +
           " (is the X server running, and may this user connect? on a server, try xvfb-run)";
  }
  return std::nullopt;
}

LiveWindow::LiveWindow(std::string title) : title_(std::move(title)) {
  cv::namedWindow(title_, cv::WINDOW_AUTOSIZE);
}

LiveWindow::~LiveWindow() {
  cv::destroyWindow(title_);
  cv::waitKey(1);  // lets HighGUI process the close
}

void LiveWindow::show(const cv::Mat& frame, int wait_ms) {
  cv::imshow(title_, frame);
  cv::waitKey(wait_ms);
}

}  // namespace fitreel::render
