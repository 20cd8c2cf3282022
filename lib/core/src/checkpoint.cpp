#include "checkpoint_file.hpp"

#include <fitreel/checkpoint.hpp>
#include <fitreel/files/atomic_file.hpp>

#include <torch/torch.h>

#include <sstream>
#include <utility>
#include <vector>

namespace fitreel {

namespace {

constexpr const char* kArchitectureKey = "fitreel.architecture";

std::string one_line(const char* text) {
  const std::string message(text);
  return message.substr(0, message.find('\n'));
}

std::string shape_of(const torch::Tensor& tensor) {
  std::string text = "[";
  for (int64_t i = 0; i < tensor.dim(); ++i) {
    text += (i > 0 ? ", " : "") + std::to_string(tensor.size(i));
  }
  return text + "]";
}

// A tensor of the model and the checkpoint's value for it.
using Assignment = std::pair<torch::Tensor, torch::Tensor>;

// Reads every parameter and buffer of `module` (and, recursively, of its children, each saved
// as a nested archive by Module::save) from `archive`, checking names and shapes. Nothing is
// copied yet: a file that does not fit leaves the model as it was, with no clone() needed.
void read_matching(torch::nn::Module& module, torch::serialize::InputArchive& archive,
                   const std::string& prefix, const std::string& path,
                   std::vector<Assignment>& assignments) {
  const auto read = [&](const std::string& name, const torch::Tensor& target, bool is_buffer) {
    torch::Tensor saved;
    if (!archive.try_read(name, saved, is_buffer)) {
      throw CheckpointError(path + " does not fit this model: it has no " +
                            (is_buffer ? "buffer " : "parameter ") + prefix + name);
    }
    if (saved.sizes() != target.sizes()) {
      throw CheckpointError(path + " does not fit this model: " + prefix + name + " is " +
                            shape_of(saved) + " there and " + shape_of(target) + " here");
    }
    assignments.emplace_back(target, saved);
  };
  for (const auto& parameter : module.named_parameters(/*recurse=*/false)) {
    read(parameter.key(), parameter.value(), false);
  }
  for (const auto& buffer : module.named_buffers(/*recurse=*/false)) {
    read(buffer.key(), buffer.value(), true);
  }
  for (const auto& child : module.named_children()) {
    torch::serialize::InputArchive child_archive;
    if (!archive.try_read(child.key(), child_archive)) {
      throw CheckpointError(path + " does not fit this model: it has no module " + prefix +
                            child.key());
    }
    read_matching(*child.value(), child_archive, prefix + child.key() + ".", path, assignments);
  }
}

// Parses verified bytes and reads what `model` needs from them; every parser error becomes one
// line. An empty `architecture` accepts any checkpoint whose names and shapes fit.
std::vector<Assignment> parse_for(torch::nn::Module& model, const std::string& architecture,
                                  const std::string& path, const std::string& bytes) {
  torch::serialize::InputArchive archive;
  c10::IValue saved_architecture;
  std::vector<Assignment> assignments;
  try {
    archive.load_from(bytes.data(), bytes.size(), torch::Device(torch::kCPU));
    if (!architecture.empty()) {
      if (!archive.try_read(kArchitectureKey, saved_architecture) ||
          !saved_architecture.isString()) {
        throw CheckpointError(path + " is not a fitreel checkpoint of a " + architecture +
                              " model (saved with --save-model)");
      }
      if (saved_architecture.toStringRef() != architecture) {
        throw CheckpointError(path + " holds a " + saved_architecture.toStringRef() +
                              " model, not the " + architecture + " this run trains");
      }
    }
    read_matching(model, archive, "", path, assignments);
  } catch (const CheckpointError&) {
    throw;
  } catch (const c10::Error& error) {
    throw CheckpointError(
        path + " cannot be read as a checkpoint: " + one_line(error.what_without_backtrace()));
  } catch (const std::exception& error) {
    throw CheckpointError(path + " cannot be read as a checkpoint: " + one_line(error.what()));
  }
  return assignments;
}

}  // namespace

void save_checkpoint(const ModelRef& model, const std::string& architecture,
                     const std::string& path) {
  torch::serialize::OutputArchive archive;
  model.module().save(archive);
  if (!architecture.empty()) {
    archive.write(kArchitectureKey, c10::IValue(architecture));
  }
  std::ostringstream bytes;
  try {
    archive.save_to(bytes);
  } catch (const c10::Error& error) {
    throw files::WriteError("cannot write " + path + ": " +
                            one_line(error.what_without_backtrace()));
  }
  files::write_file_atomically(path, bytes.str());
}

void save_checkpoint(const ModelRef& model, const std::string& path) {
  save_checkpoint(model, std::string(), path);
}

void load_checkpoint(const ModelRef& model, const std::string& architecture,
                     const std::string& path) {
  const std::string bytes = read_verified_checkpoint(path);
  const std::vector<Assignment> assignments = parse_for(model.module(), architecture, path, bytes);
  torch::NoGradGuard no_grad;
  for (const auto& [target, saved] : assignments) {
    target.copy_(saved);
  }
}

void load_checkpoint(const ModelRef& model, const std::string& path) {
  load_checkpoint(model, std::string(), path);
}

}  // namespace fitreel
