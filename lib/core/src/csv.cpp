#include <fitreel/csv.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string_view>
#include <tuple>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fitreel {

namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// A cell in double quotes ("1.5", as spreadsheets export) is read without them.
std::string_view unquote(std::string_view cell) {
  if (cell.size() >= 2 && cell.front() == '"' && cell.back() == '"') {
    return trim(cell.substr(1, cell.size() - 2));
  }
  return cell;
}

enum class Number { ok, out_of_range, not_a_number };

// The whole cell must be the number; a leading '+' is allowed (from_chars does not take it).
Number parse_number(std::string_view cell, float& value) {
  if (!cell.empty() && cell.front() == '+') {
    cell.remove_prefix(1);
  }
  if (cell.empty()) {
    return Number::not_a_number;
  }
  const auto [end, error] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  if (end != cell.data() + cell.size()) {
    return Number::not_a_number;
  }
  return error == std::errc()                      ? Number::ok
         : error == std::errc::result_out_of_range ? Number::out_of_range
                                                   : Number::not_a_number;
}

// A cell as messages show it: at most 40 bytes, invisible bytes spelled out.
std::string quoted(std::string_view text) {
  std::string shown = "'";
  size_t shown_bytes = 0;
  for (size_t i = 0; i < text.size() && shown_bytes < 40; ++i, ++shown_bytes) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (text.substr(i, kUtf8Bom.size()) == kUtf8Bom) {
      shown += "<U+FEFF>";
      i += kUtf8Bom.size() - 1;
    } else if (byte < 0x20 || byte == 0x7F) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02X", byte);
      shown += escaped;
    } else {
      shown += static_cast<char>(byte);
    }
  }
  return shown + (shown_bytes < text.size() ? "...'" : "'");
}

std::string describe_type(const struct stat& info) {
  return S_ISDIR(info.st_mode)    ? "a directory"
         : S_ISFIFO(info.st_mode) ? "a FIFO"
         : S_ISSOCK(info.st_mode) ? "a socket"
         : S_ISCHR(info.st_mode)  ? "a character device"
         : S_ISBLK(info.st_mode)  ? "a block device"
                                  : "not a regular file";
}

std::string os_reason() { return std::strerror(errno); }

// The whole file, read only when it is a regular file of at most kMaxCsvBytes: a FIFO, a
// device or a directory is refused before it is opened, so nothing can block or run forever.
std::string read_regular_file(const std::string& path) {
  struct stat info{};
  if (::stat(path.c_str(), &info) != 0) {
    throw CsvError(path + ": cannot open it (" + os_reason() + ")");
  }
  const auto refuse_type = [&] {
    throw CsvError(path + " is " + describe_type(info) +
                   ", not a regular file (only regular files are read)");
  };
  const auto refuse_size = [&] {
    throw CsvError(path + " is larger than " + std::to_string(kMaxCsvBytes >> 30) +
                   " GiB, the most fitreel reads");
  };
  if (!S_ISREG(info.st_mode)) {
    refuse_type();
  }
  if (info.st_size > kMaxCsvBytes) {
    refuse_size();
  }
  // O_NONBLOCK: should the name have become a FIFO since stat, opening it does not wait.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    throw CsvError(path + ": cannot open it (" + os_reason() + ")");
  }
  std::string text;
  try {
    if (::fstat(fd, &info) != 0) {
      throw CsvError(path + ": cannot read it (" + os_reason() + ")");
    }
    if (!S_ISREG(info.st_mode)) {
      refuse_type();
    }
    // Capped by the bytes read, not by what stat says (a /proc file reports 0), and stopped at
    // the first NUL byte: binary data (or UTF-16) is refused after one chunk, not after 2 GiB.
    constexpr size_t kChunk = size_t{1} << 20;
    size_t filled = 0;
    for (;;) {
      if (filled > static_cast<size_t>(kMaxCsvBytes)) {
        refuse_size();
      }
      text.resize(filled + kChunk);
      const ssize_t got = ::read(fd, text.data() + filled, kChunk);
      if (got < 0 && errno == EINTR) {
        continue;
      }
      if (got < 0) {
        throw CsvError(path + ": cannot read it (" + os_reason() + ")");
      }
      if (got == 0) {
        break;
      }
      const bool binary =
          std::memchr(text.data() + filled, '\0', static_cast<size_t>(got)) != nullptr;
      filled += static_cast<size_t>(got);
      if (binary) {
        break;  // refuse_utf16 names the line of the first NUL byte
      }
    }
    text.resize(filled);
    if (text.size() > static_cast<size_t>(kMaxCsvBytes)) {
      refuse_size();
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return text;
}

// Text that is not UTF-8 (or ASCII) gets one clear line instead of a cell cut at a NUL byte.
void refuse_utf16(const std::string& path, const std::string& text) {
  const bool bom = text.rfind("\xFF\xFE", 0) == 0 || text.rfind("\xFE\xFF", 0) == 0;
  const size_t nul = text.find('\0');
  if (!bom && nul == std::string::npos) {
    return;
  }
  const size_t line =
      bom ? 1 : 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + nul, '\n'));
  throw CsvError(path + ":" + std::to_string(line) + ": " +
                 (bom ? "starts with a UTF-16 byte-order mark" : "has a NUL byte") +
                 ", so it looks like UTF-16 (or binary); save it as UTF-8 (plain) text");
}

