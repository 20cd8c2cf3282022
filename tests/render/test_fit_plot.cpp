#include <fitreel/render/fit_plot.hpp>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <cmath>

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
  frame.curve = {0.0F, 0.0F};  // a flat model at y = 0 from x = 0 to 90
  const cv::Mat image = plot.draw(frame, Layer::model);
  const cv::Point2d p = plot.fit_axes(false).to_pixel(45, 0);
  EXPECT_EQ(
      image.at<cv::Vec3b>(cv::Point(static_cast<int>(p.x), static_cast<int>(std::lround(p.y)))),
      cv::Vec3b(colors::kModel[0], colors::kModel[1], colors::kModel[2]));
}

bool has_colour(const cv::Vec3b& pixel, const cv::Scalar& colour, int tolerance = 40) {
  for (int c = 0; c < 3; ++c) {
    if (std::abs(pixel[c] - static_cast<int>(colour[c])) > tolerance) {
      return false;
    }
  }
  return true;
}

// Whether a pixel within one of `at` has `colour` (anti-aliased lines straddle pixels).
bool colour_near(const cv::Mat& image, cv::Point2d at, const cv::Scalar& colour) {
  const cv::Point centre(static_cast<int>(std::lround(at.x)), static_cast<int>(std::lround(at.y)));
  for (int dy = -1; dy <= 1; ++dy) {
    for (int dx = -1; dx <= 1; ++dx) {
      if (has_colour(image.at<cv::Vec3b>(centre + cv::Point(dx, dy)), colour)) {
        return true;
      }
    }
  }
  return false;
}

int pixels_of(const cv::Mat& image, const cv::Scalar& colour, cv::Rect area) {
  int count = 0;
  for (int y = area.y; y < area.y + area.height; ++y) {
    for (int x = area.x; x < area.x + area.width; ++x) {
      count += has_colour(image.at<cv::Vec3b>(y, x), colour) ? 1 : 0;
    }
  }
  return count;
}

double cubic(double x) { return x * x * x - 2 * x; }

// y = x^3 - 2x sampled in [-2, 2], with the cubic as the truth.
FitScene cubic_scene() {
  FitScene scene;
  scene.title = "cubic";
  for (int i = 0; i <= 40; ++i) {
    const double x = -2.0 + i * 0.1;
    scene.train.x.push_back(x);
    scene.train.y.push_back(cubic(x));
    scene.curve_x.push_back(x);
  }
  scene.truth = cubic;
  scene.truth_label = "y = x^3 - 2x";
  return scene;
}

TEST(FitPlot, DrawsACurvedTruth) {
  const FitPlot plot(cubic_scene(), {1280, 720});
  const cv::Mat image = plot.draw(FitFrame{}, Layer::truth);
  const Axes axes = plot.fit_axes(false);
  // Along the cubic, not along a straight line through its ends (y = 2x would be at -2 here).
  for (double x = -1.9; x <= 1.9; x += 0.2) {
    EXPECT_TRUE(colour_near(image, axes.to_pixel(x, cubic(x)), colors::kTruth)) << "x = " << x;
  }
  EXPECT_FALSE(colour_near(image, axes.to_pixel(-1.0, -2.0), colors::kTruth));
}

TEST(FitPlot, AxesHoldDataAndTruthWithAMarginWhateverTheModel) {
  FitScene scene = line_scene();
  scene.truth = [](double x) { return 0.01 * x * x - 30; };  // reaches y = 51 at x = 90
  const FitPlot plot(scene, {1280, 720});
  const Range x = plot.fit_axes(true).x_range();
  const Range y = plot.fit_axes(true).y_range();
  // Data x in [0, 90], y in [-43, 2]; truth y in [-30, 51]: each side has room beyond them.
  EXPECT_LT(x.lo, 0 - 0.02 * 90);
  EXPECT_GT(x.hi, 90 + 0.02 * 90);
  EXPECT_LT(y.lo, -43 - 0.02 * 94);
  EXPECT_GT(y.hi, 51 + 0.02 * 94);
  EXPECT_LT(y.hi, 51 + 0.25 * 94) << "a margin, not a jump to a far round number";

  // A model far off the plot moves nothing else: the frame without its layer is the same.
  FitFrame wild = a_frame();
  wild.curve = {1e6F, -1e6F};
  const Layers all_but_model = Layers::all().without(Layer::model);
  EXPECT_EQ(
      cv::norm(plot.draw(a_frame(), all_but_model), plot.draw(wild, all_but_model), cv::NORM_INF),
      0.0);
  EXPECT_EQ(plot.fit_axes(true).y_range().hi, y.hi);
}

