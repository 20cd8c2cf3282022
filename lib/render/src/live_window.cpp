#include <fitreel/render/live_window.hpp>

#include <xcb/xcb.h>
#include <opencv2/highgui.hpp>

#include <cstdlib>

namespace fitreel::render {

std::optional<std::string> live_window_unavailable() {
  const char* display = std::getenv("DISPLAY");
  if (display == nullptr) {
    return "--show needs a display, and DISPLAY is not set (on a server, try xvfb-run)";
  }
  if (*display == '\0') {
    return "--show needs a display, and DISPLAY is empty (on a server, try xvfb-run)";
  }
  // Qt aborts the process on a display it cannot reach, so connect first ourselves: this
  // covers remote names, unix:N, and a socket file that nothing listens on.
  xcb_connection_t* connection = xcb_connect(nullptr, nullptr);
  const int error = xcb_connection_has_error(connection);
  xcb_disconnect(connection);
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
