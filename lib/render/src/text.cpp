// Text in DejaVu Sans through OpenCV's freetype module (HarfBuzz shaping): a true minus, Greek,
// clean at any size. Hershey, OpenCV's built-in vector font, is the fallback when the module or
// the font is missing. A FreeType string costs ~100 µs, so each thread keeps the strings it drew
// as coverage masks: tick labels and legends cost a blend after their first frame, and a new
// string (a title's epoch, a parameter's value) is put together from pieces drawn before.

#include <fitreel/render/plot.hpp>

#include <opencv2/imgproc.hpp>
#ifdef FITREEL_WITH_FREETYPE
#include <opencv2/freetype.hpp>
#endif

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace fitreel::render {

namespace {

// Where fonts-dejavu-core puts them; FITREEL_FONT_DIR names another folder (for tests, and
// machines with the fonts elsewhere).
constexpr const char* kFontDir = "/usr/share/fonts/truetype/dejavu";
constexpr const char* kRegularFontFile = "DejaVuSans.ttf";
constexpr const char* kBoldFontFile = "DejaVuSans-Bold.ttf";

std::filesystem::path font_dir() {
  const char* chosen = std::getenv("FITREEL_FONT_DIR");
  return chosen != nullptr && *chosen != '\0' ? chosen : kFontDir;
}
constexpr double kFontPixels = 16.0;  // the height of normal text (scale 1) in DejaVu
constexpr int kSmallestPixels = 9;    // below this DejaVu blurs: a 320x180 panel's labels
constexpr size_t kCachedStrings = 4096;

// Hershey's sizes, for the fallback.
constexpr int kHersheyFont = cv::FONT_HERSHEY_SIMPLEX;
constexpr int kHersheyBoldFont = cv::FONT_HERSHEY_DUPLEX;
constexpr double kHersheyBase = 0.5;

// "-0.5" reads as a hyphen; U+2212 is the minus sign typeset numbers use.
std::string with_true_minus(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (size_t i = 0; i < text.size(); ++i) {
    const bool before_number =
        i + 1 < text.size() &&
        (std::isdigit(static_cast<unsigned char>(text[i + 1])) != 0 || text[i + 1] == '.');
    const bool after_gap =
        i == 0 || std::string_view(" (=[,e").find(text[i - 1]) != std::string_view::npos;
    if (text[i] == '-' && before_number && after_gap) {
      out += "\xE2\x88\x92";
    } else {
      out += text[i];
    }
  }
  return out;
}

// Hershey draws ASCII only: the few symbols fitreel uses get their ASCII stand-ins.
std::string ascii_only(std::string_view text) {
  static const std::pair<std::string_view, std::string_view> kStandIns[] = {
      {"\xE2\x88\x92", "-"}, {"\xC3\x97", "x"}, {"\xCF\x83", "s"}, {"\xC2\xB7", "*"}};
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {
      out += text[i++];
      continue;
    }
    bool replaced = false;
    for (const auto& [symbol, stand_in] : kStandIns) {
      if (text.substr(i, symbol.size()) == symbol) {
        out += stand_in;
        i += symbol.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) {  // skip one UTF-8 sequence
      out += '?';
      ++i;
      while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) {
        ++i;
      }
    }
  }
  return out;
}

#ifdef FITREEL_WITH_FREETYPE
// A string drawn once: its coverage (0 = paper, 255 = ink) and where its baseline-left point is.
struct Rendered {
  cv::Mat coverage;
  cv::Point origin;
  cv::Size size;  // as text_size() reports it: width, and height above the baseline
  cv::Rect ink;   // where coverage is not zero
};

// One per thread: FreeType2 objects must not be shared between the drawing thread and the main
// one. Loaded on first use; empty when the font or the module cannot be used.
struct Typeface {
  cv::Ptr<cv::freetype::FreeType2> regular, bold;
  std::unordered_map<std::string, Rendered> cache;
  std::string failure;  // which font file could not be used, and why

  Typeface() {
    const std::filesystem::path folder = font_dir();
    regular = load(folder / kRegularFontFile);
    bold = regular.empty() ? nullptr : load(folder / kBoldFontFile);
    if (regular.empty() || bold.empty()) {
      regular.reset();
      bold.reset();
    }
  }

  // The font in `file`, or empty with `failure` naming that file.
  cv::Ptr<cv::freetype::FreeType2> load(const std::filesystem::path& file) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(file, error)) {
      failure = file.string() + " is missing";
      return nullptr;
    }
    try {
      cv::Ptr<cv::freetype::FreeType2> face = cv::freetype::createFreeType2();
      face->loadFontData(file.string(), 0);
      int baseline = 0;
      face->getTextSize("H", 16, -1, &baseline);  // a damaged file may fail only when used
      return face;
    } catch (const cv::Exception&) {
      failure = file.string() + " cannot be read as a font (damaged or truncated?)";
      return nullptr;
    }
  }
  bool usable() const { return !regular.empty() && !bold.empty(); }

  static std::string key_of(const std::string& text, int height, bool is_bold) {
    return std::to_string(height) + (is_bold ? "b|" : "r|") + text;
  }

  // Keyed by the text as given: a cached string costs no typesetting (true minus) either.
  const Rendered& render(const std::string& given, int height, bool is_bold) {
    std::string key = key_of(given, height, is_bold);
    if (const auto found = cache.find(key); found != cache.end()) {
      return found->second;
    }
    const std::string text = with_true_minus(given);
    if (cache.size() >= kCachedStrings) {
      cache.clear();  // a bound on memory; the strings of a frame come back at once
    }
    cv::freetype::FreeType2& face = is_bold ? *bold : *regular;
    int baseline = 0;
    const cv::Size box = face.getTextSize(text, height, -1, &baseline);
    // The text's top-left corner at (pad, pad), its baseline `ascent` below.
    const int pad = height;
    const std::vector<std::string> parts = pieces_of(text);
    Rendered rendered;
    if (parts.size() <= 1) {  // no digit, or one alone: drawn whole
      rendered.coverage = coverage_of(face, text, height, box.width);
    } else {
      rendered.coverage = put_together(parts, height, is_bold);
    }
    rendered.origin = {pad, pad + ascent(height)};
    rendered.size = {box.width, box.height};
    rendered.ink = cv::boundingRect(rendered.coverage);
    return cache.emplace(std::move(key), std::move(rendered)).first->second;
  }

  // `text` drawn black on white by putText at (pad, pad) with pad = height, inverted into
  // coverage; `width` is how far the pen goes, and a pad on every side holds what overhangs.
  static cv::Mat coverage_of(cv::freetype::FreeType2& face, const std::string& text, int height,
                             int width) {
    const int pad = height;
    cv::Mat canvas(3 * height, std::max(0, width) + 2 * pad, CV_8UC3, cv::Scalar::all(255));
    face.putText(canvas, text, {pad, pad}, height, cv::Scalar::all(0), -1, cv::LINE_AA, false);
    cv::Mat coverage;
    cv::extractChannel(canvas, coverage, 0);
    cv::bitwise_not(coverage, coverage);
    return coverage;
  }

  // OpenCV's putText draws each glyph on its own at the pen's whole-pixel position and moves the
  // pen by the glyph's whole-pixel advance (no kerning). So a string drawn as pieces, each at the
  // advance of those before it, is the string putText draws; and a number changing every frame
  // costs a few cached digits instead of a putText of the whole string (~70 µs for a title).
  struct Piece {
    cv::Mat coverage;  // as coverage_of() draws it: the pen starts at column `pad`
    cv::Rect ink;      // where coverage is not zero
    int advance = 0;   // how far the pen moves across the piece, at least 0
  };
  std::unordered_map<std::string, Piece> piece_cache;
  std::unordered_map<std::string, int> hh_widths;  // getTextSize("HH") per height and weight

  // Each ASCII digit alone, everything between digits as one piece: "epoch 12 of 300" is
  // "epoch ", "1", "2", " of ", "3", "0", "0". Multi-byte characters never contain a digit.
  static std::vector<std::string> pieces_of(const std::string& text) {
    std::vector<std::string> pieces;
    std::string run;
    for (const char c : text) {
      if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
        if (!run.empty()) {
          pieces.push_back(std::move(run));
          run.clear();
        }
        pieces.emplace_back(1, c);
      } else {
        run += c;
      }
    }
    if (!run.empty()) {
      pieces.push_back(std::move(run));
    }
    return pieces;
  }

  // The pieces' coverage side by side, each at its pen position.
  cv::Mat put_together(const std::vector<std::string>& parts, int height, bool is_bold) {
    if (piece_cache.size() + parts.size() > kCachedStrings) {
      piece_cache.clear();  // before, not while, this string's pieces are gathered
    }
    std::vector<Piece> pieces;  // copies share their pixels with the cache (cv::Mat counts)
    int width = 0;
    for (const std::string& part : parts) {
      pieces.push_back(piece(part, height, is_bold));
      width += pieces.back().advance;
    }
    const int pad = height;
    cv::Mat coverage(3 * height, width + 2 * pad, CV_8UC1, cv::Scalar::all(0));
    int pen = 0;
    for (const Piece& part : pieces) {
      // Ink over ink, as putText blends one glyph over the last: 1 - (1 - a)(1 - b). Clipped to
      // the canvas: a glyph may overhang further than the pad.
      const cv::Rect ink = (part.ink + cv::Point(pen, 0)) & cv::Rect({}, coverage.size());
      for (int y = ink.y; y < ink.y + ink.height; ++y) {
        const uint8_t* from = part.coverage.ptr<uint8_t>(y) - pen;
        uint8_t* under = coverage.ptr<uint8_t>(y);
        for (int x = ink.x; x < ink.x + ink.width; ++x) {
          under[x] = static_cast<uint8_t>(255 - (255 - under[x]) * (255 - from[x]) / 255);
        }
      }
      pen += part.advance;
    }
    return coverage;
  }

  const Piece& piece(const std::string& text, int height, bool is_bold) {
    std::string key = key_of(text, height, is_bold);
    if (const auto found = piece_cache.find(key); found != piece_cache.end()) {
      return found->second;
    }
    cv::freetype::FreeType2& face = is_bold ? *bold : *regular;
    // The advance between two H's: getTextSize measures ink to ink, and an H on each side
    // keeps leading and trailing spaces in.
    int baseline = 0;
    int& hh = hh_widths[key_of("HH", height, is_bold)];
    if (hh == 0) {
      hh = face.getTextSize("HH", height, -1, &baseline).width;
    }
    Piece made;
    made.advance =
        std::max(0, face.getTextSize("H" + text + "H", height, -1, &baseline).width - hh);
    made.coverage = coverage_of(face, text, height, made.advance);
    made.ink = cv::boundingRect(made.coverage);
    return piece_cache.emplace(std::move(key), std::move(made)).first->second;
  }

  // Where the baseline lies below the top-left corner putText is given: the bottom of an "H".
  int ascent(int height) {
    auto& known = ascents[height];
    if (known == 0) {
      cv::Mat probe(3 * height, 3 * height, CV_8UC3, cv::Scalar::all(0));
      regular->putText(probe, "H", {height, height}, height, cv::Scalar::all(255), -1, cv::LINE_8,
                       false);
      cv::Mat ink_mask;
      cv::extractChannel(probe, ink_mask, 0);
      const cv::Rect ink = cv::boundingRect(ink_mask);
      known = ink.y + ink.height - height;
    }
    return known;
  }
  std::unordered_map<int, int> ascents;
};

