#pragma once

#include <fitreel/data.hpp>
#include <fitreel/error.hpp>

#include <torch/types.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace fitreel {

/// A CSV file could not be used; the message names the file, the line and the problem.
class CsvError : public Error {
 public:
  using Error::Error;
};

/// Points read from a file: x and y as float32 tensors of shape (N, 1), in file order.
struct XyPoints {
  torch::Tensor x{}, y{};
};

/// The largest file read_xy_csv reads: 2 GiB.
inline constexpr int64_t kMaxCsvBytes = int64_t{2} << 30;

/// Reads two numeric columns x,y from a CSV file: comma-separated, an optional header line
/// first, `#` comments and blank lines skipped, a UTF-8 byte-order mark at the start skipped, a
/// cell in double quotes ("1.5") read without them. Every value must be finite in float32 and
/// every row have exactly two cells; at least `min_rows` rows are needed (default: what the
/// split needs). Only a regular file of at most kMaxCsvBytes is read (a FIFO or device is
/// refused without opening it); UTF-16 text is refused. Throws CsvError otherwise.
XyPoints read_xy_csv(const std::string& path, int64_t min_rows = kMinPoints);

}  // namespace fitreel
