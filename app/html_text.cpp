#include "html_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

namespace fitreel::app {

namespace {

// The length of the valid UTF-8 sequence at text[i], or 0 when the byte there starts none.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) {
    return 1;
  }
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // the allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    low = lead == 0xE0 ? 0xA0 : 0x80;   // no overlong forms
    high = lead == 0xED ? 0x9F : 0xBF;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    low = lead == 0xF0 ? 0x90 : 0x80;
    high = lead == 0xF4 ? 0x8F : 0xBF;  // nothing past U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size() || byte(i + 1) < low || byte(i + 1) > high) {
    return 0;
  }
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) {
      return 0;
    }
  }
  return length;
}

}  // namespace

std::string escape_html(std::string_view text) {
  std::string escaped;
  escaped.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8_sequence_length(text, i);
    if (length == 0) {
      escaped += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
      continue;
    }
    if (length > 1) {
      escaped.append(text.substr(i, length));
    } else {
      switch (text[i]) {
        case '&':
          escaped += "&amp;";
          break;
        case '<':
          escaped += "&lt;";
          break;
        case '>':
          escaped += "&gt;";
          break;
        case '"':
          escaped += "&quot;";
          break;
        case '\'':
          escaped += "&#39;";
          break;
        default:
          escaped += text[i];
      }
    }
    i += length;
  }
  return escaped;
}

std::string relative_href(std::string_view path) {
  std::string href;
  for (const char c : path) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      href += c;
    } else {
      href += fmt::format("%{:02X}", byte);
    }
  }
  return href;
}

std::string loss_chart_svg(const std::vector<ChartSeries>& series) {
  double x_min = std::numeric_limits<double>::infinity(), x_max = -x_min;
  double y_min = x_min, y_max = -x_min;
  for (const ChartSeries& line : series) {
    for (const auto& [epoch, value] : line.points) {
      x_min = std::min(x_min, epoch), x_max = std::max(x_max, epoch);
      y_min = std::min(y_min, value), y_max = std::max(y_max, value);
    }
  }
  if (!std::isfinite(x_min)) {
    return "";
  }
  constexpr double kWidth = 720, kHeight = 320, kLeft = 70, kRight = 20, kTop = 20, kBottom = 40;
  // Whole decades, so the grid lines fall on 1e-3, 1e-2, ...
  const int low_decade = static_cast<int>(std::floor(std::log10(y_min)));
  const int high_decade = std::max(low_decade + 1, static_cast<int>(std::ceil(std::log10(y_max))));
  const double x_span = x_max > x_min ? x_max - x_min : 1.0;
  const auto x_of = [&](double epoch) {
    return kLeft + (epoch - x_min) / x_span * (kWidth - kLeft - kRight);
  };
  const auto y_of = [&](double value) {
    return kTop + (high_decade - std::log10(value)) / (high_decade - low_decade) *
                      (kHeight - kTop - kBottom);
  };
  // Inline SVG in HTML needs no namespace (and the page names no URL at all).
  std::string svg = fmt::format(
      "<svg class=\"chart\" viewBox=\"0 0 {} {}\" "
      "width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"loss per epoch, log scale\">\n",
      kWidth, kHeight, kWidth, kHeight);
  const int decade_step = std::max(1, (high_decade - low_decade) / 8);
  for (int decade = low_decade; decade <= high_decade; decade += decade_step) {
    const double y = y_of(std::pow(10.0, decade));
    svg += fmt::format(
        "<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>"
        "<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\" font-size=\"12\">1e{}</text>\n",
        kLeft, kWidth - kRight, y, y, kLeft - 6, y + 4, decade);
  }
  const double axis_y = kHeight - kBottom;
  svg += fmt::format(
      "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#444\"/>"
      "<text x=\"{0}\" y=\"{3}\" font-size=\"12\">epoch {4:g}</text>"
      "<text x=\"{1}\" y=\"{3}\" text-anchor=\"end\" font-size=\"12\">epoch {5:g}</text>\n",
      kLeft, kWidth - kRight, axis_y, axis_y + 18, x_min, x_max);
  for (std::size_t i = 0; i < series.size(); ++i) {
    std::string points;
    for (const auto& [epoch, value] : series[i].points) {
      points += fmt::format("{:.1f},{:.1f} ", x_of(epoch), y_of(value));
    }
    svg += fmt::format(
        "<polyline fill=\"none\" stroke=\"{0}\" stroke-width=\"1.5\" points=\"{1}\"/>"
        "<text x=\"{2}\" y=\"{3}\" fill=\"{0}\" font-size=\"13\">{4}</text>\n",
        series[i].color, points, kWidth - kRight - 150, kTop + 16 + 16 * i,
        escape_html(series[i].label));
  }
  return svg + "</svg>";
}

}  // namespace fitreel::app
