#include <fitreel/render/loss_chart.hpp>
#include <fitreel/render/plot.hpp>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace fitreel::render {
namespace {

TEST(NiceStep, IsOneTwoOrFiveTimesAPowerOfTen) {
  EXPECT_DOUBLE_EQ(nice_step(100, 10), 10);
  EXPECT_DOUBLE_EQ(nice_step(100, 8), 10);  // raw 12.5 -> 10
  EXPECT_DOUBLE_EQ(nice_step(60, 6), 10);
  EXPECT_DOUBLE_EQ(nice_step(1, 4), 0.2);  // raw 0.25 -> 0.2
  EXPECT_DOUBLE_EQ(nice_step(30000, 5), 5000);
  EXPECT_DOUBLE_EQ(nice_step(0.003, 3), 0.001);
  EXPECT_DOUBLE_EQ(nice_step(0, 5), 1) << "degenerate spans still give a usable step";
}

TEST(NiceTicks, CoverTheRangeAtMultiplesOfTheStep) {
  EXPECT_EQ(nice_ticks({-60, 10}, 7), (std::vector<double>{-60, -50, -40, -30, -20, -10, 0, 10}));
  EXPECT_EQ(nice_ticks({0.05, 0.95}, 4), (std::vector<double>{0.2, 0.4, 0.6000000000000001, 0.8}));
  const auto ticks = nice_ticks({-1, 1}, 4);
  EXPECT_FALSE(std::signbit(ticks[2])) << "no -0";
}

TEST(NiceBounds, WidenToWholeSteps) {
  const Range r = nice_bounds({-51.3, 4.2}, 6);
  EXPECT_DOUBLE_EQ(r.lo, -60);
  EXPECT_DOUBLE_EQ(r.hi, 10);
  const Range single = nice_bounds({5, 5}, 6);
  EXPECT_LT(single.lo, 5);
  EXPECT_GT(single.hi, 5);
}

TEST(LogTicks, PowersOfTenInside) {
  EXPECT_EQ(log_ticks({0.5, 2000}), (std::vector<double>{1, 10, 100, 1000}));
  EXPECT_TRUE(log_ticks({-1, 10}).empty());
  EXPECT_EQ(log1p_ticks({0, 30000}), (std::vector<double>{0, 1, 10, 100, 1000, 10000}));
}

TEST(FormatTick, ShowsWhatTheStepNeeds) {
  EXPECT_EQ(format_tick(20, 10), "20");
  EXPECT_EQ(format_tick(-2.5, 0.5), "-2.5");
  EXPECT_EQ(format_tick(0.25, 0.05), "0.25");
  EXPECT_EQ(format_tick(1e-5, 1e-5), "1e-05");
  EXPECT_EQ(format_tick(3e6, 1e6), "3e+06");
  EXPECT_EQ(format_tick(-1.5e37, 5e36), "-1.5e+37");
  EXPECT_EQ(format_tick(2e37, 5e36), "2e+37");
  EXPECT_EQ(format_tick(1.5e-5, 5e-6), "1.5e-05");
  EXPECT_EQ(format_tick(1000002, 2), "1000002");
  EXPECT_EQ(format_tick(1e6, 1e6), "1e+06");           // a log axis's tick, its own step
  EXPECT_EQ(format_tick(0.25, std::nan("")), "0.25");  // no step to resolve
}

// Data in the millions, near float's limits or spread thinly around a large value: every tick
// of an axis gets a label of its own (once, 1.5e+37 read "2e+37", as its neighbour did).
TEST(FormatTick, NeighbouringTicksNeverShareALabel) {
  const Range ranges[] = {{0, 3.5e37},       {-3.5e37, 0},  {0, 3e6},
                          {1e6, 1e6 + 10},   {0, 2e-5},     {-5e-5, 5e-5},
                          {1, 1 + 1e-9},     {-1e-3, 1e-3}, {1.7e9, 1.7e9 + 100},
                          {-3.4e38, 3.4e38}, {0.5, 0.5001}, {0, 5e31}};
  for (const Range& range : ranges) {
    for (const int target : {2, 5, 10}) {
      const double step = nice_step(range.hi - range.lo, target);
      const std::vector<double> ticks = nice_ticks(range, target);
      std::vector<std::string> labels;
      for (double tick : ticks) labels.push_back(format_tick(tick, step));
      std::vector<std::string> distinct = labels;
      std::sort(distinct.begin(), distinct.end());
      distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
      std::string all;
      for (const std::string& label : labels) all += label + " ";
      EXPECT_EQ(distinct.size(), labels.size())
          << "[" << range.lo << ", " << range.hi << "] target " << target << ": " << all;
    }
  }
}

TEST(Axes, MapsCornersToTheAreaWithYUp) {
  const Axes axes(cv::Rect(100, 50, 401, 201), {0, 10}, {-5, 5});
  EXPECT_EQ(axes.to_pixel(0, -5), cv::Point2d(100, 250));
  EXPECT_EQ(axes.to_pixel(10, 5), cv::Point2d(500, 50));
  EXPECT_EQ(axes.to_pixel(5, 0), cv::Point2d(300, 150));
}

TEST(Axes, LogAndLog1pScales) {
  const Axes axes(cv::Rect(0, 0, 101, 101), {0, 999}, {1, 100}, Scale::log1p, Scale::log);
  EXPECT_NEAR(axes.to_pixel(0, 10).y, 50.0, 1e-9);  // 10 is halfway between 1 and 100 in log
  EXPECT_NEAR(axes.to_pixel(std::sqrt(1000.0) - 1, 1).x, 50.0, 1e-9);
  EXPECT_TRUE(std::isnan(axes.to_pixel(0, -1).y)) << "no log of a negative";
}

TEST(Polyline, IsClippedToTheArea) {
  cv::Mat image(200, 200, CV_8UC3, cv::Scalar(255, 255, 255));
  const Axes axes(cv::Rect(50, 50, 101, 101), {0, 1}, {0, 1});
  // A line from far outside to far outside through the middle of the area.
  draw_polyline(image, axes, {-1e6, 1e6}, {0.5, 0.5}, cv::Scalar(0, 0, 255), 1);
  const cv::Vec3b middle = image.at<cv::Vec3b>(100, 100);  // anti-aliased: nearly pure red
  EXPECT_GT(middle[2], 200);
  EXPECT_LT(middle[1], 64);
  EXPECT_EQ(image.at<cv::Vec3b>(100, 20), cv::Vec3b(255, 255, 255)) << "drawn outside the area";
  EXPECT_EQ(image.at<cv::Vec3b>(100, 180), cv::Vec3b(255, 255, 255)) << "drawn outside the area";
  // Non-finite points are skipped, not drawn.
  draw_polyline(image, axes, {0.1, NAN, 0.9}, {0.2, 0.2, 0.2}, cv::Scalar(0, 255, 0), 1);
  EXPECT_EQ(image.at<cv::Vec3b>(130, 100), cv::Vec3b(255, 255, 255));
}

TEST(Squares, SitAtTheProjectedPixels) {
  cv::Mat image(120, 120, CV_8UC3, cv::Scalar(255, 255, 255));
  const Axes axes(cv::Rect(10, 10, 101, 101), {0, 100}, {0, 100});
  draw_squares(image, axes, {20, 70}, {30, 90}, cv::Scalar(255, 0, 0), 3, true);
  EXPECT_EQ(image.at<cv::Vec3b>(80, 30), cv::Vec3b(255, 0, 0));  // (20, 30): x 30, y 110-30
  EXPECT_EQ(image.at<cv::Vec3b>(20, 80), cv::Vec3b(255, 0, 0));  // (70, 90)
  EXPECT_EQ(image.at<cv::Vec3b>(80, 36), cv::Vec3b(255, 255, 255)) << "squares are 7 px wide";
}

// A band shades the range behind its curve faintly (lighter than the curve, darker than the
// paper), widens the axis to hold it, and an end mark sits on the curve's last point.
TEST(LossChart, ABandShadesTheRangeAndAnEndMarkSitsOnTheLastPoint) {
  cv::Mat image(360, 640, CV_8UC3, colors::kBackground);
  const cv::Rect area(60, 30, 540, 280);
  LossSeries median{"lr 0.1", cv::Scalar(200, 0, 0), {{0, 10.0}, {99, 10.0}}};
  median.low = {{0, 2.0}, {99, 2.0}};
  median.high = {{0, 50.0}, {99, 50.0}};
  LossSeries best{"best", cv::Scalar(0, 0, 200), {{99, 10.0}}};
  best.end_mark = LossSeries::EndMark::dot;
  draw_loss_chart(image, area, 100, Scale::linear, {median, best}, 0.5);
  // The axis spans the band's decades, 1 to 100: loss 30 (inside the band, off the curve).
  const Axes axes(area, {0.0, 99.0}, {1.0, 100.0}, Scale::linear, Scale::log);
  const cv::Point2d in_band = axes.to_pixel(53.0, 30.0);
  const cv::Vec3b shade =
      image.at<cv::Vec3b>(static_cast<int>(in_band.y), static_cast<int>(in_band.x));
  EXPECT_LT(shade[2], 255) << "tinted";
  EXPECT_GT(shade[2], 150) << "faint";
  EXPECT_GT(shade[0], shade[2]) << "in the series' colour";
  const cv::Point2d outside = axes.to_pixel(53.0, 1.5);  // off the grid lines
  EXPECT_EQ(image.at<cv::Vec3b>(static_cast<int>(outside.y), static_cast<int>(outside.x)),
            cv::Vec3b(255, 255, 255));
  const cv::Point2d end = axes.to_pixel(99.0, 10.0);
  const cv::Vec3b dot = image.at<cv::Vec3b>(static_cast<int>(std::lround(end.y)),
                                            static_cast<int>(std::lround(end.x)) - 1);
  EXPECT_EQ(dot, cv::Vec3b(0, 0, 200));
}

// A run that diverged after its first epoch has one finite loss: it shows as a dot.
TEST(LossChart, ALoneLossIsADot) {
  cv::Mat image(360, 640, CV_8UC3, colors::kBackground);
  const cv::Rect area(60, 30, 540, 280);
  const cv::Scalar green(0, 160, 0);
  LossSeries lone{"training", green, {{0, 700.0}, {1, std::nan("")}}};
  draw_loss_chart(image, area, 50, Scale::linear, {lone}, 0.5);
  const Axes axes(area, {0.0, 49.0}, {100.0, 1000.0}, Scale::linear, Scale::log);
  const cv::Point2d at = axes.to_pixel(0.0, 700.0);
  const cv::Rect around(static_cast<int>(at.x) - 3, static_cast<int>(at.y) - 3, 7, 7);
  cv::Mat green_pixels;
  cv::inRange(image(around), cv::Scalar(0, 150, 0), cv::Scalar(40, 170, 40), green_pixels);
  EXPECT_GE(cv::countNonZero(green_pixels), 9);
}

}  // namespace
}  // namespace fitreel::render
