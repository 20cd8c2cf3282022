// Compiled, never run: a user's C++20 code that fills fitreel's render structs with designated
// initializers and leaves members out. Built with -Wall -Wextra -Wpedantic -Werror, so a public
// render header that warns there (say, a member without a default) breaks the build.
#include <fitreel/render/fit_plot.hpp>
#include <fitreel/render/frame_sink.hpp>
#include <fitreel/render/live_window.hpp>
#include <fitreel/render/loss_chart.hpp>
#include <fitreel/render/pipeline.hpp>
#include <fitreel/render/plot.hpp>
#include <fitreel/render/video.hpp>

namespace fitreel::render {

cv::Mat user_code() {
  const FitScene scene{.title = "cubic",
                       .train = {.x = {-1.0, 1.0}, .y = {1.0, -1.0}},
                       .truth = [](double x) { return x * x * x - 2 * x; },
                       .curve_x = {-1.0, 1.0},
                       .epochs = 3000};
  const FitFrame frame{.epoch = 1, .least_squares = StraightLine{.slope = 1.0}};
  const VideoSettings video{.size = {640, 360}, .fps = 25};
  const LossSeries series{.label = "training", .color = colors::kModel};
  const LegendEntry entry{.label = "model"};
  const GridLayout grid{.columns = 2};
  const TextStyle style{.scale = 2.0};
  const Range range{.hi = 2.0};
  static_cast<void>(video);
  static_cast<void>(series);
  static_cast<void>(entry);
  static_cast<void>(grid);
  static_cast<void>(style);
  static_cast<void>(range);
  const FitPlot plot(scene, {640, 360}, Layers::all().without(Layer::side_panel));
  return plot.draw(frame, Layer::train | Layer::truth);
}

}  // namespace fitreel::render
