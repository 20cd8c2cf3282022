#include "modes.hpp"

#include <torch/version.h>

namespace fitreel::detail {
namespace {
// The warning-handler calls moved from the namespace c10::Warning (1.13) to c10::WarningUtils
// (2.x), where c10::Warning became the warning's class.
#if TORCH_VERSION_MAJOR >= 2
namespace warning_handlers = c10::WarningUtils;
#else
namespace warning_handlers = c10::Warning;
#endif
}  // namespace

ModesKept::ModesKept(torch::nn::Module& model) : root_(model), root_mode_(model.is_training()) {
  for (const auto& module : model.modules(/*include_self=*/false)) {
    modes_.emplace_back(module, module->is_training());
  }
}

ModesKept::~ModesKept() {
  // Parents first (modules() lists them so): each train() call sets its children too, and the
  // children's own calls come after.
  root_.train(root_mode_);
  for (const auto& [module, training] : modes_) {
    module->train(training);
  }
}

Evaluating::Evaluating(torch::nn::Module& model) : kept_(model) { model.eval(); }

c10::WarningHandler* current_warning_handler() { return warning_handlers::get_warning_handler(); }

WarningsOnce::WarningsOnce(std::function<void(const std::string&)> sink)
    : sink_(std::move(sink)), previous_(warning_handlers::get_warning_handler()) {
  warning_handlers::set_warning_handler(this);
}

WarningsOnce::~WarningsOnce() { warning_handlers::set_warning_handler(previous_); }

bool WarningsOnce::first_time(const std::string& message) { return seen_.insert(message).second; }

#if TORCH_VERSION_MAJOR >= 2
void WarningsOnce::process(const c10::Warning& warning) {
  if (!first_time(warning.msg())) return;
  if (sink_) {
    sink_("LibTorch: " + warning.msg());
  } else {
    previous_->process(warning);
  }
}
#else
void WarningsOnce::process(const c10::SourceLocation& location, const std::string& message,
                           bool verbatim) {
  if (!first_time(message)) return;
  if (sink_) {
    sink_("LibTorch: " + message);
  } else {
    previous_->process(location, message, verbatim);
  }
}
#endif

}  // namespace fitreel::detail
