// Layout at every size: each text and legend drawn (recorded by DrawnBoxes) lies inside the
// image, no two texts overlap, and a legend covers at most 2 % of the data points.

#include <fitreel/render/fit_plot.hpp>
#include <fitreel/render/loss_chart.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <sstream>

namespace fitreel::render {
namespace {

const cv::Size kLayoutSizes[] = {{320, 180},  {480, 270},   {640, 360},  {960, 540},
                                 {1280, 720}, {1920, 1080}, {3840, 2160}};

// The line demo after training: 80 noisy points, 20 held out, the truth, a least-squares
// line, five-digit epochs and both loss curves.
FitScene demo_line_scene() {
  FitScene scene;
  scene.title = "line demo";
  for (int i = 0; i < 100; ++i) {
    const double y = -0.5 * i + 2 + 5 * std::sin(i * 12.9898);  // noise in [-5, 5]
    Points& to = i % 5 == 0 ? scene.test : scene.train;
    to.x.push_back(i);
    to.y.push_back(y);
  }
  scene.truth = StraightLine{-0.5, 2};
  scene.truth_label = "true line y = -0.5x + 2";
  for (int i = 0; i < 200; ++i) scene.curve_x.push_back(99.0 * i / 199);
  scene.param_names = {"slope w", "intercept b"};
  scene.epochs = 30000;
  scene.epoch_scale = Scale::log1p;
  return scene;
}

FitFrame demo_line_frame(const FitScene& scene) {
  FitFrame frame;
  frame.epoch = 29999;
  frame.loss = 8.123456;
  frame.test_loss = 9.87654;
  frame.params = {{-0.4987F}, {1.8765F}};
  for (double x : scene.curve_x) frame.curve.push_back(static_cast<float>(-0.4987 * x + 1.8765));
  for (int e = 0; e < 30000; e = e * 2 + 1) {
    frame.loss_curve.push_back({e, 8.0 + 3000.0 / (1.0 + e)});
    frame.test_loss_curve.push_back({e, 9.8 + 3000.0 / (1.0 + e)});
  }
  frame.least_squares = StraightLine{-0.4991, 1.9012};
  frame.note = "after training";
  return frame;
}

// A net with 64 hidden units, 8 drawn: long parameter lines and a units legend.
FitScene demo_net_scene() {
  FitScene scene;
  scene.title = "net demo";
  for (int i = 0; i < 100; ++i) {
    scene.train.x.push_back(i);
    scene.train.y.push_back(i);
    scene.curve_x.push_back(i);
  }
  scene.truth = StraightLine{1.0, 0.0};
  scene.truth_label = "target y = x";
  scene.param_names = {"fc1 weight", "fc1 bias", "fc2 weight", "fc2 bias"};
  scene.epochs = 10000;
  return scene;
}

FitFrame demo_net_frame(const FitScene& scene) {
  FitFrame frame;
  frame.epoch = 5123;
  frame.loss = 1181.7573;
  frame.params = {std::vector<float>(64, -1.234567F),
                  std::vector<float>(64, 12.5F),
                  std::vector<float>(64, 0.001F),
                  {-23.4567F}};
  for (double x : scene.curve_x)
    frame.curve.push_back(static_cast<float>(99 / (1 + std::exp(-(x - 50) / 10))));
  for (int u = 0; u < 8; ++u) {
    frame.units.emplace_back();
    for (double x : scene.curve_x)
      frame.units.back().push_back(static_cast<float>(10 * u / (1 + std::exp(-(x - 10 * u)))));
  }
  frame.unit_bias = 0.5;
  frame.units_total = 64;
  for (int e = 0; e <= 5123; e += 50) frame.loss_curve.push_back({e, 1181.0 + 2000.0 / (1.0 + e)});
  return frame;
}

std::string describe_box(const DrawnBox& drawn) {
  std::ostringstream out;
  out << (drawn.kind == DrawnBox::Kind::legend ? "legend" : "'" + drawn.text + "'") << " at "
      << drawn.box;
  return out.str();
}

// Every box inside the image; no two texts overlapping; a legend holding the texts it overlaps.
void expect_laid_out(const std::vector<DrawnBox>& boxes, cv::Size size, const std::string& what) {
  const cv::Rect image(0, 0, size.width, size.height);
  for (size_t i = 0; i < boxes.size(); ++i) {
    const DrawnBox& a = boxes[i];
    EXPECT_EQ(a.box & image, a.box) << what << ": " << describe_box(a) << " leaves the image";
    for (size_t j = i + 1; j < boxes.size(); ++j) {
      const DrawnBox& b = boxes[j];
      const cv::Rect both = a.box & b.box;
      if (both.empty()) continue;
      const bool texts = a.kind == DrawnBox::Kind::text && b.kind == DrawnBox::Kind::text;
      const bool held = (a.kind == DrawnBox::Kind::legend && both == b.box) ||
                        (b.kind == DrawnBox::Kind::legend && both == a.box);
      EXPECT_TRUE(!texts && held) << what << ": " << describe_box(a) << " overlaps "
                                  << describe_box(b);
    }
  }
}

// The share of data points a legend covers.
double covered_share(const std::vector<DrawnBox>& boxes, const Axes& axes, const FitScene& scene) {
  size_t covered = 0;
  size_t total = 0;
  for (const Points* points : {&scene.train, &scene.test}) {
    for (size_t i = 0; i < points->x.size(); ++i) {
      ++total;
      const cv::Point2d p = axes.to_pixel(points->x[i], points->y[i]);
      const cv::Point pixel(static_cast<int>(std::lround(p.x)), static_cast<int>(std::lround(p.y)));
      for (const DrawnBox& drawn : boxes) {
        if (drawn.kind == DrawnBox::Kind::legend && drawn.box.contains(pixel)) {
          ++covered;
          break;
        }
      }
    }
  }
  return total == 0 ? 0.0 : static_cast<double>(covered) / static_cast<double>(total);
}

// How many boxes were drawn of a kind, and how many texts start with `prefix`.
size_t count_kind(const std::vector<DrawnBox>& boxes, DrawnBox::Kind kind) {
  return static_cast<size_t>(
      std::count_if(boxes.begin(), boxes.end(), [&](const DrawnBox& b) { return b.kind == kind; }));
}
size_t count_texts(const std::vector<DrawnBox>& boxes, const std::string& prefix) {
  return static_cast<size_t>(std::count_if(boxes.begin(), boxes.end(), [&](const DrawnBox& b) {
    return b.kind == DrawnBox::Kind::text && b.text.rfind(prefix, 0) == 0;
  }));
}

TEST(Layout, TextThatWouldLeaveTheImageIsLeftOutAndSaysSo) {
  cv::Mat image(100, 200, CV_8UC3, cv::Scalar::all(255));
  DrawnBoxes drawn;
  EXPECT_TRUE(draw_text(image, "inside", {10, 50}, TextStyle{}));
  EXPECT_FALSE(draw_text(image, "cut at the left", {-5, 50}, TextStyle{}));
  EXPECT_FALSE(draw_text(image, "cut at the top", {10, 3}, TextStyle{}));
  EXPECT_FALSE(draw_text(image, "far too long for a 200 px wide image", {10, 50}, TextStyle{}));
  ASSERT_EQ(drawn.boxes().size(), 1U);
  EXPECT_EQ(drawn.boxes()[0].text, "inside");
  EXPECT_EQ(drawn.boxes()[0].box, text_box("inside", {10, 50}, TextStyle{}));
  // Nothing else was drawn: outside the one box the image is untouched.
  cv::Mat outside = image.clone();
  outside(drawn.boxes()[0].box).setTo(cv::Scalar::all(255));
  EXPECT_EQ(cv::countNonZero(outside.reshape(1) != 255), 0);
}

TEST(Layout, AFrameFitsAtEverySize) {
  for (const cv::Size size : kLayoutSizes) {
    for (const bool line : {true, false}) {
      const FitScene scene = line ? demo_line_scene() : demo_net_scene();
      DrawnBoxes drawn;
      const FitPlot plot(scene, size);
      plot.draw(line ? demo_line_frame(scene) : demo_net_frame(scene));
      const std::string what = std::string(line ? "line" : "net") + " frame at " +
                               std::to_string(size.width) + "x" + std::to_string(size.height);
      expect_laid_out(drawn.boxes(), size, what);
      EXPECT_LE(covered_share(drawn.boxes(), plot.fit_axes(true), scene), 0.02) << what;
      // What must be there: a title, tick labels, and from 640x360 on the parameters and a legend.
      EXPECT_EQ(count_texts(drawn.boxes(), line ? "line demo" : "net demo"), 1U) << what;
      EXPECT_GE(count_texts(drawn.boxes(), "1") + count_texts(drawn.boxes(), "2") +
                    count_texts(drawn.boxes(), "4"),
                3U)
          << what;
      if (size.width >= 640) {
        EXPECT_EQ(count_texts(drawn.boxes(), "parameters"), 1U) << what;
        EXPECT_EQ(count_kind(drawn.boxes(), DrawnBox::Kind::legend), line ? 2U : 1U) << what;
      }
    }
  }
}

// A run that diverged or ran away: numbers print as "nan" and "inf" (never printf's "-nan"),
// a 1e30 weight as PyTorch prints it, and data near float's limits get ticks of their own.
TEST(Layout, NumbersAtTheEdgesOfFloatReadPlainly) {
  FitScene scene = demo_line_scene();
  for (int i = 0; i < 50; ++i) {
    scene.train.x[static_cast<size_t>(i)] = i * 1e30;
    scene.train.y[static_cast<size_t>(i)] = -3.3e37 * i / 50;
  }
  for (double& x : scene.curve_x) x *= 5e29;
  FitFrame frame = demo_line_frame(scene);
  frame.loss = -std::numeric_limits<double>::quiet_NaN();
  frame.params = {{1e30F}, {-std::numeric_limits<float>::quiet_NaN()}};
  frame.note = "diverged";
  DrawnBoxes drawn;
  const FitPlot plot(scene, {1280, 720});
  plot.draw(frame);
  expect_laid_out(drawn.boxes(), {1280, 720}, "a diverged frame");
  std::vector<std::string> powers;  // tick labels written with a power of ten
  bool titled = false;
  for (const DrawnBox& box : drawn.boxes()) {
    EXPECT_EQ(box.text.find("-nan"), std::string::npos) << box.text;
    titled = titled || box.text.find("loss nan") != std::string::npos;
    if (box.text.find("e+3") != std::string::npos && box.text.find(' ') == std::string::npos) {
      powers.push_back(box.text);
    }
  }
  EXPECT_TRUE(titled);
  EXPECT_EQ(count_texts(drawn.boxes(), "slope w: 1.0000e+30"), 1U);
  EXPECT_EQ(count_texts(drawn.boxes(), "intercept b: nan"), 1U);
  ASSERT_GE(powers.size(), 6U);
  std::vector<std::string> distinct = powers;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  EXPECT_EQ(distinct.size(), powers.size());
}

// Points in every corner of the plot: the legend leaves the plot for the side panel, under the
// parameters, rather than covering data or going missing (it went missing before).
TEST(Layout, ALegendWithNoFreeCornerGoesUnderTheParameters) {
  FitScene scene = demo_line_scene();
  scene.train = {};
  scene.test = {};
  scene.truth = Curve();
  for (int i = 0; i < 3000; ++i) {  // four dense blocks, one in each corner of [0, 99] x [-1, 1]
    const double u = std::fmod(i * 0.6180339887, 1.0);
    const double v = std::fmod(i * 0.7548776662, 1.0);
    scene.train.x.push_back(i % 2 == 0 ? 30.0 * u : 99.0 - 30.0 * u);
    scene.train.y.push_back(i % 4 < 2 ? -1.0 + 0.6 * v : 1.0 - 0.6 * v);
  }
  // (At 640x360 the panel is too narrow for this legend: it is left out there, as before.)
  for (const cv::Size size : {cv::Size(1280, 720), cv::Size(1920, 1080), cv::Size(3840, 2160)}) {
    const std::string what = std::to_string(size.width) + "x" + std::to_string(size.height);
    DrawnBoxes drawn;
    const FitPlot plot(scene, size);
    FitFrame frame = demo_line_frame(scene);
    std::fill(frame.curve.begin(), frame.curve.end(), 0.0F);
    frame.least_squares = StraightLine{0.0143, -0.125};
    plot.draw(frame);
    expect_laid_out(drawn.boxes(), size, what);
    EXPECT_EQ(count_texts(drawn.boxes(), "least squares: y = 0.0143x - 0.125"), 1U) << what;
    std::vector<cv::Rect> legends;
    for (const DrawnBox& box : drawn.boxes()) {
      if (box.kind == DrawnBox::Kind::legend) legends.push_back(box.box);
    }
    ASSERT_EQ(legends.size(), 2U) << what << ": the fit's legend and the loss panel's";
    const cv::Rect fit_legend = legends[0].y > legends[1].y ? legends[0] : legends[1];
    EXPECT_TRUE((fit_legend & plot.fit_axes(true).area()).empty()) << what << ": " << fit_legend;
    EXPECT_GE(fit_legend.x, static_cast<int>(size.width * 0.6)) << what << ": in the side panel";
  }
}

TEST(Layout, ASweepPanelFitsAtEverySize) {
  const Layers panel = Layers::all().without(Layer::side_panel);
  for (const cv::Size size :
       {cv::Size(160, 90), cv::Size(320, 180), cv::Size(640, 360), cv::Size(1280, 720)}) {
    FitScene scene = demo_net_scene();
    scene.title = "seed 14, lr 0.3";
    scene.legend = false;
    DrawnBoxes drawn;
    const FitPlot plot(scene, size, panel);
    plot.draw(demo_net_frame(scene), panel);
    expect_laid_out(drawn.boxes(), size,
                    "panel at " + std::to_string(size.width) + "x" + std::to_string(size.height));
  }
}

TEST(Layout, TextTooBigForATinyFrameIsLeftOutNotCut) {
  for (const cv::Size size : {cv::Size(64, 64), cv::Size(128, 96), cv::Size(200, 112)}) {
    const FitScene scene = demo_line_scene();
    DrawnBoxes drawn;
    const FitPlot plot(scene, size);
    plot.draw(demo_line_frame(scene));
    expect_laid_out(drawn.boxes(), size,
                    "tiny frame " + std::to_string(size.width) + "x" + std::to_string(size.height));
  }
}

TEST(Layout, ALossFigureFitsAtEverySize) {
  std::vector<LossSeries> series;
  for (int r = 0; r < 4; ++r) {
    LossSeries s{"lr 0." + std::to_string(r + 1) + ": median and range of 16", series_color(r), {}};
    for (int e = 0; e < 3000; e += 10) s.points.push_back({e, (r + 1) * 10.0 + 1000.0 / (1 + e)});
    series.push_back(s);
  }
  for (const cv::Size size : kLayoutSizes) {
    DrawnBoxes drawn;
    draw_loss_figure(size, "training loss of 64 models, trained in one batch", 3000, Scale::linear,
                     series);
    expect_laid_out(
        drawn.boxes(), size,
        "loss figure at " + std::to_string(size.width) + "x" + std::to_string(size.height));
  }
}

// Losses crowding every corner of sweep.png's chart leave no place for the legend inside it: it
// goes in a row between the title and the chart (it sat small over the curves before).
TEST(Layout, ALossFigureWithNoFreeCornerPutsItsLegendAboveTheChart) {
  std::vector<LossSeries> series;
  for (int r = 0; r < 2; ++r) {
    LossSeries s{"lr 0." + std::to_string(r + 1) + ": median and range of 8", series_color(r), {}};
    for (int e = 0; e < 3000; e += 10) {
      s.points.push_back({e, r == 0 ? 100.0 : 5000.0 / (1 + e / 10.0)});
      s.low.push_back({e, 20.0 + r});
      s.high.push_back({e, 500.0 - r});
    }
    series.push_back(s);
  }
  // Unlabelled runs zig-zagging through the bottom and top decades at both ends of the epochs.
  const double levels[] = {1.1, 1.3, 1.6, 2.0, 2.5, 3.2, 4.0, 5.0};
  for (const int first : {0, 2400}) {
    for (const bool top : {false, true}) {
      LossSeries s{"", series_color(2), {}};
      for (int e = first; e < first + 600; ++e) {
        const double level = levels[e % 8];
        s.points.push_back({e, top ? 10000.0 / level : level});
      }
      series.push_back(s);
    }
  }
  for (const cv::Size size : {cv::Size(640, 360), cv::Size(1280, 720), cv::Size(1920, 1080)}) {
    const std::string what = std::to_string(size.width) + "x" + std::to_string(size.height);
    DrawnBoxes drawn;
    draw_loss_figure(size, "training loss of 16 models", 3000, Scale::linear, series);
    expect_laid_out(drawn.boxes(), size, what);
    std::optional<cv::Rect> axis_label;
    std::vector<cv::Rect> labels;
    for (const DrawnBox& box : drawn.boxes()) {
      if (box.text == "training loss (MSE, log scale)") axis_label = box.box;
      if (box.text.find("median and range") != std::string::npos) labels.push_back(box.box);
    }
    ASSERT_TRUE(axis_label) << what;
    ASSERT_EQ(labels.size(), 2U) << what;
    for (const cv::Rect& label : labels) {
      EXPECT_LE(label.y + label.height, axis_label->y) << what << ": " << label;
    }
  }
}

// The loss chart's legend goes where it covers the fewest drawn losses: here they climb into the
// top-right corner, where it always sat before.
TEST(Layout, ALossChartLegendStaysOffItsCurves) {
  std::vector<LossSeries> labelled;
  for (int r = 0; r < 2; ++r) {
    LossSeries s{r == 0 ? "training" : "test", series_color(static_cast<size_t>(r)), {}};
    for (int e = 0; e < 3000; e += 5)
      s.points.push_back({e, (1.0 + 0.05 * r) * (1 + e * e / 1000.0)});
    labelled.push_back(s);
  }
  std::vector<LossSeries> unlabelled = labelled;
  for (LossSeries& s : unlabelled) s.label.clear();
  for (const cv::Size size : {cv::Size(640, 360), cv::Size(1280, 720), cv::Size(1920, 1080)}) {
    const std::string what = std::to_string(size.width) + "x" + std::to_string(size.height);
    const double text_scale = size.height / 720.0;
    const cv::Rect area = axes_area(cv::Rect(0, 0, size.width, size.height), text_scale);
    cv::Mat bare(size, CV_8UC3, colors::kBackground);
    draw_loss_chart(bare, area, 3000, Scale::linear, unlabelled, text_scale);
    cv::Mat labelled_image(size, CV_8UC3, colors::kBackground);
    DrawnBoxes drawn;
    draw_loss_chart(labelled_image, area, 3000, Scale::linear, labelled, text_scale);
    ASSERT_EQ(count_kind(drawn.boxes(), DrawnBox::Kind::legend), 1U) << what;
    cv::Rect legend;
    for (const DrawnBox& box : drawn.boxes()) {
      if (box.kind == DrawnBox::Kind::legend) legend = box.box;
    }
    size_t curve = 0;
    size_t covered = 0;
    for (int y = 0; y < bare.rows; ++y) {
      for (int x = 0; x < bare.cols; ++x) {
        const cv::Vec3b pixel = bare.at<cv::Vec3b>(y, x);
        for (const LossSeries& s : unlabelled) {
          // The curve's own colour, give or take anti-aliasing (the grid is grey, the paper white).
          const bool near = std::abs(pixel[0] - s.color[0]) < 40 &&
                            std::abs(pixel[1] - s.color[1]) < 40 &&
                            std::abs(pixel[2] - s.color[2]) < 40;
          if (near) {
            ++curve;
            covered += legend.contains({x, y}) ? 1 : 0;
            break;
          }
        }
      }
    }
    ASSERT_GT(curve, 100U) << what;
    EXPECT_LE(static_cast<double>(covered) / static_cast<double>(curve), 0.02)
        << what << ": the legend at " << legend << " covers " << covered << " of " << curve
        << " curve pixels";
  }
}

}  // namespace
}  // namespace fitreel::render
