#include "batched/memory_budget.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <string>

namespace fitreel::detail {

namespace {

constexpr double kMostBatchBytes = 1.0e9;
constexpr double kLeastBatchBytes = 1.0e6;
constexpr double kFloat = 4.0;
// Per parameter: the model's own, the batch's stacked copy, its gradient, up to two optimizer
// states (Adam), and the flattened initial and final values each run reports.
constexpr double kCopiesPerParameter = 7.0;
// Per point and unit of the widest layer: activations and their gradients, ~12 live tensors.
constexpr double kCopiesPerActivation = 12.0;
// A loss history keeps ~4096 (epoch, loss) entries however long the run (LossHistory).
constexpr double kLossHistoryFloats = 4096.0 * 3.0;

// The value in kB of `key` ("VmSize:") in a /proc file, in bytes; NaN when absent.
double proc_bytes(const char* file, const std::string& key) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key, 0) == 0) {
      return std::stod(line.substr(key.size())) * 1024.0;
    }
  }
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

double memory_left_bytes() {
  double left = std::numeric_limits<double>::infinity();
  rlimit limit{};
  if (::getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    const double used = proc_bytes("/proc/self/status", "VmSize:");
    left = static_cast<double>(limit.rlim_cur) - (used == used ? used : 0.0);
  }
  const double available = proc_bytes("/proc/meminfo", "MemAvailable:");
  return available == available ? std::min(left, available) : left;
}

double default_batch_budget_bytes() {
  return std::clamp(memory_left_bytes() / 2.0, kLeastBatchBytes, kMostBatchBytes);
}

double bytes_per_batched_model(const SequentialPlan& plan, int64_t points, int64_t snapshots,
                               int64_t curve_points) {
  double parameters = 0.0;
  for (const std::vector<int64_t>& shape : plan.param_shapes) {
    double count = 1.0;
    for (int64_t size : shape) count *= static_cast<double>(size);
    parameters += count;
  }
  int64_t widest = 1;
  for (const PlanLayer& layer : plan.layers) {
    widest = std::max({widest, layer.in, layer.out});
  }
  const auto rows = static_cast<double>(std::max<int64_t>(1, points));
  const double activations = rows * static_cast<double>(widest) * kCopiesPerActivation;
  const double data = rows * 2.0 * 3.0;  // x and y, as given, stacked and on the device
  const double per_snapshot = parameters + static_cast<double>(curve_points);
  return kFloat * (parameters * kCopiesPerParameter + activations + data +
                   static_cast<double>(snapshots) * per_snapshot + kLossHistoryFloats);
}

int64_t models_per_batch(double budget_bytes, double bytes_per_model, int64_t models) {
  const double fits = budget_bytes / std::max(bytes_per_model, 1.0);
  return fits >= static_cast<double>(models) ? models
                                             : std::max<int64_t>(1, static_cast<int64_t>(fits));
}

}  // namespace fitreel::detail
