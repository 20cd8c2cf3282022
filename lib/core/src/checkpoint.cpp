// Checkpoints in the format of Python's torch.save: a ZIP archive whose data.pkl is a pickle of
// plain data, with each storage in its own record. Read by fitreel's own weights-only reader
// (pickle.cpp): nothing in a file is ever run, and every tensor is checked against its record.
#include "checkpoint_file.hpp"
#include "checkpoint_reader.hpp"
#include "pickle.hpp"

#include <fitreel/checkpoint.hpp>
#include <fitreel/files/atomic_file.hpp>
#include <fitreel/version.hpp>

#include <torch/torch.h>

#include <cstring>
#include <map>
#include <utility>
#include <vector>

namespace fitreel {

namespace {

using detail::PickleError;
using detail::ScalarKind;
using detail::TensorView;
using detail::Value;

constexpr int kFormat = 1;  // the "fitreel" section's format number
constexpr std::size_t kMostProblemsNamed = 4;

std::string shape_of(c10::IntArrayRef sizes) {
  std::string text = "[";
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    text += (i > 0 ? ", " : "") + std::to_string(sizes[i]);
  }
  return text + "]";
}

// The model's state as PyTorch's state_dict() names it: each module's own parameters, then its
// buffers, then its children's, with dotted names ("fc1.weight", "0.bias" in a Sequential).
struct Entry {
  std::string name;
  torch::Tensor tensor;
};
void collect_state(const torch::nn::Module& module, const std::string& prefix,
                   std::vector<Entry>& state) {
  for (const auto& parameter : module.named_parameters(/*recurse=*/false)) {
    state.push_back({prefix + parameter.key(), parameter.value()});
  }
  for (const auto& buffer : module.named_buffers(/*recurse=*/false)) {
    state.push_back({prefix + buffer.key(), buffer.value()});
  }
  for (const auto& child : module.named_children()) {
    collect_state(*child.value(), prefix + child.key() + ".", state);
  }
}
std::vector<Entry> state_of(const torch::nn::Module& module) {
  std::vector<Entry> state;
  collect_state(module, "", state);
  return state;
}

std::optional<ScalarKind> scalar_kind(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat32:
      return ScalarKind::float32;
    case torch::kFloat64:
      return ScalarKind::float64;
    case torch::kFloat16:
      return ScalarKind::float16;
    case torch::kBFloat16:
      return ScalarKind::bfloat16;
    case torch::kInt64:
      return ScalarKind::int64;
    case torch::kInt32:
      return ScalarKind::int32;
    case torch::kInt16:
      return ScalarKind::int16;
    case torch::kInt8:
      return ScalarKind::int8;
    case torch::kUInt8:
      return ScalarKind::uint8;
    case torch::kBool:
      return ScalarKind::boolean;
    default:
      return std::nullopt;
  }
}

torch::ScalarType scalar_type(ScalarKind kind) {
  switch (kind) {
    case ScalarKind::float32:
      return torch::kFloat32;
    case ScalarKind::float64:
      return torch::kFloat64;
    case ScalarKind::float16:
      return torch::kFloat16;
    case ScalarKind::bfloat16:
      return torch::kBFloat16;
    case ScalarKind::int64:
      return torch::kInt64;
    case ScalarKind::int32:
      return torch::kInt32;
    case ScalarKind::int16:
      return torch::kInt16;
    case ScalarKind::int8:
      return torch::kInt8;
    case ScalarKind::uint8:
      return torch::kUInt8;
    case ScalarKind::boolean:
      return torch::kBool;
  }
  return torch::kFloat32;
}

