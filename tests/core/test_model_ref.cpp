// Any module, passed as the user holds it: a TORCH_MODULE type, a Sequential, an AnyModule or a
// shared_ptr, through prediction, evaluation and checkpoints.
#include <fitreel/checkpoint.hpp>
#include <fitreel/error.hpp>
#include <fitreel/evaluate.hpp>
#include <fitreel/model_ref.hpp>
#include <fitreel/trainer.hpp>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <unistd.h>

#include <filesystem>

namespace fitreel {
namespace {

struct CubicNetImpl : torch::nn::Module {
  explicit CubicNetImpl(int64_t width = 8)
      : fc1(register_module("fc1", torch::nn::Linear(1, width))),
        fc2(register_module("fc2", torch::nn::Linear(width, 1))) {}
  torch::Tensor forward(torch::Tensor x) { return fc2(torch::tanh(fc1(x))); }
  torch::nn::Linear fc1, fc2;
};
TORCH_MODULE(CubicNet);

struct ScratchFile {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("fitreel-model-ref-" + std::to_string(::getpid()) + ".pt"))
                         .string();
  ~ScratchFile() { std::filesystem::remove(path); }
};

const torch::Tensor kX = torch::linspace(-2, 2, 11).view({-1, 1});

TEST(ModelRef, PredictsAndEvaluatesAUsersOwnModule) {
  torch::manual_seed(1);
  CubicNet net;
  const torch::Tensor expected = net->forward(kX).detach();
  const std::vector<float> predicted = predict(net, kX);
  ASSERT_EQ(predicted.size(), 11U);
  for (size_t i = 0; i < predicted.size(); ++i) {
    EXPECT_FLOAT_EQ(predicted[i], expected[static_cast<int64_t>(i)][0].item<float>());
  }
  const torch::Tensor y = kX.pow(3);
  EXPECT_NEAR(mse(net, kX, y), torch::mse_loss(expected, y).item<double>(), 1e-6);
}

TEST(ModelRef, TakesAHolderAnAnyModuleAndASharedPointerAlike) {
  torch::manual_seed(2);
  CubicNet net;
  const torch::Tensor expected = net->forward(kX).detach();
  const ModelRef as_holder(net);
  const ModelRef as_any{torch::nn::AnyModule(net)};
  const ModelRef as_pointer(net.ptr());
  for (const ModelRef* model : {&as_holder, &as_any, &as_pointer}) {
    EXPECT_TRUE(torch::equal(model->forward(kX).detach(), expected));
    EXPECT_EQ(&model->module(), net.get()) << "the caller's module, not a copy";
    EXPECT_EQ(model->sequential(), nullptr) << "not a Sequential: trained through autograd";
  }
}

TEST(ModelRef, KnowsASequentialForTheHandDerivedGradients) {
  torch::nn::Sequential sequential(torch::nn::Linear(1, 3), torch::nn::Tanh(),
                                   torch::nn::Linear(3, 1));
  const ModelRef model(sequential);
  EXPECT_EQ(model.sequential().get(), sequential.get());
  EXPECT_TRUE(torch::equal(model.forward(kX), sequential->forward(kX)));
}

TEST(ModelRef, ACheckpointOfAUsersModuleLoadsWithoutClone) {
  ScratchFile file;
  torch::manual_seed(3);
  CubicNet saved;
  save_checkpoint(saved, file.path);
  torch::manual_seed(4);
  CubicNet loaded;  // other random weights; CubicNetImpl is not Cloneable
  ASSERT_FALSE(torch::equal(loaded->fc1->weight, saved->fc1->weight));
  load_checkpoint(loaded, file.path);
  EXPECT_TRUE(torch::equal(loaded->forward(kX), saved->forward(kX)));
}

TEST(ModelRef, ACheckpointThatDoesNotFitNamesTheShapesAndChangesNothing) {
  ScratchFile file;
  save_checkpoint(CubicNet(8), file.path);
  CubicNet other(4);
  const torch::Tensor before = other->fc1->weight.clone();
  try {
    load_checkpoint(other, file.path);
    ADD_FAILURE() << "loaded an 8-wide net into a 4-wide one";
  } catch (const CheckpointError& error) {
    // Every mismatch, in one line.
    EXPECT_EQ(std::string(error.what()),
              file.path +
                  " does not fit this model: fc1.weight is [8, 1] there and [4, 1] here; fc1.bias "
                  "is [8] there and [4] here; fc2.weight is [1, 8] there and [1, 4] here");
  }
  EXPECT_TRUE(torch::equal(other->fc1->weight, before)) << "nothing copied";
  torch::nn::Sequential line(torch::nn::Linear(1, 1));
  EXPECT_THROW(load_checkpoint(line, file.path), CheckpointError) << "no module 0";
}

TEST(ModelRef, ATaggedCheckpointRefusesAnotherArchitecture) {
  ScratchFile file;
  CubicNet net;
  save_checkpoint(net, "cubic 1-8-1 tanh", file.path);
  EXPECT_NO_THROW(load_checkpoint(net, "cubic 1-8-1 tanh", file.path));
  EXPECT_NO_THROW(load_checkpoint(net, file.path)) << "no tag asked for: names and shapes";
  EXPECT_THROW(load_checkpoint(net, "1-2-1 sigmoid", file.path), CheckpointError);
}

TEST(ModelRef, TrainsAUsersOwnModuleThroughAutograd) {
  torch::manual_seed(5);
  CubicNet net(16);
  Dataset data;
  data.x_train = torch::linspace(-2, 2, 64).view({-1, 1});
  data.y_train = data.x_train.pow(3) - 2 * data.x_train;
  TrainOptions options;
  options.epochs = 300;
  options.lr = 0.02;
  options.optimizer = OptimizerKind::adam;
  const double before = mse(net, data.x_train, data.y_train);
  const TrainResult result = train(net, data, options);
  EXPECT_FALSE(result.used_analytic_gradients) << "not a Sequential: autograd";
  EXPECT_EQ(result.epochs_run, 300);
  EXPECT_LT(mse(net, data.x_train, data.y_train), before / 10) << "the caller's net learned";
  options.gradients = Gradients::analytic;
  EXPECT_THROW(train(net, data, options), InputError);
}

}  // namespace
}  // namespace fitreel