TEST(FitPlot, AModelLeavingThePlotGetsAMarkerAtTheEdge) {
  FitScene scene = line_scene();
  scene.curve_x = {0, 40, 41, 90};
  const FitPlot plot(scene, {1280, 720});
  const Axes axes = plot.fit_axes(false);
  const cv::Rect& area = axes.area();
  const cv::Rect top_band(area.x + 1, area.y + 1, area.width - 2, 5);
  const cv::Rect bottom_band(area.x + 1, area.y + area.height - 6, area.width - 2, 5);

  FitFrame inside = a_frame();
  inside.curve = {-10.0F, -10.0F, -10.0F, -10.0F};
  const cv::Mat calm = plot.draw(inside, Layer::model);
  EXPECT_EQ(pixels_of(calm, colors::kModel, top_band), 0);
  EXPECT_EQ(pixels_of(calm, colors::kModel, bottom_band), 0);

  // Steeply up through the top edge between x = 40 and 41, then across the plot and out at the
  // bottom near x = 65.
  FitFrame leaving = a_frame();
  leaving.curve = {-10.0F, -10.0F, 1000.0F, -1000.0F};
  const cv::Mat image = plot.draw(leaving, Layer::model);
  const double exit_x = axes.to_pixel(40.0 + (axes.y_range().hi + 10) / 1010, 0).x;
  // The triangle is wider than the steep line: model colour either side of it near the edge.
  for (const double dx : {-3.0, 3.0}) {
    EXPECT_TRUE(has_colour(image.at<cv::Vec3b>(area.y + 8, static_cast<int>(exit_x + dx)),
                           colors::kModel, 10))
        << "dx " << dx;
  }
  const double bottom_x = axes.to_pixel(41.0 + 49.0 * (1000 - axes.y_range().lo) / 2000, 0).x;
  for (const double dx : {-3.0, 3.0}) {
    EXPECT_TRUE(
        has_colour(image.at<cv::Vec3b>(area.y + area.height - 9, static_cast<int>(bottom_x + dx)),
                   colors::kModel, 10))
        << "a marker below, where the curve leaves; dx " << dx;
  }
  // Nothing of the sort where the curve does not leave.
  EXPECT_EQ(pixels_of(image, colors::kModel,
                      cv::Rect(area.x + 1, area.y + 1, static_cast<int>(exit_x) - area.x - 30, 5)),
            0);
}

TEST(FitPlot, LayerFlagsSelectWhatIsDrawn) {
  const FitPlot plot(line_scene(), {1280, 720});
  const cv::Rect whole(0, 0, 1280, 720);
  const cv::Mat data_only = plot.draw(a_frame(), Layer::train | Layer::test);
  const cv::Mat everything = plot.draw(a_frame(), Layers::all());
  EXPECT_GT(pixels_of(data_only, colors::kData, whole), 100);
  EXPECT_EQ(pixels_of(data_only, colors::kTruth, whole), 0);
  EXPECT_EQ(pixels_of(data_only, colors::kModel, whole), 0);
  EXPECT_GT(pixels_of(everything, colors::kTruth, whole), 100);
  EXPECT_GT(pixels_of(everything, colors::kModel, whole), 100);
  EXPECT_TRUE(Layers::all().has(Layer::side_panel));
  EXPECT_FALSE(Layers::all().without(Layer::side_panel).has(Layer::side_panel));
  EXPECT_TRUE((Layer::train | Layer::truth).has(Layer::truth));
  EXPECT_FALSE((Layer::train | Layer::truth) & Layer::model);
  EXPECT_EQ(Layers::none(), Layers::all() & Layers::none());
  EXPECT_FALSE(Layers::none());
}

