#include <fitreel/render/fit_plot.hpp>

#include <gtest/gtest.h>

namespace fitreel::render {
namespace {

FitScene line_scene() {
  FitScene scene;
  scene.title = "line demo";
  for (int i = 0; i < 10; ++i) {
    scene.train.x.push_back(i * 10);
    scene.train.y.push_back(-0.5 * i * 10 + 2);
  }
  scene.test = {{5, 55}, {-0.5, -25.5}};
  scene.truth = StraightLine{-0.5, 2};
  scene.curve_x = {0, 90};
  scene.param_names = {"slope w", "intercept b"};
  scene.epochs = 100;
  return scene;
}

FitFrame a_frame() {
  FitFrame frame;
  frame.epoch = 10;
  frame.loss = 12.5;
  frame.params = {{-0.3F}, {0.5F}};
  frame.curve = {0.5F, -26.5F};
  return frame;
}

TEST(FitPlot, DrawsTrainingMarkersAtTheirProjectedPixels) {
  const FitPlot plot(line_scene(), {640, 360});
  const Layers data_only = Layer::train;
  const cv::Mat image = plot.draw(a_frame(), data_only);
  ASSERT_EQ(image.size(), cv::Size(640, 360));
  const Axes axes = plot.fit_axes(false);
  const FitScene scene = line_scene();
  for (size_t i = 1; i + 1 < scene.train.x.size(); ++i) {  // inner points: no legend on them
    const cv::Point2d p = axes.to_pixel(scene.train.x[i], scene.train.y[i]);
    const cv::Point pixel(static_cast<int>(std::lround(p.x)), static_cast<int>(std::lround(p.y)));
    EXPECT_EQ(image.at<cv::Vec3b>(pixel), cv::Vec3b(255, 0, 0)) << "point " << i;
  }
}

TEST(FitPlot, TestPointsAreHollowAndDistinct) {
  const FitPlot plot(line_scene(), {1280, 720});
  const cv::Mat image = plot.draw(a_frame(), Layer::test);
  const cv::Point2d p = plot.fit_axes(false).to_pixel(55, -25.5);
  const cv::Point centre(static_cast<int>(std::lround(p.x)), static_cast<int>(std::lround(p.y)));
  EXPECT_EQ(image.at<cv::Vec3b>(centre), cv::Vec3b(255, 255, 255)) << "hollow";
  EXPECT_EQ(image.at<cv::Vec3b>(centre + cv::Point(4, 0)),
            cv::Vec3b(colors::kTest[0], colors::kTest[1], colors::kTest[2]));
}

TEST(FitPlot, SameInputsSamePixels) {
  const FitPlot plot(line_scene(), {1280, 720});
  FitFrame frame = a_frame();
  frame.loss_curve = {{0, 100.0}, {10, 12.5}};
  const cv::Mat first = plot.draw(frame);
  const cv::Mat second = plot.draw(frame);
  EXPECT_EQ(cv::norm(first, second, cv::NORM_INF), 0.0);
  // A copy of the plot (as the pipeline holds) draws the same too, cached background or not.
  const FitPlot copy = plot;
  EXPECT_EQ(cv::norm(first, copy.draw(frame), cv::NORM_INF), 0.0);
}

TEST(FitPlot, TheModelCurveIsDrawnInItsColour) {
  const FitPlot plot(line_scene(), {1280, 720});
  FitFrame frame = a_frame();
  frame.curve = {10.0F, 10.0F};  // a flat model at y = 10 from x = 0 to 90
  const cv::Mat image = plot.draw(frame, Layer::model);
  const cv::Point2d p = plot.fit_axes(false).to_pixel(45, 10);
  EXPECT_EQ(
      image.at<cv::Vec3b>(cv::Point(static_cast<int>(p.x), static_cast<int>(std::lround(p.y)))),
      cv::Vec3b(colors::kModel[0], colors::kModel[1], colors::kModel[2]));
}

TEST(FitPlot, DrawsEvenAtTheSmallestSize) {
  for (const cv::Size size : {cv::Size(64, 64), cv::Size(128, 96), cv::Size(320, 180)}) {
    const FitPlot plot(line_scene(), size);
    FitFrame frame = a_frame();
    frame.loss_curve = {{0, 100.0}, {10, 12.5}};
    EXPECT_EQ(plot.draw(frame).size(), size);
    EXPECT_EQ(plot.draw(frame, Layers::all().without(Layer::side_panel)).size(), size);
  }
}

TEST(FitPlot, ThinsLargeDataForDrawing) {
  FitScene scene = line_scene();
  scene.train.x.assign(100000, 1.0);
  scene.train.y.assign(100000, 1.0);
  scene.max_markers = 1000;
  const FitPlot plot(scene, {320, 240});
  EXPECT_LE(plot.drawn_points(), 1002U);
  EXPECT_GE(plot.drawn_points(), 900U);
}

TEST(Thin, KeepsFirstAndLastEvenly) {
  Points points;
  for (int i = 0; i < 11; ++i) {
    points.x.push_back(i);
    points.y.push_back(i);
  }
  EXPECT_EQ(thin(points, 3).x, (std::vector<double>{0, 5, 10}));
  EXPECT_EQ(thin(points, 20).x.size(), 11U);
}

}  // namespace
}  // namespace fitreel::render