// Writes the pickle and the storage records of one checkpoint.
class CheckpointWriter {
 public:
  // A tensor: its data as a record of its own (contiguous, on the CPU), its view in the pickle.
  void tensor(const torch::Tensor& value, const std::string& name, const std::string& path) {
    const torch::Tensor data = value.detach().to(torch::kCPU).contiguous();
    const std::optional<ScalarKind> kind = scalar_kind(data.scalar_type());
    if (!kind) {
      throw files::WriteError("cannot write " + path + ": " + name + " is a " +
                              std::string(c10::toString(data.scalar_type())) +
                              " tensor, which a checkpoint does not hold");
    }
    TensorView view;
    view.record = std::to_string(records_.size());
    view.kind = *kind;
    view.storage_elements = data.numel();
    view.sizes = data.sizes().vec();
    view.strides = data.strides().vec();
    records_.emplace_back(static_cast<const char*>(data.data_ptr()),
                          static_cast<std::size_t>(data.numel()) * data.element_size());
    pickle.tensor(view);
  }

  detail::PickleWriter pickle;

  std::string archive() {
    detail::ZipWriter zip("archive");
    zip.add("data.pkl", pickle.finish());
    zip.add("byteorder", "little");
    for (std::size_t i = 0; i < records_.size(); ++i) {
      zip.add("data/" + std::to_string(i), records_[i]);
    }
    zip.add("version", "3\n");
    return zip.finish();
  }

 private:
  std::vector<std::string> records_;
};

// ---- reading ----

[[noreturn]] void refuse(const std::string& path, const std::string& why) {
  throw CheckpointError(path + " cannot be read as a checkpoint: " + why);
}

// The tensors of a checkpoint by name, and what else it says.
// An optimizer's state as a file holds it: per parameter index, tensors (views) and numbers.
struct LoadedOptimizer {
  std::string name;
  std::vector<std::map<std::string, TensorView>> tensors;
  std::vector<std::map<std::string, double>> numbers;  // a step kept as a Python number
  std::map<std::string, double> settings;
};

struct Loaded {
  detail::VerifiedArchive archive;  // the bytes every view was checked against
  std::vector<std::pair<std::string, TensorView>> tensors;
  std::optional<std::string> architecture;
  std::string kind;  // "fitreel", "PyTorch state_dict", "fitreel 0.2"
  std::optional<LoadedOptimizer> optimizer;
  std::optional<int64_t> epoch;
  std::optional<TensorView> rng_state;
};

