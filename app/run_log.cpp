#include "run_log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>

#include <memory>
#include <mutex>

namespace fitreel::app {

namespace {

// Keeps the formatted lines in memory; the logger's level already chose what is worth telling.
class RecordingSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::string take() {
    const std::lock_guard<std::mutex> lock(mutex_);
    std::string taken;
    taken.swap(lines_);
    return taken;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& message) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(message, formatted);
    lines_.append(formatted.data(), formatted.size());
  }
  void flush_() override {}

 private:
  std::string lines_;
};

std::shared_ptr<RecordingSink>& recording_sink() {
  static std::shared_ptr<RecordingSink> sink;
  return sink;
}

}  // namespace

void record_run_log(spdlog::logger& logger) {
  auto sink = std::make_shared<RecordingSink>();
  sink->set_formatter(std::make_unique<spdlog::pattern_formatter>("[%l] %v"));
  logger.sinks().push_back(sink);
  recording_sink() = sink;
}

std::string take_run_log() { return recording_sink() ? recording_sink()->take() : std::string(); }

}  // namespace fitreel::app
