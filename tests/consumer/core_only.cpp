// Links fitreel::core alone: builds where OpenCV is absent.
#include <fitreel/core.hpp>  // every core header: none may need OpenCV

#include <torch/torch.h>

#include <cstdio>
#include <iostream>

#ifdef CV_VERSION
#error "OpenCV reached a core-only consumer"
#endif

int main() {
  torch::manual_seed(0);
  const fitreel::Dataset data = fitreel::demos::make_identity(100);
  torch::nn::Sequential net = fitreel::make_net();
  fitreel::TrainOptions options;
  options.epochs = 300;
  options.lr = 0.1;
  const fitreel::TrainResult result = fitreel::train(net, data, options);
  std::cout << "net: loss " << result.losses.first() << " -> " << result.losses.last() << "\n";
  // A checkpoint round trip links libzip, core's own dependency, through the package.
  const std::string checkpoint = "core_only_net.pt";
  fitreel::save_checkpoint(net, "1-2-1 sigmoid", checkpoint);
  fitreel::verify_checkpoint(checkpoint);
  torch::nn::Sequential loaded = fitreel::make_net();
  fitreel::load_checkpoint(loaded, "1-2-1 sigmoid", checkpoint);
  std::remove(checkpoint.c_str());
  return result.losses.last() < result.losses.first() ? 0 : 1;
}