// The columns a reading takes: chosen (any number of cells per row, as many as the first line
// has) or, without a choice, exactly two, x and y, with read_xy_csv(path)'s own messages.
struct Choice {
  const CsvColumns* columns = nullptr;  // null: exactly two columns
  size_t x = 0, y = 1;                  // the cells read, once resolved
  size_t width = 0;                     // cells every row has; 0 until the first line
  size_t width_line = 0;                // the line that set it
};

// "column 'signal' (y) " or "column index 2 (y) "; "column 2 (y) " (1-based) without a choice.
std::string column_label(const Choice& choice, bool is_x) {
  const char* axis = is_x ? "(x) " : "(y) ";
  if (!choice.columns) {
    return std::string("column ") + (is_x ? "1 " : "2 ") + axis;
  }
  const CsvColumn& column = is_x ? choice.columns->x : choice.columns->y;
  return column.by_name() ? "column " + quoted(std::string_view(column.name())) + " " + axis
                          : "column index " + std::to_string(column.index()) + " " + axis;
}

// The first line of a file read with chosen columns: sets how many cells a row has and finds the
// chosen ones, by name in this line (then the header) or by index. Returns whether the line is
// the header (to be skipped).
bool resolve_columns(Choice& choice, const std::vector<std::string_view>& cells, size_t line,
                     const std::function<void(size_t, const std::string&)>& fail) {
  choice.width = cells.size();
  choice.width_line = line;
  const auto width_text =
      "line " + std::to_string(line) + " has " + std::to_string(cells.size()) +
      (cells.size() == 1 ? " column (index 0)"
                         : " columns (indices 0 to " + std::to_string(cells.size() - 1) + ")");
  bool header = false;
  for (const bool is_x : {true, false}) {
    const CsvColumn& column = is_x ? choice.columns->x : choice.columns->y;
    size_t& index = is_x ? choice.x : choice.y;
    if (!column.by_name()) {
      if (static_cast<size_t>(column.index()) >= cells.size()) {
        fail(line, "column index " + std::to_string(column.index()) + " (" + (is_x ? "x" : "y") +
                       ") is past the last column: " + width_text);
      }
      index = static_cast<size_t>(column.index());
      continue;
    }
    header = true;
    std::vector<size_t> matches;
    bool all_numbers = true;
    for (size_t i = 0; i < cells.size(); ++i) {
      const std::string_view cell = unquote(trim(cells[i]));
      float unused = 0.0F;
      all_numbers = all_numbers && parse_number(cell, unused) != Number::not_a_number;
      if (cell == column.name()) {
        matches.push_back(i);
      }
    }
    if (matches.size() > 1) {
      fail(line, "the header names " + std::to_string(matches.size()) + " columns " +
                     quoted(std::string_view(column.name())) + " (indices " +
                     std::to_string(matches[0]) + " and " + std::to_string(matches[1]) +
                     "); choose one by its 0-based index");
    }
    if (matches.empty()) {
      // The header's names, up to 20 (a wide file's whole header would not read as one line).
      std::string names;
      constexpr size_t kListed = 20;
      for (size_t i = 0; i < cells.size() && i < kListed; ++i) {
        names += (i == 0 ? "" : ", ") + quoted(unquote(trim(cells[i])));
      }
      if (cells.size() > kListed) {
        names += " and " + std::to_string(cells.size() - kListed) + " more";
      }
      fail(line, "no column named " + quoted(std::string_view(column.name())) + " (" +
                     (is_x ? "x" : "y") + ") in the header; its columns are " + names +
                     (all_numbers ? " (numbers: the file has no header line, so choose columns "
                                    "by 0-based index)"
                                  : ""));
    }
    index = matches.front();
  }
  return header;
}

