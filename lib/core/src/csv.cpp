#include <fitreel/csv.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>
#include <vector>

namespace fitreel {

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// The whole cell must be the number; a leading '+' is allowed (from_chars does not take it).
bool parse_number(std::string_view cell, float& value) {
  if (!cell.empty() && cell.front() == '+') {
    cell.remove_prefix(1);
  }
  if (cell.empty()) {
    return false;
  }
  const auto [end, error] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  return error == std::errc() && end == cell.data() + cell.size();
}

std::string quoted(std::string_view text) {
  return "'" + std::string(text.substr(0, 40)) + (text.size() > 40 ? "...'" : "'");
}

}  // namespace

XyPoints read_xy_csv(const std::string& path, int64_t min_rows) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw CsvError(path + ": cannot open it (" + std::strerror(errno) + ")");
  }
  std::ostringstream buffer;
  buffer << file.rdbuf();
  const std::string text = buffer.str();

  std::vector<float> xs, ys;
  xs.reserve(text.size() / 8);
  ys.reserve(text.size() / 8);
  const auto fail = [&](size_t line, const std::string& problem) {
    throw CsvError(path + ":" + std::to_string(line) + ": " + problem);
  };
  size_t line_number = 0;
  size_t header_line = 0;
  for (size_t start = 0; start < text.size();) {
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
      fail(line_number, "expected 2 columns (x,y), found " + std::to_string(cells));
    }
    const std::string_view first = trim(line.substr(0, comma));
    const std::string_view second = trim(line.substr(comma + 1));
    float x = 0.0F;
    float y = 0.0F;
    const bool x_ok = parse_number(first, x);
    const bool y_ok = parse_number(second, y);
    if (!x_ok && !y_ok) {  // two words: a header, allowed only before the data
      if (!xs.empty() || header_line != 0) {
        fail(line_number,
             "a header line " + quoted(line) + " after " +
                 (xs.empty() ? "the header on line " + std::to_string(header_line) : "data rows"));
      }
      header_line = line_number;
      continue;
    }
    if (!x_ok || !y_ok) {
      fail(line_number, std::string("column ") + (x_ok ? "2 (y) " : "1 (x) ") +
                            quoted(x_ok ? second : first) + " is not a number");
    }
    if (!std::isfinite(x) || !std::isfinite(y)) {
      fail(line_number, "values must be finite, and this row has " +
                            std::string(std::isfinite(x) ? second : first));
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
