#pragma once

#include <torch/types.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace fitreel {

/// Points to fit: float32 tensors of shape (n, 1); the test part may be left undefined or empty.
/// `Dataset{x, y}` trains on all of (x, y) and holds nothing out.
struct Dataset {
  torch::Tensor x_train{}, y_train{};  ///< what the model is trained on
  torch::Tensor x_test{}, y_test{};    ///< held out (drawn, not trained on); may stay empty

  /// Whether any points are held out (x_test defined and not empty).
  bool holds_out() const { return x_test.defined() && x_test.numel() > 0; }
};

/// Share of the points split_train_test holds out for testing (int(0.2 * N) of them).
inline constexpr double kTestFraction = 0.2;
/// Fewest points split_train_test accepts: the 80/20 split needs both parts.
inline constexpr int64_t kMinPoints = 5;

/// Splits (N) tensors x, y into a training part and a held-out part, drawing one
/// torch::randperm(N) from the CPU generator: the first int(0.2 N) indices of the permutation
/// (in permutation order) are the test part, the rest (ascending) the training part. The same
/// as split_train_test(x, y, kTestFraction, std::nullopt), bit for bit.
Dataset split_train_test(const torch::Tensor& x, const torch::Tensor& y);

/// The same split holding out int(test_fraction * N) points, test_fraction in [0, 1) (0: none
/// held out). With a `seed` the permutation comes from a CPU generator of its own seeded with
/// it, as Python's torch.randperm(N, generator=torch.Generator().manual_seed(seed)), and the
/// global generator is left as it was; without one it is drawn from the global generator.
/// Throws InputError for a fraction outside [0, 1) or NaN, or fewer than kMinPoints points.
Dataset split_train_test(const torch::Tensor& x, const torch::Tensor& y, double test_fraction,
                         std::optional<uint64_t> seed);

/// A tensor's values, flattened, as doubles on the host (e.g. for fitreel::render's points);
/// none for an undefined tensor.
std::vector<double> values_of(const torch::Tensor& tensor);

}  // namespace fitreel
