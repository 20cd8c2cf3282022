#pragma once

#include <fitreel/model_ref.hpp>
#include <fitreel/snapshot.hpp>

#include <torch/types.h>

#include <vector>

namespace fitreel {

/// Mean squared error of `model` on (x, y), computed in eval mode (Dropout off, BatchNorm on
/// its running statistics) without gradients, on the model's device; each module's mode is put
/// back after. NaN when x has no rows (nothing held out).
double mse(const ModelRef& model, const torch::Tensor& x, const torch::Tensor& y);

/// A straight line y = slope * x + intercept.
struct Line {
  double slope = 0.0;
  double intercept = 0.0;
};

/// The closed-form least-squares line through the points (x, y) (any shape, same count),
/// computed in double precision: the optimum a converged Linear(1, 1) would reach.
Line least_squares(const torch::Tensor& x, const torch::Tensor& y);

/// The curves of the first `count` units of the model's last hidden layer at x (N, 1), and
/// the output bias (see UnitCurves). For a Sequential ending in Linear(H, 1) after at least one
/// other layer; for any other model (or count <= 0) an empty UnitCurves (total 0).
UnitCurves hidden_unit_curves(const ModelRef& model, const torch::Tensor& x, int64_t count);

/// The model's outputs for x (N, 1), in eval mode without gradients, as a CPU float vector.
std::vector<float> predict(const ModelRef& model, const torch::Tensor& x);

}  // namespace fitreel
