// The batched trainer on two threads: each model is computed alone, start to end, whichever
// thread runs it, so 1 or 2 threads (64 models of the seed net are enough work for 2) give the
// same numbers, bit for bit. Under ThreadSanitizer (preset tsan) this also runs the fused
// kernels' shares on the epoch workers, which must share nothing but what run() orders.
#include <fitreel/batched.hpp>
#include <fitreel/demos.hpp>
#include <fitreel/error.hpp>
#include <fitreel/model.hpp>
#include <fitreel/runtime.hpp>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <vector>

namespace fitreel {
namespace {

TEST(BatchedThreads, TwoThreadsGiveTheNumbersOfOne) {
  std::vector<TrainResult> runs_by_threads[2];
  for (int threads : {1, 2}) {
    std::vector<ModelRef> models;
    std::vector<double> lrs;
    for (uint64_t k = 0; k < 64; ++k) {
      torch::manual_seed(k);
      models.emplace_back(make_net(NetSpec{{2}, Activation::sigmoid}));
      lrs.push_back(0.05 + 0.005 * static_cast<double>(k % 8));
    }
    BatchedOptions options;
    options.epochs = 300;
    options.lrs = lrs;
    options.threads = threads;
    runs_by_threads[threads - 1] = train_batched(models, {demos::make_identity(100)}, options).runs;
  }
  for (size_t k = 0; k < 64; ++k) {
    const TrainResult &one = runs_by_threads[0][k], &two = runs_by_threads[1][k];
    EXPECT_EQ(one.final_params, two.final_params) << "model " << k;
    EXPECT_EQ(one.losses.last(), two.losses.last()) << "model " << k;
    EXPECT_EQ(one.losses.count(), two.losses.count()) << "model " << k;
  }
}

// One count for LibTorch and the sweep: set_threads(0) gives LibTorch one thread per usable CPU
// (LibTorch's own default is one per physical core, 1 on these 2-vCPU machines).
TEST(Runtime, SetThreadsGivesLibTorchTheCountTheSweepUses) {
  const int cpus = usable_cpus();
  EXPECT_GE(cpus, 1);
  EXPECT_EQ(set_threads(0), cpus);
  EXPECT_EQ(torch::get_num_threads(), cpus);
  EXPECT_EQ(set_threads(1), 1);
  EXPECT_EQ(torch::get_num_threads(), 1);
  EXPECT_THROW(set_threads(-1), InputError);
  EXPECT_EQ(torch::get_num_threads(), 1) << "a refused count changes nothing";
}

}  // namespace
}  // namespace fitreel
