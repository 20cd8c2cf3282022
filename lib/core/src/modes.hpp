#pragma once

// Internal: the modes a module is in while fitreel works with it, and LibTorch's warnings.
// Evaluation is evaluation: predict, mse, snapshots, test losses and hidden-unit curves run with
// every module in eval mode (Dropout off, BatchNorm on its running statistics) and no gradients;
// training steps run in train mode; and the caller gets back each module's own mode.

#include <c10/util/Exception.h>
#include <torch/nn/module.h>
#include <torch/types.h>
#include <torch/version.h>

#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace fitreel::detail {

/// Remembers the mode of every module of `model` and puts each back when destroyed (also when
/// an exception unwinds).
class ModesKept {
 public:
  explicit ModesKept(torch::nn::Module& model);
  ~ModesKept();
  ModesKept(const ModesKept&) = delete;
  ModesKept& operator=(const ModesKept&) = delete;

 private:
  std::vector<std::pair<std::shared_ptr<torch::nn::Module>, bool>> modes_;
  torch::nn::Module& root_;
  bool root_mode_;
};

/// While alive: `model` in eval mode, without gradients; its modes as they were afterwards.
class Evaluating {
 public:
  explicit Evaluating(torch::nn::Module& model);

 private:
  ModesKept kept_;
  torch::NoGradGuard no_grad_;
};

/// LibTorch's warning handler now (the call moved from c10::Warning to c10::WarningUtils in 2.0).
c10::WarningHandler* current_warning_handler();

/// While alive, LibTorch's warnings on this thread go to `sink`, each distinct message once (a
/// warning a model raises every epoch would otherwise flood stderr). An empty sink hands each
/// distinct message once to the handler that was there before (stderr, by default).
class WarningsOnce : public c10::WarningHandler {
 public:
  explicit WarningsOnce(std::function<void(const std::string&)> sink);
  ~WarningsOnce() override;
  WarningsOnce(const WarningsOnce&) = delete;
  WarningsOnce& operator=(const WarningsOnce&) = delete;

#if TORCH_VERSION_MAJOR >= 2
  void process(const c10::Warning& warning) override;
#else
  void process(const c10::SourceLocation& location, const std::string& message,
               bool verbatim) override;
#endif

 private:
  bool first_time(const std::string& message);

  std::function<void(const std::string&)> sink_;
  c10::WarningHandler* previous_;
  std::set<std::string> seen_;
};

}  // namespace fitreel::detail
