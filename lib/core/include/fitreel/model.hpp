#pragma once

#include <fitreel/choices.hpp>

#include <torch/nn/modules/container/sequential.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fitreel {

/// Shape of a fully connected net with one input and one output.
struct NetSpec {
  std::vector<int64_t> hidden{2};               ///< sizes of the hidden layers, in order
  Activation activation = Activation::sigmoid;  ///< applied after every hidden layer
};

/// "1-2-1 sigmoid" for the seed's net.
std::string describe(const NetSpec& spec);

/// Sequential(Linear(1, h1), act, Linear(h1, h2), act, ..., Linear(hk, 1)). The layers are
/// constructed first to last (parity: fc1 draws before fc2), never inside one argument list.
torch::nn::Sequential make_net(const NetSpec& spec = {});

/// Every parameter flattened to a CPU float vector, in parameters() order.
std::vector<std::vector<float>> flat_parameters(const torch::nn::Module& model);

}  // namespace fitreel
