#pragma once

// fitreel's exceptions: one small hierarchy shared by every component. Each what() is one
// line: what is wrong, the values involved (shapes, counts, dtype, device, sizes, paths) and
// the fix. No LibTorch (c10::Error) or OpenCV exception leaves a fitreel call.

#include <stdexcept>

namespace fitreel {

/// Base of every exception fitreel throws: `catch (const fitreel::Error&)` catches them all.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An argument a fitreel call cannot use (a shape, dtype, device, count or option); fixing the
/// call fixes it. ShapeError and DeviceError are the common kinds.
class InputError : public Error {
 public:
  using Error::Error;
};

}  // namespace fitreel