// optimizer.state_dict()'s layout: {"state": {index: {name: tensor}}, "param_groups": [{...,
// "params": [indices]}]}. The optimizer is told by its settings' names (PyTorch's dict does
// not name its class).
LoadedOptimizer read_optimizer(const Value& value, const std::string& path) {
  const auto refuse_layout = [&](const std::string& why) {
    refuse(path, "its \"optimizer\" is not an optimizer.state_dict() (" + why + ")");
  };
  const Value* state = value.find("state");
  const Value* groups = value.find("param_groups");
  if (state == nullptr || !state->is(Value::Kind::dict) || groups == nullptr ||
      !groups->is(Value::Kind::list) || groups->items->size() != 1 ||
      !(*groups->items)[0].is(Value::Kind::dict)) {
    refuse_layout("fitreel reads one dict \"state\" and one parameter group");
  }
  LoadedOptimizer loaded;
  const Value& group = (*groups->items)[0];
  const Value* params = group.find("params");
  if (params == nullptr || !params->is(Value::Kind::list)) refuse_layout("no params");
  const std::size_t count = params->items->size();
  for (std::size_t i = 0; i < count; ++i) {
    const Value& index = (*params->items)[i];
    if (!index.is(Value::Kind::integer) || index.integer != static_cast<int64_t>(i)) {
      refuse_layout("params are not 0, 1, 2, ...");
    }
  }
  loaded.tensors.resize(count);
  loaded.numbers.resize(count);
  for (std::size_t i = 0; i + 1 < group.items->size(); i += 2) {
    const Value& key = (*group.items)[i];
    const Value& setting = (*group.items)[i + 1];
    if (!key.is(Value::Kind::string)) continue;
    if (setting.is(Value::Kind::real) || setting.is(Value::Kind::integer)) {
      loaded.settings[key.text] =
          setting.is(Value::Kind::real) ? setting.real : static_cast<double>(setting.integer);
    } else if (setting.is(Value::Kind::boolean)) {
      loaded.settings[key.text] = setting.boolean ? 1.0 : 0.0;
    } else if (key.text == "betas" && setting.is(Value::Kind::tuple) &&
               setting.items->size() == 2) {
      for (std::size_t b = 0; b < 2; ++b) {
        const Value& beta = (*setting.items)[b];
        loaded.settings[b == 0 ? "beta1" : "beta2"] =
            beta.is(Value::Kind::real) ? beta.real : static_cast<double>(beta.integer);
      }
    }
  }
  loaded.name = loaded.settings.count("beta1") != 0      ? "adam"
                : loaded.settings.count("momentum") != 0 ? "sgd"
                : loaded.settings.count("lr_decay") != 0 ? "adagrad"
                                                         : "";
  if (loaded.name.empty()) {
    refuse_layout("its settings are none of Adagrad's, SGD's or Adam's");
  }
  for (std::size_t i = 0; i + 1 < state->items->size(); i += 2) {
    const Value& key = (*state->items)[i];
    const Value& entry = (*state->items)[i + 1];
    if (!key.is(Value::Kind::integer) || key.integer < 0 ||
        key.integer >= static_cast<int64_t>(count) || !entry.is(Value::Kind::dict)) {
      refuse_layout("a state that is not for one of its parameters");
    }
    const auto index = static_cast<std::size_t>(key.integer);
    for (std::size_t j = 0; j + 1 < entry.items->size(); j += 2) {
      const Value& name = (*entry.items)[j];
      const Value& item = (*entry.items)[j + 1];
      if (!name.is(Value::Kind::string)) continue;
      if (item.is(Value::Kind::tensor)) {
        loaded.tensors[index][name.text] = *item.tensor;
      } else if (item.is(Value::Kind::real) || item.is(Value::Kind::integer)) {
        loaded.numbers[index][name.text] =
            item.is(Value::Kind::real) ? item.real : static_cast<double>(item.integer);
      }  // None (SGD without momentum): no buffer
    }
  }
  return loaded;
}

// The optional training state beside the weights: "optimizer", "epoch", "rng_state".
void read_training_state(const Value& root, Loaded& loaded, const std::string& path) {
  if (const Value* optimizer = root.find("optimizer");
      optimizer != nullptr && !optimizer->is(Value::Kind::none)) {
    loaded.optimizer = read_optimizer(*optimizer, path);
  }
  if (const Value* epoch = root.find("epoch");
      epoch != nullptr && epoch->is(Value::Kind::integer)) {
    if (epoch->integer < 0) refuse(path, "its \"epoch\" is negative");
    loaded.epoch = epoch->integer;
  }
  if (const Value* rng = root.find("rng_state"); rng != nullptr && rng->is(Value::Kind::tensor)) {
    loaded.rng_state = *rng->tensor;
  }
}

// A state_dict: names to tensors (non-tensor values, such as a TorchScript module's `training`
// flag, are not weights and are skipped).
void read_state(const Value& dict, const std::string& prefix, Loaded& loaded, int depth,
                const std::string& path) {
  if (depth > 32) refuse(path, "modules nest deeper than 32");
  for (std::size_t i = 0; i + 1 < dict.items->size(); i += 2) {
    const Value& key = (*dict.items)[i];
    const Value& value = (*dict.items)[i + 1];
    if (!key.is(Value::Kind::string)) continue;
    if (value.is(Value::Kind::tensor)) {
      loaded.tensors.emplace_back(prefix + key.text, *value.tensor);
    } else if (value.is(Value::Kind::object)) {  // a fitreel 0.2 submodule
      read_state(value, prefix + key.text + ".", loaded, depth + 1, path);
    }
  }
}