Typeface& typeface() {
  thread_local Typeface face;
  return face;
}

// Paints `color` through `coverage` onto `image` with the mask's `origin` at `at`, clipped.
void blend(cv::Mat& image, const cv::Mat& coverage, cv::Point origin, cv::Point at,
           const cv::Scalar& color) {
  const cv::Rect target(at - origin, coverage.size());
  const cv::Rect clipped = target & cv::Rect(0, 0, image.cols, image.rows);
  if (clipped.empty()) {
    return;
  }
  const cv::Point from = clipped.tl() - target.tl();
  const int ink[3] = {static_cast<int>(color[0]), static_cast<int>(color[1]),
                      static_cast<int>(color[2])};
  for (int y = 0; y < clipped.height; ++y) {
    const uint8_t* alpha = coverage.ptr<uint8_t>(from.y + y) + from.x;
    auto* pixel = image.ptr<cv::Vec3b>(clipped.y + y) + clipped.x;
    for (int x = 0; x < clipped.width; ++x) {
      const int a = alpha[x];
      if (a == 0) {
        continue;
      }
      for (int c = 0; c < 3; ++c) {
        pixel[x][c] = static_cast<uint8_t>((pixel[x][c] * (255 - a) + ink[c] * a + 127) / 255);
      }
    }
  }
}

