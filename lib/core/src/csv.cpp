#include <fitreel/csv.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
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

}  // namespace

XyPoints read_xy_csv(const std::string& path, int64_t min_rows) {
  const std::string text = read_regular_file(path);
  refuse_utf16(path, text);

  std::vector<float> xs, ys;
  xs.reserve(text.size() / 8);
  ys.reserve(text.size() / 8);
  const auto fail = [&](size_t line, const std::string& problem) {
    throw CsvError(path + ":" + std::to_string(line) + ": " + problem);
  };
  size_t line_number = 0;
  size_t header_line = 0;
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
    const size_t comma = line.find(',');
    const size_t cells = 1 + static_cast<size_t>(std::count(line.begin(), line.end(), ','));
    if (cells != 2) {
      const bool quotes = line.find('"') != std::string_view::npos;
      fail(line_number, "expected 2 columns (x,y), found " + std::to_string(cells) +
                            (quotes ? " (commas inside quoted cells are not supported: write "
                                      "numbers with a decimal point, e.g. 1.5)"
                                    : ""));
    }
    const std::string_view x_cell = unquote(trim(line.substr(0, comma)));
    const std::string_view y_cell = unquote(trim(line.substr(comma + 1)));
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
    for (const auto& [read, cell, column] :
         {std::tuple(x_read, x_cell, "1 (x) "), std::tuple(y_read, y_cell, "2 (y) ")}) {
      if (read == Number::out_of_range) {
        fail(line_number, std::string("column ") + column + quoted(cell) +
                              " is out of float range (values are 32-bit floats: magnitudes up "
                              "to about 3.4e38, and nonzero ones from about 1.4e-45)");
      }
      if (read == Number::not_a_number) {
        fail(line_number, std::string("column ") + column + quoted(cell) + " is not a number");
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

}  // namespace fitreel