Loaded read_checkpoint(const std::string& path) {
  Loaded loaded;
  loaded.archive = detail::VerifiedArchive::read(path);
  const detail::VerifiedArchive& archive = loaded.archive;
  const std::string* pickle = archive.entry("data.pkl");
  if (pickle == nullptr) {
    refuse(path, "it has no data.pkl (not a file of torch.save or fitreel)");
  }
  if (const std::string* order = archive.entry("byteorder");
      order != nullptr && *order != "little") {
    refuse(path, "its tensors are stored big-endian");
  }
  Value root;
  try {
    root = detail::unpickle(*pickle, [&](const std::string& key) -> std::optional<std::uint64_t> {
      const std::string* record = archive.entry("data/" + key);
      if (record == nullptr) return std::nullopt;
      return record->size();
    });
  } catch (const PickleError& error) {
    refuse(path, error.what());
  }
  if (root.is(Value::Kind::object)) {
    // fitreel 0.2 wrote a TorchScript archive of the module: read its attributes as data.
    loaded.kind = "fitreel 0.2";
    if (const Value* architecture = root.find("fitreel.architecture");
        architecture != nullptr && architecture->is(Value::Kind::string)) {
      loaded.architecture = architecture->text;
    }
    read_state(root, "", loaded, 0, path);
    return loaded;
  }
  if (!root.is(Value::Kind::dict)) {
    refuse(path, "it holds " + std::string(root.kind_name()) + ", not a dict of weights");
  }
  const Value* model = root.find("model");
  if (model != nullptr) {
    if (!model->is(Value::Kind::dict)) {
      refuse(path, "its \"model\" is " + std::string(model->kind_name()) + ", not a state_dict");
    }
    loaded.kind = "fitreel";
    if (const Value* info = root.find("fitreel"); info != nullptr) {
      if (const Value* architecture = info->find("architecture");
          architecture != nullptr && architecture->is(Value::Kind::string)) {
        loaded.architecture = architecture->text;
      }
    } else {
      loaded.kind = "PyTorch checkpoint";
    }
    read_state(*model, "", loaded, 0, path);
    read_training_state(root, loaded, path);
    return loaded;
  }
  loaded.kind = "PyTorch state_dict";
  read_state(root, "", loaded, 0, path);
  return loaded;
}

// The storage bytes of `view` as a tensor of its own (a copy), after the reader's checks.
torch::Tensor tensor_of(const TensorView& view, const detail::VerifiedArchive& archive) {
  const std::string& record = *archive.entry("data/" + view.record);
  const torch::ScalarType type = scalar_type(view.kind);
  if (view.elements() == 0) {
    return torch::empty(view.sizes, torch::TensorOptions().dtype(type));
  }
  // from_blob over the record's bytes, read only; clone() owns the copy. Booleans are read as
  // bytes first: a byte other than 0 or 1 is no valid bool.
  auto* data = const_cast<char*>(record.data()) +
               view.offset * static_cast<std::int64_t>(detail::element_size(view.kind));
  const bool boolean = view.kind == ScalarKind::boolean;
  const torch::Tensor stored = torch::from_blob(
      data, view.sizes, view.strides, torch::TensorOptions().dtype(boolean ? torch::kUInt8 : type));
  return boolean ? stored.ne(0) : stored.clone();
}