// A scene without a legend leaves it to the grid its panel is in: the frames differ only inside
// the plot area, where the legend box sits.
TEST(FitPlot, AGridOfPanelsCanLeaveTheLegendOut) {
  FitScene shared = line_scene();
  shared.legend = false;
  const Layers panel = Layers::all().without(Layer::side_panel);
  const FitPlot plot(line_scene(), {640, 360});
  const cv::Mat with = plot.draw(a_frame(), panel);
  const cv::Mat without = FitPlot(shared, {640, 360}).draw(a_frame(), panel);
  cv::Mat differs;
  cv::compare(with, without, differs, cv::CMP_NE);
  cv::cvtColor(differs, differs, cv::COLOR_BGR2GRAY);
  ASSERT_GT(cv::countNonZero(differs), 100);
  const cv::Rect changed = cv::boundingRect(differs);
  const cv::Rect area = plot.fit_axes(false).area();
  EXPECT_EQ(changed & area, changed) << "only the legend box, inside the plot, differs";
}

// A title too long for a small panel is shortened, never cut at the frame's edge: the columns
// at the right edge above the plot hold no ink, at every size from a sweep panel up.
TEST(FitPlot, ATitleShortensInsteadOfLeavingTheFrame) {
  FitScene scene = line_scene();
  scene.title = "seed 14, lr 0.3";
  FitFrame frame = a_frame();
  frame.epoch = 2979;
  frame.loss = 3.2173;
  frame.note = "diverged at epoch 2979";
  for (const cv::Size size : {cv::Size(320, 180), cv::Size(426, 240), cv::Size(640, 360)}) {
    const FitPlot plot(scene, size);
    const cv::Mat image = plot.draw(frame, Layers::all().without(Layer::side_panel));
    const int above_plot = plot.fit_axes(false).area().y;
    const cv::Mat edge = image(cv::Rect(size.width - 3, 0, 3, above_plot));
    cv::Mat ink;
    cv::inRange(edge, cv::Scalar(0, 0, 0), cv::Scalar(200, 200, 200), ink);
    EXPECT_EQ(cv::countNonZero(ink), 0) << size;
    cv::Mat title;
    cv::inRange(image(cv::Rect(0, 0, size.width, above_plot)), cv::Scalar(0, 0, 0),
                cv::Scalar(120, 120, 120), title);
    EXPECT_GT(cv::countNonZero(title), 20) << size << ": a shorter title is still drawn";
  }
}

TEST(FitPlot, HiddenUnitsAreDrawnFaintWhereTheyAreAndOnlyWithTheirLayer) {
  const FitPlot plot(line_scene(), {1280, 720});
  FitFrame frame = a_frame();
  frame.units = {{-20.0F, -20.0F}, {-10.0F, -10.0F}};  // two flat units, and a bias of 10
  frame.unit_bias = 10.0;
  frame.units_total = 2;
  const cv::Mat with = plot.draw(frame, Layer::units);
  const Axes axes = plot.fit_axes(false);
  EXPECT_TRUE(colour_near(with, axes.to_pixel(45, -20), colors::kUnits[0]));
  EXPECT_TRUE(colour_near(with, axes.to_pixel(45, -10), colors::kUnits[1]));
  const cv::Mat without = plot.draw(frame, Layers::all().without(Layer::units));
  EXPECT_FALSE(colour_near(without, axes.to_pixel(45, -20), colors::kUnits[0]));
  // The legend names them; the full picture differs from the one without them.
  EXPECT_GT(cv::norm(plot.draw(frame), without, cv::NORM_L1), 0.0);
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
