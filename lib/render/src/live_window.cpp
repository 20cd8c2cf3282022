#include <fitreel/render/live_window.hpp>

#include <opencv2/highgui.hpp>

#include <cstdlib>
#include <filesystem>
#include <string_view>

namespace fitreel::render {

std::optional<std::string> live_window_unavailable() {
  const char* display = std::getenv("DISPLAY");
  if (display == nullptr || *display == '\0') {
    return "--show needs a display, and DISPLAY is not set (on a server, try xvfb-run)";
  }
  // A local display ":N" or ":N.S" is served through /tmp/.X11-unix/XN; without it Qt aborts.
  const std::string_view name(display);
  if (name.front() == ':') {
    const std::string number(name.substr(1, name.find('.') - 1));
    if (!std::filesystem::exists("/tmp/.X11-unix/X" + number)) {
      return "--show needs a display, and nothing serves DISPLAY=" + std::string(name);
    }
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
