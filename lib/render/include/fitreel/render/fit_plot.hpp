#pragma once

#include <fitreel/render/plot.hpp>

#include <opencv2/core.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

// The picture fitreel draws: the data, the true line, the model's curve, and a loss panel.
namespace fitreel::render {

/// Points to draw, as parallel x and y arrays.
struct Points {
  std::vector<double> x{}, y{};
};

/// y = slope * x + intercept. Callable, so it converts to a Curve (a FitScene::truth).
struct StraightLine {
  double slope = 0.0;
  double intercept = 0.0;

  double operator()(double x) const { return slope * x + intercept; }
};

/// A curve y = f(x), such as a truth: a lambda, a function or a StraightLine. Empty = none.
using Curve = std::function<double(double)>;

/// One recorded loss, for the loss panel.
struct LossPoint {
  int64_t epoch = 0;
  double loss = 0.0;
};

/// What stays the same in every frame of a run; fixes the axes so the video does not jump.
struct FitScene {
  std::string title{};                     ///< the title's first words ("line demo", "lr 0.1")
  Points train{};                          ///< training data: blue squares
  Points test{};                           ///< held-out data: hollow orange squares
  Curve truth{};                           ///< the true curve (red), when known: any y = f(x)
  std::string truth_label = "true line";   ///< its legend text
  std::vector<double> curve_x{};           ///< ascending x where the model curve is known
  std::vector<std::string> param_names{};  ///< one label per parameter tensor
  int64_t epochs = 1;                      ///< the loss panel spans [0, epochs)
  Scale epoch_scale = Scale::linear;       ///< its x axis (log1p suits a log schedule)
  size_t max_markers = 4000;               ///< more points than this are thinned for drawing
  /// The legend box: in the plot's corner covering the fewest data points (at most 2 % of them),
  /// else under the parameters in the side panel, else left out. false: none (a grid of panels
  /// shares one above them all).
  bool legend = true;
};

/// What changes from frame to frame.
struct FitFrame {
  int64_t epoch = 0;
  double loss = 0.0;
  std::vector<std::vector<float>> params{};     ///< flattened, in FitScene::param_names order
  std::vector<float> curve{};                   ///< model outputs at FitScene::curve_x
  std::vector<LossPoint> loss_curve{};          ///< losses so far, ascending epochs
  std::optional<StraightLine> least_squares{};  ///< dashed, when given (the final frames)
  std::string note{};  ///< extra title text ("before training", "diverged")
  /// Held-out MSE now; NaN when nothing is held out (RenderPipeline adds it to the test curve).
  double test_loss = std::numeric_limits<double>::quiet_NaN();
  /// Held-out losses so far, ascending epochs: drawn beside the training loss when not empty.
  std::vector<LossPoint> test_loss_curve{};
  /// What each shown unit of the last hidden layer adds to the output at FitScene::curve_x,
  /// drawn faint behind the model; with `unit_bias` they add up to `curve`.
  std::vector<std::vector<float>> units{};
  double unit_bias = 0.0;
  int64_t units_total = 0;  ///< units in that layer (the legend says which are shown)
};

/// One part of a fit picture, a flag of Layers.
enum class Layer : unsigned {
  train = 1,        ///< the training data
  test = 2,         ///< the held-out data
  truth = 4,        ///< the true curve
  model = 8,        ///< the model's curve, its edge markers and the least-squares line
  side_panel = 16,  ///< the loss panel and the parameter box
  units = 32,       ///< the hidden units' curves and the output bias, behind the model
};

/// Which parts a picture shows, as named flags: `Layer::train | Layer::truth` (data.png is
/// the data alone), `Layers::all()` (every part, the default of FitPlot),
/// `Layers::all().without(Layer::side_panel)` (a sweep's panels), `Layers::none()`. There is
/// no default: `Layers{}` once meant everything, so it does not compile rather than mean nothing.
class Layers {
 public:
  Layers() = delete;
  /// One layer alone; implicit, so a Layer is a Layers.
  constexpr Layers(Layer layer) : bits_(static_cast<unsigned>(layer)) {}  // NOLINT
  /// Every layer.
  static constexpr Layers all() { return Layers(kAll); }
  /// No layer: the axes and the title alone.
  static constexpr Layers none() { return Layers(0U); }

