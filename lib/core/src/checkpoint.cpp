#include <fitreel/checkpoint.hpp>

#include <torch/torch.h>

#include <filesystem>

namespace fitreel {

namespace {

constexpr const char* kArchitectureKey = "fitreel.architecture";

std::string one_line(const char* text) {
  const std::string message(text);
  return message.substr(0, message.find('\n'));
}

}  // namespace

void save_checkpoint(torch::nn::Sequential& model, const std::string& architecture,
                     const std::string& path) {
  const std::filesystem::path target(path);
  const std::filesystem::path temporary =
      target.parent_path() / ("." + target.filename().string() + ".partial");
  torch::serialize::OutputArchive archive;
  model->save(archive);
  archive.write(kArchitectureKey, c10::IValue(architecture));
  try {
    archive.save_to(temporary.string());
  } catch (const c10::Error& error) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw std::runtime_error("cannot write the checkpoint " + path + ": " +
                             one_line(error.what_without_backtrace()));
  }
  std::filesystem::rename(temporary, target);
}

void load_checkpoint(torch::nn::Sequential& model, const std::string& architecture,
                     const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) {
    throw CheckpointError("no checkpoint file at " + path);
  }
  // Load into a copy first: a bad file must not leave the model half-overwritten.
  const auto candidate = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(model->clone());
  torch::serialize::InputArchive archive;
  c10::IValue saved_architecture;
  try {
    archive.load_from(path);
    if (!archive.try_read(kArchitectureKey, saved_architecture) || !saved_architecture.isString()) {
      throw CheckpointError(path + " is not a fitreel checkpoint (saved with --save-model)");
    }
    if (saved_architecture.toStringRef() != architecture) {
      throw CheckpointError(path + " holds a " + saved_architecture.toStringRef() +
                            " model, not the " + architecture + " this run trains");
    }
    candidate->load(archive);
  } catch (const c10::Error& error) {
    throw CheckpointError(path + " cannot be read as a checkpoint (truncated or not one): " +
                          one_line(error.what_without_backtrace()));
  }
  // LibTorch replaces tensors on load without comparing shapes; we do.
  const auto loaded = candidate->named_parameters();
  for (const auto& expected : model->named_parameters()) {
    const torch::Tensor* found = loaded.find(expected.key());
    if (found == nullptr || found->sizes() != expected.value().sizes()) {
      throw CheckpointError(path + " does not fit this model: parameter " + expected.key() +
                            " has another shape");
    }
  }
  torch::NoGradGuard no_grad;
  for (auto& parameter : model->named_parameters()) {
    parameter.value().copy_(*loaded.find(parameter.key()));
  }
}

}  // namespace fitreel