XyPoints read_columns(const std::string& path, int64_t min_rows, Choice choice) {
  const std::string text = read_regular_file(path);
  refuse_utf16(path, text);

  std::vector<float> xs, ys;
  xs.reserve(text.size() / 8);
  ys.reserve(text.size() / 8);
  const std::function<void(size_t, const std::string&)> fail = [&](size_t line,
                                                                   const std::string& problem) {
    throw CsvError(path + ":" + std::to_string(line) + ": " + problem);
  };
  size_t line_number = 0;
  size_t header_line = 0;
  std::vector<std::string_view> cells;
  // A UTF-8 byte-order mark (as Windows tools write) is not part of the first cell.
  const size_t first = text.rfind(kUtf8Bom, 0) == 0 ? kUtf8Bom.size() : 0;
  for (size_t start = first; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      end = text.size();
    }
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    ++line_number;
    if (const size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    line = trim(line);
    if (line.empty()) {
      continue;
    }
    cells.clear();
    for (size_t from = 0;;) {
      const size_t comma = line.find(',', from);
      cells.push_back(line.substr(from, comma == std::string_view::npos ? comma : comma - from));
      if (comma == std::string_view::npos) {
        break;
      }
      from = comma + 1;
    }
    // A row with too many cells may have a comma inside quotes ("1,5").
    const auto quote_hint = [&line]() -> std::string {
      return line.find('"') == std::string_view::npos
                 ? ""
                 : " (commas inside quoted cells are not supported: write numbers with a "
                   "decimal point, e.g. 1.5)";
    };
    if (!choice.columns && cells.size() != 2) {
      fail(line_number,
           "expected 2 columns (x,y), found " + std::to_string(cells.size()) + quote_hint());
    }
    if (choice.columns && choice.width == 0) {
      if (resolve_columns(choice, cells, line_number, fail)) {
        header_line = line_number;
        continue;
      }
    } else if (choice.columns && cells.size() != choice.width) {
      fail(line_number, "expected " + std::to_string(choice.width) + " columns (as line " +
                            std::to_string(choice.width_line) + " has), found " +
                            std::to_string(cells.size()) + quote_hint());
    }
    const std::string_view x_cell = unquote(trim(cells[choice.x]));
    const std::string_view y_cell = unquote(trim(cells[choice.y]));
    float x = 0.0F;
    float y = 0.0F;
    const Number x_read = parse_number(x_cell, x);
    const Number y_read = parse_number(y_cell, y);
    if (x_read == Number::not_a_number && y_read == Number::not_a_number) {
      // two words: a header, allowed only before the data
      if (!xs.empty() || header_line != 0) {
        fail(line_number,
             "a header line " + quoted(line) + " after " +
                 (xs.empty() ? "the header on line " + std::to_string(header_line) : "data rows"));
      }
      header_line = line_number;
      continue;
    }
    for (const auto& [read, cell, is_x] :
         {std::tuple(x_read, x_cell, true), std::tuple(y_read, y_cell, false)}) {
      if (read == Number::out_of_range) {
        fail(line_number, column_label(choice, is_x) + quoted(cell) +
                              " is out of float range (values are 32-bit floats: magnitudes up "
                              "to about 3.4e38, and nonzero ones from about 1.4e-45)");
      }
      if (read == Number::not_a_number) {
        fail(line_number, column_label(choice, is_x) + quoted(cell) + " is not a number");
      }
    }
    if (!std::isfinite(x) || !std::isfinite(y)) {
      fail(line_number, "values must be finite, and this row has " +
                            std::string(std::isfinite(x) ? y_cell : x_cell));
    }
    xs.push_back(x);
    ys.push_back(y);
  }
  if (xs.empty()) {
    throw CsvError(path + ": no data rows (expected lines of x,y numbers)");
  }
  if (static_cast<int64_t>(xs.size()) < min_rows) {
    throw CsvError(path + ": " + std::to_string(xs.size()) + " data rows; at least " +
                   std::to_string(min_rows) + " are needed");
  }
  const auto rows = static_cast<int64_t>(xs.size());
  return {torch::from_blob(xs.data(), {rows, 1}, torch::kFloat32).clone(),
          torch::from_blob(ys.data(), {rows, 1}, torch::kFloat32).clone()};
}

}  // namespace

CsvColumn CsvColumn::at(int64_t index) {
  if (index < 0) {
    throw InputError("CsvColumn::at(" + std::to_string(index) +
                     "): a column index counts from 0 (the first column)");
  }
  return CsvColumn(index, {});
}

CsvColumn CsvColumn::named(std::string name) {
  std::string trimmed(trim(name));
  if (trimmed.empty()) {
    throw InputError("CsvColumn::named('" + name +
                     "'): a column name is a header cell's text; to choose a column without a "
                     "name, use CsvColumn::at(index)");
  }
  return CsvColumn(0, std::move(trimmed));
}

XyPoints read_xy_csv(const std::string& path, int64_t min_rows) {
  return read_columns(path, min_rows, Choice{});
}

XyPoints read_xy_csv(const std::string& path, const CsvColumns& columns, int64_t min_rows) {
  return read_columns(path, min_rows, Choice{&columns});
}

}  // namespace fitreel
