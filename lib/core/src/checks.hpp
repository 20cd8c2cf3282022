#pragma once

// The checks every public core call makes before LibTorch sees its inputs, so that a mistake
// is reported as a fitreel exception with one line (values and fix) rather than as a
// c10::Error with a backtrace.

#include <fitreel/error.hpp>
#include <fitreel/model_ref.hpp>
#include <fitreel/trainer.hpp>

#include <c10/util/Exception.h>
#include <torch/types.h>

#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace fitreel::detail {

/// Samples shaped (N, 1) in float32: ShapeError for the shape, InputError for the dtype.
void check_samples(const torch::Tensor& tensor, std::string_view name);
/// InputError unless x and y have the same number of rows (at least `min_rows`).
void check_rows(const torch::Tensor& x, std::string_view x_name, const torch::Tensor& y,
                std::string_view y_name, int64_t min_rows = 0);
/// InputError when `tensor` holds NaN or infinity, naming the first row that does.
void check_finite(const torch::Tensor& tensor, std::string_view name);
/// InputError unless every parameter of the model is float32 (fitreel computes in float32).
void check_model(const ModelRef& model);
/// DeviceError unless this machine and this LibTorch can run on `device`.
void check_device(const torch::Device& device, std::string_view name);

/// InputError unless `lr` is finite and greater than 0, and still so in float32 (training
/// computes in float32: 1e39 would become infinity there, 1e-50 zero).
void check_learning_rate(double lr, const std::string& name);

/// InputError unless TrainOptions' loss, optimizer settings, schedule, batch size and resume
/// state are usable (each message names the member, the value and the range).
void check_training_setup(const TrainOptions& options);

/// The first line of a LibTorch error, without its backtrace.
std::string first_line(const c10::Error& error);

/// Whether LibTorch's error says its allocator ran out (the CPU's "can't allocate memory",
/// CUDA's "out of memory").
bool is_out_of_memory(const c10::Error& error);

/// Runs `body`, turning a c10::Error into a fitreel::Error "CALL: <LibTorch's first line>" (for
/// what only LibTorch can tell, such as a module whose own layers do not fit together), and an
/// allocator that ran out into std::bad_alloc, as the rest of C++ reports it.
template <class Body>
auto translating_torch_errors(std::string_view call, Body&& body) -> decltype(body()) {
  try {
    return std::forward<Body>(body)();
  } catch (const c10::Error& error) {
    if (is_out_of_memory(error)) {
      throw std::bad_alloc();
    }
    throw Error(std::string(call) + ": " + first_line(error));
  } catch (const Error&) {
    throw;
  } catch (const std::runtime_error& error) {  // some LibTorch checks throw these (overflow)
    const std::string what = error.what();
    throw Error(std::string(call) + ": " + what.substr(0, what.find('\n')));
  }
}

}  // namespace fitreel::detail
