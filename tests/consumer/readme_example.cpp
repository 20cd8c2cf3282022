// The README's "Use fitreel from your project" example, built and run by the consumer test.
#include <fitreel/data.hpp>
#include <fitreel/model.hpp>
#include <fitreel/render/pipeline.hpp>
#include <fitreel/render/video.hpp>
#include <fitreel/schedule.hpp>
#include <fitreel/trainer.hpp>

#include <torch/torch.h>

int main() {
  torch::Tensor x = torch::linspace(-3, 3, 200).view({-1, 1});  // your points, shape (N, 1)
  fitreel::Dataset data{x, torch::sin(x), {}, {}};
  torch::nn::Sequential net = fitreel::make_net({{16}, fitreel::Activation::tanh});

  fitreel::render::FitScene scene;  // what every frame shares
  scene.title = "sin";
  scene.train = {fitreel::values_of(x), fitreel::values_of(data.y_train)};
  scene.curve_x = fitreel::values_of(x);
  scene.epochs = 2000;
  auto video = fitreel::render::open_video(".", "sin", fitreel::render::VideoFormat::mp4, {});
  std::vector<std::unique_ptr<fitreel::render::FrameSink>> sinks;
  sinks.push_back(std::move(video.sink));
  fitreel::render::RenderPipeline pipeline({scene, {1280, 720}}, std::move(sinks));

  fitreel::TrainOptions options;
  options.epochs = 2000;
  options.lr = 0.05;
  options.curve_x = x;  // where each frame shows the model
  options.snapshot_epochs = fitreel::frame_epochs(options.epochs, 150, fitreel::Schedule::linear);
  fitreel::train(net, data, options, {[&](const fitreel::Snapshot& s) {
                   pipeline.push({s.epoch, s.loss, s.params, s.curve});
                 }});
  pipeline.finish();  // sin.mp4 is complete
}