// optimizer.state_dict() as PyTorch lays it out: the per-parameter state under integer keys,
// and one parameter group with the settings torch.optim's optimizers read in step() (the rest
// their __setstate__ fills in) and the parameters' indices.
void write_optimizer(CheckpointWriter& writer, const OptimizerState& state,
                     const std::string& path) {
  detail::PickleWriter& pickle = writer.pickle;
  pickle.begin_dict();
  pickle.string("state");
  pickle.begin_dict();
  for (std::size_t i = 0; i < state.parameters.size(); ++i) {
    if (state.parameters[i].empty()) continue;
    pickle.integer(static_cast<int64_t>(i));
    pickle.begin_dict();
    for (const auto& [name, tensor] : state.parameters[i]) {
      pickle.string(name);
      writer.tensor(tensor, "optimizer state " + name, path);
    }
    pickle.end_dict();
  }
  pickle.end_dict();
  pickle.string("param_groups");
  pickle.begin_list();
  pickle.begin_dict();
  const auto flag = [&](const char* name) {
    const auto found = state.settings.find(name);
    pickle.string(name);
    pickle.boolean(found != state.settings.end() && found->second != 0.0);
  };
  for (const auto& [name, value] : state.settings) {
    if (name == "beta1" || name == "beta2" || name == "nesterov" || name == "amsgrad") continue;
    pickle.string(name);
    pickle.real(value);
  }
  if (state.name == "adam") {
    pickle.string("betas");
    pickle.begin_tuple();
    pickle.real(state.settings.at("beta1"));
    pickle.real(state.settings.at("beta2"));
    pickle.end_tuple();
    flag("amsgrad");
    pickle.string("capturable");
    pickle.boolean(false);
  }
  if (state.name == "sgd") flag("nesterov");
  pickle.string("maximize");
  pickle.boolean(false);
  pickle.string("foreach");
  pickle.none();
  pickle.string("differentiable");
  pickle.boolean(false);
  pickle.string("fused");
  pickle.none();
  pickle.string("params");
  pickle.begin_list();
  for (std::size_t i = 0; i < state.parameters.size(); ++i) pickle.integer(static_cast<int64_t>(i));
  pickle.end_list();
  pickle.end_dict();
  pickle.end_list();
  pickle.end_dict();
}

std::string checkpoint_bytes(const ModelRef& model, const std::string& architecture,
                             const std::string& path, const TrainingState* state = nullptr) {
  CheckpointWriter writer;
  detail::PickleWriter& pickle = writer.pickle;
  pickle.begin_dict();
  pickle.string("model");
  pickle.begin_dict();
  for (const Entry& entry : state_of(model.module())) {
    pickle.string(entry.name);
    writer.tensor(entry.tensor, entry.name, path);
  }
  pickle.end_dict();
  pickle.string("optimizer");
  if (state != nullptr && !state->optimizer.empty()) {
    write_optimizer(writer, state->optimizer, path);
  } else {
    pickle.none();
  }
  pickle.string("epoch");
  if (state != nullptr) {
    pickle.integer(state->epochs_done);
  } else {
    pickle.none();
  }
  if (state != nullptr && state->generator_state.defined()) {
    pickle.string("rng_state");  // what torch.get_rng_state() gives and set_rng_state() takes
    writer.tensor(state->generator_state, "rng_state", path);
  }
  pickle.string("fitreel");
  pickle.begin_dict();
  pickle.string("version");
  pickle.string(kVersion);
  pickle.string("format");
  pickle.integer(kFormat);
  pickle.string("architecture");
  pickle.string(architecture);
  if (state != nullptr && !state->optimizer.empty()) {
    pickle.string("optimizer");
    pickle.string(state->optimizer.name);
  }
  pickle.end_dict();
  pickle.end_dict();
  return writer.archive();
}

}  // namespace

void save_checkpoint(const ModelRef& model, const std::string& architecture,
                     const std::string& path) {
  files::write_file_atomically(path, checkpoint_bytes(model, architecture, path));
}

void save_checkpoint(const ModelRef& model, const std::string& architecture,
                     const files::Folder& folder, const std::string& name) {
  files::write_file_atomically(
      folder, name, checkpoint_bytes(model, architecture, folder.path_of(name).string()));
}

void save_checkpoint(const ModelRef& model, const std::string& path) {
  save_checkpoint(model, std::string(), path);
}

void save_checkpoint(const ModelRef& model, const TrainingState& state, const std::string& path,
                     const std::string& architecture) {
  files::write_file_atomically(path, checkpoint_bytes(model, architecture, path, &state));
}