int pixel_height(const TextStyle& style) {
  return std::max(kSmallestPixels, static_cast<int>(std::lround(kFontPixels * style.scale)));
}

// Where a rendered string's ink lands with its baseline-left point at `origin`.
cv::Rect box_at(const Rendered& rendered, cv::Point origin) {
  return rendered.ink + (origin - rendered.origin);
}
#endif

}  // namespace

std::optional<std::string> text_fallback_reason() {
#ifdef FITREEL_WITH_FREETYPE
  if (typeface().usable()) {
    return std::nullopt;
  }
  return "DejaVu Sans cannot be loaded (" + typeface().failure +
         "): text is drawn in OpenCV's Hershey font (install fonts-dejavu-core)";
#else
  return std::string(
      "this OpenCV has no freetype module: text is drawn in OpenCV's Hershey font "
      "(install libopencv-contrib-dev and rebuild)");
#endif
}

namespace {
thread_local std::vector<DrawnBox>* recording = nullptr;  // DrawnBoxes alive on this thread
}  // namespace

DrawnBoxes::DrawnBoxes() {
  if (recording != nullptr) {
    throw std::logic_error("DrawnBoxes: one recorder at a time per thread");
  }
  recording = &boxes_;
}

DrawnBoxes::~DrawnBoxes() { recording = nullptr; }

