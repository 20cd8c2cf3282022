// Text is DejaVu Sans through OpenCV's freetype module: the same glyphs freetype draws itself,
// a true minus before numbers, Greek, and the same pixels every time.

#include <fitreel/render/plot.hpp>

#include <gtest/gtest.h>
#include <cmath>
#include <opencv2/freetype.hpp>
#include <opencv2/imgproc.hpp>

namespace fitreel::render {
namespace {

const cv::Scalar kBlack(0, 0, 0);
const cv::Scalar kWhite(255, 255, 255);

// The ink of an image (black on white), cropped to its bounding box.
cv::Mat ink_of(const cv::Mat& image) {
  cv::Mat gray;
  cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
  cv::Mat ink = 255 - gray;
  return ink(cv::boundingRect(ink > 0)).clone();
}

TEST(Text, IsDejaVuSansDrawnByFreetype) {
  ASSERT_FALSE(text_fallback_reason()) << *text_fallback_reason();
  const std::string text = "\xCF\x83(x) = 1 / (1 + e^x)";  // σ(x)
  cv::Mat ours(100, 400, CV_8UC3, kWhite);
  draw_text(ours, text, {10, 60}, TextStyle{2.0, kBlack, false});  // 32 px
  cv::Mat theirs(100, 400, CV_8UC3, kWhite);
  const cv::Ptr<cv::freetype::FreeType2> face = cv::freetype::createFreeType2();
  face->loadFontData("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0);
  face->putText(theirs, text, {10, 20}, 32, kBlack, -1, cv::LINE_AA, false);
  const cv::Mat a = ink_of(ours);
  const cv::Mat b = ink_of(theirs);
  ASSERT_EQ(a.size(), b.size());
  double worst = 0;
  cv::minMaxLoc(cv::abs(a - b), nullptr, &worst);
  EXPECT_LE(worst, 2.0) << "glyphs differ from freetype's own";
}

// A string with digits is put together from pieces (each digit, the runs between): it must be
// the string freetype draws whole, in both weights, at several sizes, spaces at either end too.
TEST(Text, StringsPutTogetherFromPiecesAreTheStringFreetypeDraws) {
  ASSERT_FALSE(text_fallback_reason()) << *text_fallback_reason();
  const std::string strings[] = {"net demo    epoch 4643 of 10000    loss 908.5",
                                 "fc1 weight: 0.3850, 0.4253 (64 values)",
                                 "1e9",
                                 " 7 ",
                                 "seed 14 \xC2\xB7 lr 0.3",
                                 "x"};
  for (const bool bold : {false, true}) {
    const cv::Ptr<cv::freetype::FreeType2> face = cv::freetype::createFreeType2();
    face->loadFontData(bold ? "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
                            : "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                       0);
    for (const double scale : {0.6, 1.0, 1.75}) {
      const int pixels = static_cast<int>(std::lround(16.0 * scale));
      for (const std::string& text : strings) {
        cv::Mat ours(4 * pixels, 60 * pixels, CV_8UC3, kWhite);
        draw_text(ours, text, {pixels, 2 * pixels}, TextStyle{scale, kBlack, bold});
        cv::Mat theirs(ours.size(), CV_8UC3, kWhite);
        face->putText(theirs, text, {pixels, pixels}, pixels, kBlack, -1, cv::LINE_AA, false);
        // Not cropped: a piece put one pixel off (a leading space's advance) shows.
        cv::Mat difference;
        cv::absdiff(ours, theirs, difference);
        double worst = 0;
        cv::minMaxLoc(difference.reshape(1), nullptr, &worst);
        EXPECT_LE(worst, 2.0) << text << " at " << pixels << " px, bold " << bold;
        EXPECT_GT(cv::countNonZero(ink_of(ours).reshape(1)), 0) << text;
      }
    }
  }
}

// Past the bound on cached pieces (4096) the cache starts again, never under a string being put
// together: strings drawn after thousands of distinct ones are still freetype's.
TEST(Text, StringsStayRightPastTheBoundOnCachedPieces) {
  ASSERT_FALSE(text_fallback_reason()) << *text_fallback_reason();
  const auto word = [](int i) {
    std::string letters;
    for (int n = i + 26; n > 0; n /= 26) letters += static_cast<char>('a' + n % 26);
    return letters;
  };
  const cv::Ptr<cv::freetype::FreeType2> face = cv::freetype::createFreeType2();
  face->loadFontData("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0);
  cv::Mat scratch(48, 400, CV_8UC3, kWhite);
  for (int i = 0; i < 2500; ++i) {  // two new pieces each: past 4096 on the way
    const std::string text = word(i) + " 7 " + word(i + 5000) + " 0.25";
    draw_text(scratch, text, {16, 32}, TextStyle{1.0, kBlack, false});
    if (i % 500 == 499) {
      cv::Mat ours(48, 400, CV_8UC3, kWhite);
      draw_text(ours, text, {16, 32}, TextStyle{1.0, kBlack, false});
      cv::Mat theirs(48, 400, CV_8UC3, kWhite);
      face->putText(theirs, text, {16, 16}, 16, kBlack, -1, cv::LINE_AA, false);
      cv::Mat difference;
      cv::absdiff(ours, theirs, difference);
      double worst = 0;
      cv::minMaxLoc(difference.reshape(1), nullptr, &worst);
      EXPECT_LE(worst, 2.0) << text;
    }
  }
}

TEST(Text, AMinusBeforeANumberIsTheMinusSignAndARangeKeepsItsHyphen) {
  const TextStyle style{1.0, kBlack, false};
  const std::string minus = "\xE2\x88\x92";
  EXPECT_EQ(text_size("-0.15", style), text_size(minus + "0.15", style));
  EXPECT_EQ(text_size("y = -0.5x", style), text_size("y = " + minus + "0.5x", style));
  EXPECT_EQ(text_size("1e-05", style), text_size("1e" + minus + "05", style));
  EXPECT_NE(text_size("units 1-8", style), text_size("units 1" + minus + "8", style));
  // DejaVu's minus is as wide as a digit, its hyphen much narrower.
  EXPECT_GT(text_size(minus, style).width,
            text_size("a-b", style).width - text_size("ab", style).width);
}

TEST(Text, SameTextSamePixelsAndLegibleSmall) {
  cv::Mat first(60, 300, CV_8UC3, kWhite);
  cv::Mat second(60, 300, CV_8UC3, kWhite);
  for (cv::Mat* image : {&first, &second}) {
    draw_text(*image, "loss 0.01234 at epoch 999", {5, 40}, TextStyle{0.5, kBlack, true});
  }
  EXPECT_EQ(cv::norm(first, second, cv::NORM_INF), 0.0);
  // At a 320x180 panel's scale (0.25) text is still ink, at least 5 px tall.
  cv::Mat small(40, 200, CV_8UC3, kWhite);
  draw_text(small, "lr 0.001", {5, 30}, TextStyle{0.25, kBlack, false});
  EXPECT_GE(ink_of(small).rows, 5);
}

}  // namespace
}  // namespace fitreel::render
