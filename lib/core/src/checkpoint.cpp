#include "checkpoint_file.hpp"

#include <fitreel/checkpoint.hpp>
#include <fitreel/files/atomic_file.hpp>

#include <torch/torch.h>

#include <sstream>

namespace fitreel {

namespace {

constexpr const char* kArchitectureKey = "fitreel.architecture";

std::string one_line(const char* text) {
  const std::string message(text);
  return message.substr(0, message.find('\n'));
}

// Parses verified bytes into `model`'s copy; every parser error becomes one line.
void parse_into(torch::nn::SequentialImpl& candidate, const std::string& architecture,
                const std::string& path, const std::string& bytes) {
  torch::serialize::InputArchive archive;
  c10::IValue saved_architecture;
  try {
    archive.load_from(bytes.data(), bytes.size(), torch::Device(torch::kCPU));
    if (!archive.try_read(kArchitectureKey, saved_architecture) || !saved_architecture.isString()) {
      throw CheckpointError(path + " is not a fitreel checkpoint (saved with --save-model)");
    }
    if (saved_architecture.toStringRef() != architecture) {
      throw CheckpointError(path + " holds a " + saved_architecture.toStringRef() +
                            " model, not the " + architecture + " this run trains");
    }
    candidate.load(archive);
  } catch (const CheckpointError&) {
    throw;
  } catch (const c10::Error& error) {
    throw CheckpointError(
        path + " cannot be read as a checkpoint: " + one_line(error.what_without_backtrace()));
  } catch (const std::exception& error) {
    throw CheckpointError(path + " cannot be read as a checkpoint: " + one_line(error.what()));
  }
}

}  // namespace

void save_checkpoint(torch::nn::Sequential& model, const std::string& architecture,
                     const std::string& path) {
  torch::serialize::OutputArchive archive;
  model->save(archive);
  archive.write(kArchitectureKey, c10::IValue(architecture));
  std::ostringstream bytes;
  try {
    archive.save_to(bytes);
  } catch (const c10::Error& error) {
    throw files::WriteError("cannot write " + path + ": " +
                            one_line(error.what_without_backtrace()));
  }
  files::write_file_atomically(path, bytes.str());
}

void load_checkpoint(torch::nn::Sequential& model, const std::string& architecture,
                     const std::string& path) {
  const std::string bytes = read_verified_checkpoint(path);
  // Load into a copy first: a bad file must not leave the model half-overwritten.
  const auto candidate = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(model->clone());
  parse_into(*candidate, architecture, path, bytes);
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
