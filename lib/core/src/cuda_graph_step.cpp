#include "train_step.hpp"

#include <stdexcept>

#ifdef FITREEL_WITH_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <optional>
#endif

namespace fitreel::detail {

#ifdef FITREEL_WITH_CUDA

struct SideStreamScope::Impl {
  std::optional<c10::cuda::CUDAStreamGuard> guard;
};

SideStreamScope::SideStreamScope(const torch::Device& device) : impl_(std::make_unique<Impl>()) {
  if (device.is_cuda()) {
    // Work queued on the default stream (moving the data there) must finish first.
    c10::cuda::getCurrentCUDAStream(device.index()).synchronize();
    impl_->guard.emplace(c10::cuda::getStreamFromPool(/*isHighPriority=*/false, device.index()));
  }
}

SideStreamScope::~SideStreamScope() {
  if (impl_->guard) {
    impl_->guard->current_stream().synchronize();
  }
}

namespace {

// A step of a model this small is a few dozen kernel launches of a few microseconds each and
// almost no arithmetic: the GPU waits on the CPU. A CUDA graph records the launches once and
// replays them with one call. Warm-up runs first (the optimizer creates its state and cuBLAS
// its workspace lazily, which must not happen during capture), and the replayed step must not
// depend on host values that change: Adagrad's lr is constant. The caller keeps a
// SideStreamScope alive, since capture cannot use the default stream.
class CudaGraphStep final : public TrainStep {
 public:
  explicit CudaGraphStep(std::unique_ptr<TrainStep> eager) : eager_(std::move(eager)) {}

  torch::Tensor run() override {
    if (warmups_left_ > 0) {
      --warmups_left_;
      return eager_->run();
    }
    if (!captured_) {
      c10::cuda::getCurrentCUDAStream().synchronize();
      graph_.capture_begin();
      static_loss_ = eager_->run();  // recorded, not executed
      graph_.capture_end();
      captured_ = true;
    }
    graph_.replay();
    return static_loss_;
  }

  // Mini-batches change shape from step to step: never captured (the trainer does not ask).
  torch::Tensor run(const torch::Tensor& x, const torch::Tensor& y) override {
    return eager_->run(x, y);
  }

  StepOptimizer& optimizer() override { return eager_->optimizer(); }

 private:
  static constexpr int kWarmupEpochs = 3;
  std::unique_ptr<TrainStep> eager_;
  at::cuda::CUDAGraph graph_;
  torch::Tensor static_loss_;
  int warmups_left_ = kWarmupEpochs;
  bool captured_ = false;
};

}  // namespace

bool cuda_graphs_compiled() { return true; }

std::unique_ptr<TrainStep> make_cuda_graph_step(std::unique_ptr<TrainStep> eager) {
  return std::make_unique<CudaGraphStep>(std::move(eager));
}

#else  // a CPU-only LibTorch: nothing to capture, no streams to switch

struct SideStreamScope::Impl {};

SideStreamScope::SideStreamScope(const torch::Device& /*device*/) {}

SideStreamScope::~SideStreamScope() = default;

bool cuda_graphs_compiled() { return false; }

std::unique_ptr<TrainStep> make_cuda_graph_step(std::unique_ptr<TrainStep> /*eager*/) {
  throw std::logic_error("this fitreel was built against a LibTorch without CUDA");
}

#endif

}  // namespace fitreel::detail
