// Trains the line demo with the installed library, with a callback of its own, and draws one
// frame to PNG: what a user's program does with fitreel::core and fitreel::render. Then films a
// short run into PNG frames. C++17: every option is set member by member.
#include <fitreel/fitreel.hpp>

#include <opencv2/imgcodecs.hpp>

#include <iostream>

int main(int argc, char** argv) {
  const std::string png = argc > 1 ? argv[1] : "frame.png";
  torch::manual_seed(0);
  const fitreel::Dataset data = fitreel::demos::make_noisy_line(100);
  torch::nn::Sequential model = fitreel::demos::make_line_model();

  fitreel::TrainOptions options;
  options.epochs = 400;
  options.lr = 0.5;
  options.snapshot_epochs = {0, 399};
  options.curve_x = torch::linspace(0, 99, 50).view({-1, 1});
  fitreel::Snapshot last;
  int snapshots = 0;
  fitreel::TrainCallbacks callbacks;
  callbacks.on_snapshot = [&](const fitreel::Snapshot& s) {
    ++snapshots;
    last = s;
  };
  const fitreel::TrainResult result = fitreel::train(model, data, options, callbacks);

  fitreel::render::FitScene scene;
  scene.title = "consumer";
  for (int64_t i = 0; i < data.x_train.size(0); ++i) {
    scene.train.x.push_back(data.x_train[i][0].item<double>());
    scene.train.y.push_back(data.y_train[i][0].item<double>());
  }
  scene.truth = fitreel::render::StraightLine{-0.5, 2.0};
  for (int i = 0; i < 50; ++i) {
    scene.curve_x.push_back(99.0 * i / 49);
  }
  scene.epochs = options.epochs;
  fitreel::render::FitFrame frame;
  frame.epoch = last.epoch;
  frame.loss = last.loss;
  frame.params = last.params;
  frame.curve = last.curve;
  const fitreel::render::FitPlot plot(scene, {640, 360});
  if (!cv::imwrite(png, plot.draw(frame))) {
    std::cerr << "cannot write " << png << "\n";
    return 1;
  }
  std::cout << "fitreel " << fitreel::kVersion << ": " << result.epochs_run << " epochs, "
            << snapshots << " snapshots, final loss " << result.losses.last() << ", slope "
            << result.final_params[0][0] << "\n";
  const bool learned = result.losses.last() < result.losses.first() / 10 && snapshots == 2 &&
                       std::abs(result.final_params[0][0] + 0.5) < 0.1;

  fitreel::FilmOptions look;
  look.frames = 5;
  look.width = 320;
  look.height = 180;
  look.truth =
      fitreel::render::StraightLine{fitreel::demos::kTrueSlope, fitreel::demos::kTrueIntercept};
  fitreel::FilmFiles files;
  files.video = std::filesystem::path(png).parent_path() / "frames";  // no extension: PNG frames
  fitreel::Film film(files, look);
  options.snapshot_epochs.clear();  // the film's own schedule, not the two epochs above
  fitreel::train(fitreel::demos::make_line_model(), data, options, film);
  const bool filmed = film.frames() == 5;
  if (!filmed) {
    std::cerr << "filmed " << film.frames() << " frames, not 5\n";
  }
  return learned && filmed ? 0 : 1;
}
