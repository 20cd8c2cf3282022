#pragma once

// fitreel's exceptions, all of them: one small hierarchy shared by every component (and the
// CLI). Each what() is one line: what is wrong, the values involved (shapes, counts, dtype,
// device, sizes, paths) and the fix. No LibTorch (c10::Error) or OpenCV exception leaves a
// fitreel call; memory running out is a std::bad_alloc, as elsewhere in C++. Header-only and
// dependency-free, so each component throws the kinds it needs and a caller catches any of them
// by including this one file.
//
//   Error                     catch (const fitreel::Error&) catches them all
//   +- InputError             an argument a call cannot use; fixing the call fixes it
//   |  +- ShapeError, DeviceError, UsageError (the command line), files::NotOwnedError
//   +- CheckpointError, CsvError                        a file handed in could not be read
//   +- files::FileError, files::WriteError              the file system said no
//   +- render::VideoError                               encoding failed

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

/// A tensor had the wrong shape; the message names the expected shape and the fix.
class ShapeError : public InputError {
 public:
  using InputError::InputError;
};

/// A device this machine or this LibTorch cannot run on ("cuda" without CUDA, "cuda:3" with two
/// GPUs, "tpu").
class DeviceError : public InputError {
 public:
  using InputError::InputError;
};

/// Bad input on the command line: the CLI reports it as "fitreel: error: <what> (see --help)",
/// exit 2, nothing written.
class UsageError : public InputError {
 public:
  using InputError::InputError;
};

/// A checkpoint could not be read: missing, not a regular file, damaged, too large, or made for
/// another architecture. The message is one line naming the file.
class CheckpointError : public Error {
 public:
  using Error::Error;
};

/// A CSV file could not be read as data: the message names the file, the line and the fix.
class CsvError : public Error {
 public:
  using Error::Error;
};

namespace files {

/// A file or folder could not be read, made, renamed or removed. One line naming the path and
/// the OS's reason.
class FileError : public Error {
 public:
  using Error::Error;
};

/// A file could not be written. The message is one line naming the file and the OS's reason,
/// e.g. "cannot write out/line/loss.csv: No space left on device".
class WriteError : public Error {
 public:
  using Error::Error;
};

/// A folder (or name) that is not fitreel's to replace: a user's file there, a link, no
/// permission. One line naming the entry and the way out.
class NotOwnedError : public InputError {
 public:
  using InputError::InputError;
};

}  // namespace files

namespace render {

/// Encoding failed (no encoder left, a write error).
class VideoError : public Error {
 public:
  using Error::Error;
};

}  // namespace render

}  // namespace fitreel