void DrawnBoxes::record(DrawnBox::Kind kind, const cv::Rect& box, const std::string& text) {
  if (recording != nullptr) {
    recording->push_back({kind, box, text});
  }
}

bool draw_text(cv::Mat& image, const std::string& text, cv::Point origin, const TextStyle& style) {
  const cv::Rect inside(0, 0, image.cols, image.rows);
#ifdef FITREEL_WITH_FREETYPE
  Typeface& face = typeface();
  if (face.usable()) {  // rendered (or found) once, for its box and its pixels
    const Rendered& rendered = face.render(text, pixel_height(style), style.bold);
    const cv::Rect box = box_at(rendered, origin);
    if ((box & inside) != box) {
      return false;  // dropped, never cut
    }
    blend(image, rendered.coverage, rendered.origin, origin, style.color);
    DrawnBoxes::record(DrawnBox::Kind::text, box, text);
    return true;
  }
#endif
  const cv::Rect box = text_box(text, origin, style);
  if ((box & inside) != box) {
    return false;
  }
  // Thickness 1 always: thicker anti-aliased strokes cost ten times more; bold is a font.
  cv::putText(image, ascii_only(text), origin, style.bold ? kHersheyBoldFont : kHersheyFont,
              kHersheyBase * style.scale, style.color, 1, cv::LINE_AA);
  DrawnBoxes::record(DrawnBox::Kind::text, box, text);
  return true;
}

cv::Rect text_box(const std::string& text, cv::Point origin, const TextStyle& style) {
#ifdef FITREEL_WITH_FREETYPE
  Typeface& face = typeface();
  if (face.usable()) {
    return box_at(face.render(text, pixel_height(style), style.bold), origin);
  }
#endif
  int baseline = 0;
  const cv::Size size =
      cv::getTextSize(ascii_only(text), style.bold ? kHersheyBoldFont : kHersheyFont,
                      kHersheyBase * style.scale, 1, &baseline);
  return {origin.x, origin.y - size.height, size.width, size.height + baseline};
}

cv::Size text_size(const std::string& text, const TextStyle& style) {
#ifdef FITREEL_WITH_FREETYPE
  Typeface& face = typeface();
  if (face.usable()) {
    return face.render(text, pixel_height(style), style.bold).size;
  }
#endif
  int baseline = 0;
  return cv::getTextSize(ascii_only(text), style.bold ? kHersheyBoldFont : kHersheyFont,
                         kHersheyBase * style.scale, 1, &baseline);
}

}  // namespace fitreel::render
