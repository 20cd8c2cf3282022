#pragma once

#include <fitreel/data.hpp>
#include <fitreel/error.hpp>

#include <torch/types.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

namespace fitreel {

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

/// One column of a CSV file: its 0-based index, or its name in the header line (a header cell,
/// trimmed of spaces and quotes, equal to the name, itself trimmed of spaces).
class CsvColumn {
 public:
  /// The column at 0-based `index`; throws InputError for a negative index.
  static CsvColumn at(int64_t index);
  /// The column the header line calls `name`; throws InputError for an empty (or blank) name.
  static CsvColumn named(std::string name);

  bool by_name() const { return !name_.empty(); }
  int64_t index() const { return index_; }           ///< when chosen by index
  const std::string& name() const { return name_; }  ///< when chosen by name, else empty

 private:
  CsvColumn(int64_t index, std::string name) : index_(index), name_(std::move(name)) {}
  int64_t index_ = 0;
  std::string name_{};
};

/// Which columns read_xy_csv(path, columns) reads as x and y (default: the first two).
struct CsvColumns {
  CsvColumn x = CsvColumn::at(0);
  CsvColumn y = CsvColumn::at(1);
};

/// Reads the columns `columns` names as x and y from a CSV file with any number of columns, as
/// read_xy_csv(path) reads its two: every row must have as many cells as the file's first line
/// (the header, or the first data row), and the chosen cells must be numbers (other cells are
/// not read). A column chosen by name needs a header line: the first line that is not blank or
/// a comment. Without names, a first line whose chosen cells are both words is the header.
/// Throws CsvError as read_xy_csv(path) does, and for a name the header lacks (the message
/// lists the header's names) or an index past the last column.
XyPoints read_xy_csv(const std::string& path, const CsvColumns& columns,
                     int64_t min_rows = kMinPoints);

}  // namespace fitreel