  /// Whether `layer` is shown.
  constexpr bool has(Layer layer) const { return (bits_ & static_cast<unsigned>(layer)) != 0; }
  /// These layers but `layer`.
  constexpr Layers without(Layer layer) const {
    return Layers(bits_ & ~static_cast<unsigned>(layer));
  }
  /// Whether any layer is shown: `if (layers & Layer::truth)`.
  constexpr explicit operator bool() const { return bits_ != 0; }

  friend constexpr Layers operator|(Layers a, Layers b) { return Layers(a.bits_ | b.bits_); }
  friend constexpr Layers operator&(Layers a, Layers b) { return Layers(a.bits_ & b.bits_); }
  friend constexpr bool operator==(Layers a, Layers b) { return a.bits_ == b.bits_; }
  friend constexpr bool operator!=(Layers a, Layers b) { return a.bits_ != b.bits_; }

 private:
  static constexpr unsigned kAll = 63;
  constexpr explicit Layers(unsigned bits) : bits_(bits & kAll) {}
  unsigned bits_ = 0;
};

/// `Layer::train | Layer::test`: the two layers as a Layers.
constexpr Layers operator|(Layer a, Layer b) { return Layers(a) | Layers(b); }

/// Lays out a scene once for a frame size and draws its frames; the same inputs give the
/// same pixels.
class FitPlot {
 public:
  /// Lays `scene` out for frames of `size`, with axes fixed from its data and truth. What
  /// stays the same from frame to frame under the `animated` layers (axes, data, truth) is
  /// drawn here once; frames drawn with layers that differ in those parts draw it anew.
  FitPlot(FitScene scene, cv::Size size, Layers animated = Layers::all());

  /// Draws `frame` into `out` (reallocated only when its size or type differ).
  void draw(const FitFrame& frame, cv::Mat& out, const Layers& layers = Layers::all()) const;
  /// Draws `frame` into a new image.
  cv::Mat draw(const FitFrame& frame, const Layers& layers = Layers::all()) const;

  /// The projection of the main plot, with or without the side panel.
  Axes fit_axes(bool side_panel) const;
  /// Where `curve` (values at FitScene::curve_x) is drawn: each point's pixel row, held to the
  /// plot's area as the drawing clips it (NaN where the value is not finite). Two frames whose
  /// rows differ by less than a pixel everywhere look the same.
  std::vector<double> curve_rows(const std::vector<float>& curve, bool side_panel = true) const;
  /// How many markers of each data set are drawn after thinning.
  size_t drawn_points() const { return shown_train_.x.size() + shown_test_.x.size(); }
  /// The scene drawn.
  const FitScene& scene() const { return scene_; }
  /// The size of the frames it draws.
  cv::Size size() const { return size_; }

 private:
  // What does not change between frames (axes, data, truth) and what does.
  void draw_static(cv::Mat& image, const Layers& layers, const Axes& axes) const;
  void draw_dynamic(cv::Mat& image, const FitFrame& frame, const Layers& layers,
                    const Axes& axes) const;
  std::vector<LegendEntry> legend_for(const FitFrame& frame, const Layers& layers) const;
  void draw_title(cv::Mat& image, const FitFrame& frame, const Layers& layers) const;
  void draw_loss_panel(cv::Mat& image, const FitFrame& frame, cv::Rect area) const;
  /// Returns the y below its last line.
  int draw_parameters(cv::Mat& image, const FitFrame& frame, cv::Rect area) const;

  FitScene scene_;
  cv::Size size_;
  double text_scale_;
  Range x_range_, y_range_;
  Points shown_train_, shown_test_;
  Points shown_truth_;  // the truth sampled across x_range_, drawn as a polyline
  std::array<std::vector<cv::Point>, 2> data_pixels_{};  // the drawn points [side_panel]
  Layers background_layers_ = Layers::all();             // what background_ was drawn for
  cv::Mat background_;  // draw_static() for the animated layers, drawn once: frames copy it
};

/// Every k-th point so at most `limit` remain (the first and last kept), for drawing.
Points thin(const Points& points, size_t limit);

}  // namespace fitreel::render