TrainingState load_checkpoint(const ModelRef& model, const std::string& architecture,
                              const std::string& path) {
  const Loaded loaded = read_checkpoint(path);
  if (!architecture.empty()) {
    if (loaded.architecture && *loaded.architecture != architecture &&
        !loaded.architecture->empty()) {
      throw CheckpointError(path + " holds a " + *loaded.architecture + " model, not the " +
                            architecture + " this run trains");
    }
  }
  // Every name and shape checked before anything is copied: a file that does not fit leaves the
  // model as it was. All the mismatches are named in one line.
  std::map<std::string, const TensorView*> saved;
  for (const auto& [name, view] : loaded.tensors) saved[name] = &view;
  std::vector<std::string> problems;
  std::vector<std::pair<torch::Tensor, const TensorView*>> assignments;
  for (const Entry& entry : state_of(model.module())) {
    const auto found = saved.find(entry.name);
    if (found == saved.end()) {
      problems.push_back("it has no " + entry.name);
      continue;
    }
    if (c10::IntArrayRef(found->second->sizes) != entry.tensor.sizes()) {
      problems.push_back(entry.name + " is " + shape_of(found->second->sizes) + " there and " +
                         shape_of(entry.tensor.sizes()) + " here");
    }
    assignments.emplace_back(entry.tensor, found->second);
    saved.erase(found);
  }
  for (const auto& [name, view] : saved) {
    problems.push_back("this model has no " + name);
  }
  if (!problems.empty()) {
    std::string line = path + " does not fit this model: ";
    for (std::size_t i = 0; i < problems.size() && i < kMostProblemsNamed; ++i) {
      line += (i > 0 ? "; " : "") + problems[i];
    }
    if (problems.size() > kMostProblemsNamed) {
      line += "; and " + std::to_string(problems.size() - kMostProblemsNamed) + " more";
    }
    throw CheckpointError(line);
  }
  // The training state, read whole before the weights are copied (a bad one changes nothing).
  TrainingState state;
  if (loaded.optimizer) {
    const LoadedOptimizer& saved_optimizer = *loaded.optimizer;
    if (saved_optimizer.tensors.size() != assignments.size()) {
      throw CheckpointError(
          path + " holds an optimizer state for " + std::to_string(saved_optimizer.tensors.size()) +
          " parameters, but this model has " + std::to_string(assignments.size()));
    }
    state.optimizer.name = saved_optimizer.name;
    state.optimizer.settings = saved_optimizer.settings;
    for (std::size_t i = 0; i < saved_optimizer.tensors.size(); ++i) {
      std::map<std::string, torch::Tensor> tensors;
      for (const auto& [name, view] : saved_optimizer.tensors[i]) {
        tensors[name] = tensor_of(view, loaded.archive).to(torch::kFloat32);
      }
      for (const auto& [name, number] : saved_optimizer.numbers[i]) {
        tensors[name] = torch::tensor(static_cast<float>(number));
      }
      state.optimizer.parameters.push_back(std::move(tensors));
    }
  }
  state.epochs_done = loaded.epoch.value_or(0);
  if (loaded.rng_state) {
    state.generator_state = tensor_of(*loaded.rng_state, loaded.archive);
  }
  std::vector<torch::Tensor> values;
  for (const auto& [target, view] : assignments) {
    values.push_back(tensor_of(*view, loaded.archive));
  }
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < assignments.size(); ++i) {
    assignments[i].first.copy_(values[i]);
  }
  return state;
}

TrainingState load_checkpoint(const ModelRef& model, const std::string& path) {
  return load_checkpoint(model, std::string(), path);
}

void verify_checkpoint(const std::string& path) { read_checkpoint(path); }

namespace detail {

CheckpointTensors read_checkpoint_tensors(const std::string& path) {
  const Loaded loaded = read_checkpoint(path);
  CheckpointTensors read;
  read.kind = loaded.kind;
  read.architecture = loaded.architecture;
  for (const auto& [name, view] : loaded.tensors) {
    read.tensors.emplace_back(name, tensor_of(view, loaded.archive));
  }
  return read;
}

}  // namespace detail

}  // namespace fitreel
