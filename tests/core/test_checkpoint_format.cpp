// The checkpoint format (the zip + pickle of Python's torch.save) and its weights-only reader:
// what fitreel writes, what it loads (its own files, PyTorch state_dicts, fitreel 0.2's
// TorchScript archives), and hand-made hostile files, each refused in one line naming the file.
#include "checkpoint_file.hpp"
#include "checkpoint_reader.hpp"
#include "pickle.hpp"

#include <fitreel/checkpoint.hpp>
#include <fitreel/model.hpp>
#include <fitreel/version.hpp>

#include <fcntl.h>
#include "scratch_folder.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace fitreel {
namespace {

namespace fs = std::filesystem;
using detail::TensorView;
using detail::Value;
using testing_support::read_bytes;
using testing_support::ScratchFolder;
using testing_support::write_bytes;

// Little-endian float32 bytes, as a storage record holds them (this host is little-endian).
std::string floats(const std::vector<float>& values) {
  std::string bytes(values.size() * sizeof(float), '\0');
  if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

std::string bytes_of(const torch::Tensor& tensor) {
  const torch::Tensor data = tensor.detach().contiguous();
  return std::string(static_cast<const char*>(data.data_ptr()), data.numel() * data.element_size());
}

// Names and values of a model's state, in state_dict order.
std::vector<std::pair<std::string, torch::Tensor>> state_of(const torch::nn::Module& model) {
  std::vector<std::pair<std::string, torch::Tensor>> state;
  for (const auto& item : model.named_parameters()) state.emplace_back(item.key(), item.value());
  return state;
}

// Bit for bit: torch::equal calls NaN unequal to itself and -0.0 equal to 0.0.
bool same_bits(const torch::nn::Sequential& a, const torch::nn::Sequential& b) {
  const auto left = state_of(*a);
  const auto right = state_of(*b);
  if (left.size() != right.size()) return false;
  for (std::size_t i = 0; i < left.size(); ++i) {
    if (left[i].first != right[i].first ||
        !left[i].second.sizes().equals(right[i].second.sizes()) ||
        bytes_of(left[i].second) != bytes_of(right[i].second)) {
      return false;
    }
  }
  return true;
}

// Raw pickle bytes, opcode by opcode (the names of Python's Lib/pickle.py), for files that no
// writer of fitreel makes.
class Pickle {
 public:
  explicit Pickle(int protocol = 2) { op(0x80).byte(protocol); }
  Pickle& op(unsigned char code) { return byte(code); }
  Pickle& raw(std::string_view bytes) {
    out_.append(bytes);
    return *this;
  }
  Pickle& byte(int value) {
    out_ += static_cast<char>(value);
    return *this;
  }
  Pickle& u32(std::uint32_t value) {
    for (int i = 0; i < 4; ++i) byte(static_cast<int>(value >> (8 * i) & 0xff));
    return *this;
  }
  Pickle& u64(std::uint64_t value) {
    for (int i = 0; i < 8; ++i) byte(static_cast<int>(value >> (8 * i) & 0xff));
    return *this;
  }
  Pickle& str(std::string_view text) { return op('X').u32(text.size()).raw(text); }
  Pickle& integer(std::int64_t value) {
    if (value >= 0 && value < 256) return op('K').byte(static_cast<int>(value));
    if (value >= INT32_MIN && value <= INT32_MAX) {
      return op('J').u32(static_cast<std::uint32_t>(value));
    }
    return op(0x8a).byte(8).u64(static_cast<std::uint64_t>(value));  // LONG1
  }
  Pickle& global(std::string_view module, std::string_view name) {
    return op('c').raw(module).raw("\n").raw(name).raw("\n");
  }
  Pickle& put(int key) { return op('q').byte(key); }
  // BINPUT to the next free memo entry, as Python's pickler memoizes each object.
  Pickle& memoize() { return put(next_memo_++); }
  int next_memo() const { return next_memo_; }
  Pickle& get(int key) { return op('h').byte(key); }
  Pickle& int_tuple(const std::vector<std::int64_t>& values) {
    op('(');
    for (std::int64_t value : values) integer(value);
    return op('t');
  }
  // _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()) of storage
  // ('storage', torch.<type>, record, 'cpu', elements), as torch.save writes a tensor.
  Pickle& tensor(const std::string& record, std::int64_t elements, std::int64_t offset,
                 const std::vector<std::int64_t>& sizes, const std::vector<std::int64_t>& strides,
                 std::string_view type = "FloatStorage") {
    global("torch._utils", "_rebuild_tensor_v2").op('(');
    op('(').str("storage").global("torch", type).str(record).str("cpu").integer(elements);
    op('t').op('Q');
    integer(offset).int_tuple(sizes).int_tuple(strides).op(0x89);
    global("collections", "OrderedDict").op(')').op('R');
    return op('t').op('R');
  }
  // The pickle, ended with STOP.
  std::string stop() const { return out_ + '.'; }
  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
  int next_memo_ = 0;
};

// A bare state_dict {name: tensor} as a plain dict: the smallest file the loader accepts.
std::string dict_of_tensor(const std::string& record, std::int64_t elements, std::int64_t offset,
                           const std::vector<std::int64_t>& sizes,
                           const std::vector<std::int64_t>& strides) {
  return Pickle()
      .op('}')
      .str("0.weight")
      .tensor(record, elements, offset, sizes, strides)
      .op('s')
      .stop();
}

// An archive as fitreel writes one (ZipWriter: stored, aligned), with any data.pkl.
void write_archive(const fs::path& path, const std::string& pickle,
                   const std::map<std::string, std::string>& records) {
  detail::ZipWriter zip("archive");
  zip.add("data.pkl", pickle);
  zip.add("byteorder", "little");
  for (const auto& [key, bytes] : records) zip.add("data/" + key, bytes);
  zip.add("version", "3\n");
  write_bytes(path, zip.finish());
}

// The refusal of `path`, or "" when it reads.
std::string refusal(const fs::path& path) {
  try {
    detail::read_checkpoint_tensors(path.string());
  } catch (const CheckpointError& error) {
    return error.what();
  }
  return "";
}

// Zip entries as the central directory lists them, with where each one's data lies.
struct ZipEntry {
  std::string name;
  int method = -1;
  std::size_t size = 0, compressed = 0, data = 0;
};
std::vector<ZipEntry> zip_entries(const std::string& zip) {
  const auto u16 = [&](std::size_t at) {
    return static_cast<std::size_t>(static_cast<unsigned char>(zip.at(at)) |
                                    static_cast<unsigned char>(zip.at(at + 1)) << 8);
  };
  const auto u32 = [&](std::size_t at) { return u16(at) | u16(at + 2) << 16; };
  std::vector<ZipEntry> entries;
  std::size_t at = u32(zip.rfind("PK\x05\x06") + 16);
  while (zip.compare(at, 4, "PK\x01\x02") == 0) {
    ZipEntry entry;
    entry.method = static_cast<int>(u16(at + 10));
    entry.compressed = u32(at + 20);
    entry.size = u32(at + 24);
    entry.name = zip.substr(at + 46, u16(at + 28));
    const std::size_t local = u32(at + 42);
    EXPECT_EQ(zip.compare(local, 4, "PK\x03\x04"), 0) << entry.name;
    EXPECT_EQ(zip.substr(local + 30, u16(local + 26)), entry.name);
    entry.data = local + 30 + u16(local + 26) + u16(local + 28);
    entries.push_back(entry);
    at += 46 + u16(at + 28) + u16(at + 30) + u16(at + 32);
  }
  return entries;
}

// Keys of a dict Value, in order.
std::vector<std::string> keys_of(const Value& dict) {
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < dict.items->size(); i += 2) keys.push_back((*dict.items)[i].text);
  return keys;
}

const NetSpec kFormatSpec{{16, 16}, Activation::tanh};
const NetSpec kSmall{{2}, Activation::sigmoid};

torch::nn::Sequential seeded_net(const NetSpec& spec, std::uint64_t seed) {
  torch::manual_seed(seed);
  return make_net(spec);
}

// ---- what fitreel writes ----

class CheckpointFormat : public ::testing::Test {
 protected:
  void SetUp() override {
    // Values a float-by-float copy could lose: -0.0, a denormal, a NaN with a payload, inf.
    torch::NoGradGuard no_grad;
    float* first = saved_->parameters()[0].data_ptr<float>();
    const std::uint32_t nan_bits = 0x7fc01234;
    first[0] = -0.0f;
    first[1] = std::numeric_limits<float>::denorm_min();
    std::memcpy(&first[2], &nan_bits, sizeof nan_bits);
    first[3] = -std::numeric_limits<float>::infinity();
    save_checkpoint(saved_, describe(kFormatSpec), path_.string());
    bytes_ = read_bytes(path_);
  }
  ScratchFolder dir_;
  fs::path path_ = dir_ / "model.pt";
  torch::nn::Sequential saved_ = seeded_net(kFormatSpec, 1);
  std::string bytes_;
};

TEST_F(CheckpointFormat, RoundTripKeepsEveryParameterBitForBit) {
  torch::nn::Sequential loaded = seeded_net(kFormatSpec, 2);
  ASSERT_FALSE(same_bits(loaded, saved_));
  load_checkpoint(loaded, describe(kFormatSpec), path_.string());
  EXPECT_TRUE(same_bits(loaded, saved_));
  const float* first = loaded->parameters()[0].data_ptr<float>();
  EXPECT_TRUE(std::signbit(first[0]));
  EXPECT_TRUE(std::isnan(first[2]));
}

TEST_F(CheckpointFormat, EntriesAreStoredAlignedTo64BytesInsideArchive) {
  const std::vector<ZipEntry> entries = zip_entries(bytes_);
  const auto state = state_of(*saved_);
  std::set<std::string> names,
      expected = {"archive/data.pkl", "archive/byteorder", "archive/version"};
  for (std::size_t i = 0; i < state.size(); ++i)
    expected.insert("archive/data/" + std::to_string(i));
  for (const ZipEntry& entry : entries) {
    SCOPED_TRACE(entry.name);
    names.insert(entry.name);
    EXPECT_EQ(entry.method, 0) << "stored, not compressed";
    EXPECT_EQ(entry.compressed, entry.size);
    EXPECT_EQ(entry.data % 64, 0U) << "data at " << entry.data;
    EXPECT_LE(entry.data + entry.size, bytes_.size());
  }
  EXPECT_EQ(names, expected);
  EXPECT_EQ(entries.front().name, "archive/data.pkl");

  const detail::VerifiedArchive archive = detail::VerifiedArchive::read(path_.string());
  EXPECT_EQ(archive.folder(), "archive/");
  ASSERT_NE(archive.entry("version"), nullptr);
  EXPECT_EQ(*archive.entry("version"), "3\n");
  ASSERT_NE(archive.entry("byteorder"), nullptr);
  EXPECT_EQ(*archive.entry("byteorder"), "little");
}

TEST_F(CheckpointFormat, DataPklHoldsTheDocumentedDict) {
  const detail::VerifiedArchive archive = detail::VerifiedArchive::read(path_.string());
  ASSERT_NE(archive.entry("data.pkl"), nullptr);
  const Value root = detail::unpickle(*archive.entry("data.pkl"),
                                      [&](const std::string& key) -> std::optional<std::uint64_t> {
                                        const std::string* record = archive.entry("data/" + key);
                                        if (record == nullptr) return std::nullopt;
                                        return record->size();
                                      });
  ASSERT_TRUE(root.is(Value::Kind::dict)) << root.kind_name();
  EXPECT_EQ(keys_of(root), (std::vector<std::string>{"model", "optimizer", "epoch", "fitreel"}));
  ASSERT_NE(root.find("optimizer"), nullptr);
  EXPECT_TRUE(root.find("optimizer")->is(Value::Kind::none));
  EXPECT_TRUE(root.find("epoch")->is(Value::Kind::none));

  const Value* info = root.find("fitreel");
  ASSERT_NE(info, nullptr);
  ASSERT_TRUE(info->is(Value::Kind::dict));
  EXPECT_EQ(keys_of(*info), (std::vector<std::string>{"version", "format", "architecture"}));
  EXPECT_EQ(info->find("version")->text, kVersion);
  EXPECT_TRUE(info->find("format")->is(Value::Kind::integer));
  EXPECT_EQ(info->find("format")->integer, 1);
  EXPECT_EQ(info->find("architecture")->text, describe(kFormatSpec));

  const Value* model = root.find("model");
  ASSERT_NE(model, nullptr);
  ASSERT_TRUE(model->is(Value::Kind::dict));
  const auto state = state_of(*saved_);
  std::vector<std::string> names;
  for (const auto& [name, tensor] : state) names.push_back(name);
  EXPECT_EQ(keys_of(*model), names);
  std::set<std::string> records;
  for (const auto& [name, tensor] : state) {
    SCOPED_TRACE(name);
    const Value* value = model->find(name);
    ASSERT_NE(value, nullptr);
    ASSERT_TRUE(value->is(Value::Kind::tensor)) << value->kind_name();
    const TensorView& view = *value->tensor;
    EXPECT_EQ(view.kind, detail::ScalarKind::float32);
    EXPECT_EQ(view.storage_elements, tensor.numel());
    EXPECT_EQ(view.offset, 0);
    EXPECT_EQ(view.sizes, tensor.sizes().vec());
    EXPECT_EQ(view.strides, tensor.contiguous().strides().vec());
    // One record per tensor, holding exactly its bytes.
    EXPECT_TRUE(records.insert(view.record).second) << "record " << view.record << " shared";
    ASSERT_NE(archive.entry("data/" + view.record), nullptr);
    EXPECT_EQ(*archive.entry("data/" + view.record), bytes_of(tensor));
  }

  const detail::CheckpointTensors read = detail::read_checkpoint_tensors(path_.string());
  EXPECT_EQ(read.kind, "fitreel");
  EXPECT_EQ(read.architecture, describe(kFormatSpec));
  ASSERT_EQ(read.tensors.size(), state.size());
  for (std::size_t i = 0; i < state.size(); ++i) {
    EXPECT_EQ(read.tensors[i].first, state[i].first);
    EXPECT_EQ(bytes_of(read.tensors[i].second), bytes_of(state[i].second)) << state[i].first;
  }
}

// ---- fitreel 0.2's files: TorchScript archives of torch::serialize::OutputArchive ----

void save_version_02(const torch::nn::Sequential& model, const std::string& architecture,
                     const fs::path& path) {
  torch::serialize::OutputArchive archive;
  model->save(archive);
  archive.write("fitreel.architecture", c10::IValue(architecture));
  archive.save_to(path.string());
}

TEST_F(CheckpointFormat, Version02ArchiveLoadsAsDataWithItsTag) {
  const fs::path path = dir_ / "old.pt";
  const torch::nn::Sequential old = seeded_net(kSmall, 5);
  save_version_02(old, describe(kSmall), path);

  const detail::CheckpointTensors read = detail::read_checkpoint_tensors(path.string());
  EXPECT_EQ(read.kind, "fitreel 0.2");
  EXPECT_EQ(read.architecture, describe(kSmall));
  std::map<std::string, torch::Tensor> by_name(read.tensors.begin(), read.tensors.end());
  EXPECT_EQ(by_name.size(), read.tensors.size()) << "a name read twice";
  for (const auto& [name, tensor] : state_of(*old)) {
    ASSERT_EQ(by_name.count(name), 1U) << name;
    EXPECT_EQ(bytes_of(by_name[name]), bytes_of(tensor)) << name;
  }
  EXPECT_EQ(by_name.size(), state_of(*old).size());

  torch::nn::Sequential fresh = seeded_net(kSmall, 6);
  ASSERT_FALSE(same_bits(fresh, old));
  load_checkpoint(fresh, describe(kSmall), path.string());
  EXPECT_TRUE(same_bits(fresh, old));
}

TEST_F(CheckpointFormat, Version02ArchiveOfAnotherArchitectureIsRefusedByItsTag) {
  const fs::path path = dir_ / "old.pt";
  save_version_02(seeded_net(kSmall, 5), describe(kSmall), path);
  const NetSpec other{{3}, Activation::sigmoid};
  torch::nn::Sequential fresh = seeded_net(other, 6);
  const torch::nn::Sequential before = seeded_net(other, 6);
  try {
    load_checkpoint(fresh, describe(other), path.string());
    FAIL() << "loaded a " << describe(kSmall) << " file as " << describe(other);
  } catch (const CheckpointError& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_NE(message.find(path.string() + " holds a " + describe(kSmall) + " model, not the " +
                           describe(other)),
              std::string::npos)
        << message;
  }
  EXPECT_TRUE(same_bits(fresh, before));
}

// ---- PyTorch's torch.save(model.state_dict(), f) ----

struct Saved {
  std::string name;
  std::string record;
  std::int64_t elements, offset;
  std::vector<std::int64_t> sizes, strides;
};

// The pickle Python's torch.save (protocol 2) writes for a state_dict: an OrderedDict made by
// GLOBAL + REDUCE, every object memoized (BINPUT) and reused (BINGET), sizes as TUPLEn, items
// by SETITEMS, then BUILD with the instance's attributes {'_metadata': OrderedDict(...)}.
std::string python_state_dict(const std::vector<Saved>& tensors) {
  Pickle out;
  std::map<std::string, int> memoized;
  const auto once = [&](const std::string& key, const std::function<void()>& write) {
    if (const auto found = memoized.find(key); found != memoized.end()) {
      out.get(found->second);
      return;
    }
    memoized[key] = out.next_memo();
    write();
    out.memoize();
  };
  const auto tuple = [&](const std::vector<std::int64_t>& values) {
    if (values.empty()) {
      out.op(')');
      return;
    }
    if (values.size() > 3) out.op('(');
    for (std::int64_t value : values) out.integer(value);
    out.op(values.size() > 3 ? 't' : static_cast<unsigned char>(0x84 + values.size()));
    out.memoize();
  };
  once("OrderedDict", [&] { out.global("collections", "OrderedDict"); });
  out.op(')').op('R').memoize();
  out.op('(');
  for (const Saved& tensor : tensors) {
    out.str(tensor.name).memoize();
    once("rebuild", [&] { out.global("torch._utils", "_rebuild_tensor_v2"); });
    out.op('(').op('(');
    once("'storage'", [&] { out.str("storage"); });
    once("FloatStorage", [&] { out.global("torch", "FloatStorage"); });
    once("'" + tensor.record + "'", [&] { out.str(tensor.record); });
    once("'cpu'", [&] { out.str("cpu"); });
    out.integer(tensor.elements).op('t').memoize().op('Q');
    out.integer(tensor.offset);
    tuple(tensor.sizes);
    tuple(tensor.strides);
    out.op(0x89);
    once("OrderedDict", [] {});
    out.op(')').op('R').memoize();
    out.op('t').memoize().op('R').memoize();
  }
  out.op('u');
  // The instance's attributes: {'_metadata': OrderedDict({'': {'version': 1}, ...})}.
  out.op('}').memoize().str("_metadata").memoize();
  once("OrderedDict", [] {});
  out.op(')').op('R').memoize().op('(');
  for (const std::string prefix : {"", "0", "1", "2"}) {
    out.str(prefix).memoize().op('}').memoize();
    once("'version'", [&] { out.str("version"); });
    out.integer(1).op('s');
  }
  out.op('u').op('s').op('b');
  return out.stop();
}

TEST_F(CheckpointFormat, PythonStateDictLoadsIntoAMatchingModel) {
  const fs::path path = dir_ / "state_dict.pt";
  // 2.weight is a view at offset 2 of a longer storage, as a slice of a bigger tensor saves.
  const std::vector<float> w0 = {0.5f, -1.25f}, b0 = {0.75f, 2.0f}, w2 = {9, 9, -3.0f, 0.125f},
                           b2 = {4.0f};
  write_archive(path,
                python_state_dict({{"0.weight", "0", 2, 0, {2, 1}, {1, 1}},
                                   {"0.bias", "1", 2, 0, {2}, {1}},
                                   {"2.weight", "2", 4, 2, {1, 2}, {2, 1}},
                                   {"2.bias", "3", 1, 0, {1}, {1}}}),
                {{"0", floats(w0)}, {"1", floats(b0)}, {"2", floats(w2)}, {"3", floats(b2)}});

  const detail::CheckpointTensors read = detail::read_checkpoint_tensors(path.string());
  EXPECT_EQ(read.kind, "PyTorch state_dict");
  EXPECT_FALSE(read.architecture.has_value());

  torch::nn::Sequential model = seeded_net(kSmall, 3);
  load_checkpoint(model, describe(kSmall), path.string());  // no tag: any architecture
  const auto state = state_of(*model);
  ASSERT_EQ(state.size(), 4U);
  EXPECT_EQ(bytes_of(state[0].second), floats(w0));
  EXPECT_EQ(bytes_of(state[1].second), floats(b0));
  EXPECT_EQ(bytes_of(state[2].second), floats({-3.0f, 0.125f}));
  EXPECT_EQ(bytes_of(state[3].second), floats(b2));
}

TEST_F(CheckpointFormat, AStateDictThatDoesNotFitIsOneLineNamingEveryMismatch) {
  const fs::path path = dir_ / "state_dict.pt";
  // 0.weight is [3, 1] (the model's is [2, 1]), 2.bias is missing, 3.weight is extra.
  write_archive(
      path,
      python_state_dict({{"0.weight", "0", 3, 0, {3, 1}, {1, 1}},
                         {"0.bias", "1", 2, 0, {2}, {1}},
                         {"2.weight", "2", 2, 0, {1, 2}, {2, 1}},
                         {"3.weight", "3", 1, 0, {1}, {1}}}),
      {{"0", floats({1, 2, 3})}, {"1", floats({4, 5})}, {"2", floats({6, 7})}, {"3", floats({8})}});
  torch::nn::Sequential model = seeded_net(kSmall, 3);
  const torch::nn::Sequential before = seeded_net(kSmall, 3);
  try {
    load_checkpoint(model, path.string());
    FAIL() << "loaded a state_dict that does not fit";
  } catch (const CheckpointError& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_EQ(message.rfind(path.string() + " does not fit this model: ", 0), 0U) << message;
    for (const char* problem : {"0.weight is [3, 1] there and [2, 1] here", "it has no 2.bias",
                                "this model has no 3.weight"}) {
      EXPECT_NE(message.find(problem), std::string::npos) << problem << " in: " << message;
    }
    EXPECT_EQ(message.find("0.bias"), std::string::npos) << "0.bias fits: " << message;
  }
  EXPECT_TRUE(same_bits(model, before)) << "a refused file changed the model";
}

// ---- hostile files: each refused in one line naming the file, nothing run, nothing read
// from outside a record ----

struct Hostile {
  std::string name;
  std::string pickle;
  std::map<std::string, std::string> records;
  std::string reason;  // part of the message
};

void expect_refused(const fs::path& path, const Hostile& hostile) {
  SCOPED_TRACE(hostile.name);
  write_archive(path, hostile.pickle, hostile.records);
  const std::string message = refusal(path);
  ASSERT_FALSE(message.empty()) << "read as a checkpoint";
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  EXPECT_NE(message.find(hostile.reason), std::string::npos) << message;
  // load_checkpoint refuses it the same way and leaves the model as it was.
  torch::nn::Sequential model = seeded_net(kSmall, 3);
  EXPECT_THROW(load_checkpoint(model, path.string()), CheckpointError);
  EXPECT_TRUE(same_bits(model, seeded_net(kSmall, 3)));
}

class CheckpointHostile : public ::testing::Test {
 protected:
  ScratchFolder dir_;
  fs::path path_ = dir_ / "hostile.pt";
};

TEST_F(CheckpointHostile, ATorchScriptObjectWithSetstateIsRefused) {
  // __torch__.Evil's state is a tuple: only its class's __setstate__ could make sense of it.
  expect_refused(path_, {"tuple state",
                         Pickle()
                             .global("__torch__", "Evil")
                             .op(')')
                             .op(0x81)
                             .integer(1)
                             .str("rm -rf")
                             .op(0x86)
                             .op('b')
                             .stop(),
                         {},
                         "__setstate__"});
  expect_refused(
      path_, {"list state",
              Pickle().global("__torch__.model", "Evil").op(')').op(0x81).op(']').op('b').stop(),
              {},
              "__setstate__"});
}

TEST_F(CheckpointHostile, GlobalsThatRunCodeAreRefusedUncalled) {
  const fs::path marker = dir_ / "marker";
  const std::string touch = "touch " + marker.string();
  const std::string python = "open('" + marker.string() + "', 'w')";
  const std::vector<Hostile> cases = {
      {"os.system",
       Pickle().global("os", "system").str(touch).op(0x85).op('R').stop(),
       {},
       "'os.system'"},
      {"posix.system",
       Pickle().global("posix", "system").str(touch).op(0x85).op('R').stop(),
       {},
       "'posix.system'"},
      {"builtins.eval",
       Pickle().global("builtins", "eval").str(python).op(0x85).op('R').stop(),
       {},
       "'builtins.eval'"},
      {"builtins.exec via STACK_GLOBAL",
       Pickle().str("builtins").str("exec").op(0x93).str(python).op(0x85).op('R').stop(),
       {},
       "'builtins.exec'"},
      {"subprocess.Popen as NEWOBJ",
       Pickle().global("subprocess", "Popen").op('(').str(touch).op(0x85).op(0x81).stop(),
       {},
       "'subprocess.Popen'"},
      // INST calls os.system with the MARKed arguments (protocol 0): an opcode weights never use.
      {"INST", Pickle().op('(').str(touch).op('i').raw("os\nsystem\n").stop(), {}, "opcode 0x69"},
      {"OBJ", Pickle().op('(').str("x").op('o').stop(), {}, "opcode 0x6f"},
      // A TorchScript class named by a file is never called.
      {"REDUCE of a TorchScript class",
       Pickle().global("__torch__", "Evil").str(touch).op(0x85).op('R').stop(),
       {},
       "which fitreel does not call"},
      // Allowed globals only rebuild data: the wrong arguments are refused, not passed on.
      {"OrderedDict with arguments",
       Pickle().global("collections", "OrderedDict").str(touch).op(0x85).op('R').stop(),
       {},
       "builds an OrderedDict from arguments"},
  };
  for (const Hostile& hostile : cases) expect_refused(path_, hostile);
  EXPECT_FALSE(fs::exists(marker)) << "a file ran a command";
}

TEST_F(CheckpointHostile, StoragesMustNameARecordOfExactlyTheirBytes) {
  const std::string two = floats({1, 2});
  expect_refused(path_, {"missing record",
                         dict_of_tensor("5", 2, 0, {2}, {1}),
                         {{"0", two}},
                         "storage '5', which the file lacks"});
  expect_refused(path_, {"0 elements, size [2, 1]",
                         dict_of_tensor("0", 0, 0, {2, 1}, {1, 1}),
                         {{"0", ""}},
                         "reaches past the 0 elements of storage '0'"});
  expect_refused(path_, {"record one byte longer",
                         dict_of_tensor("0", 2, 0, {2}, {1}),
                         {{"0", two + "x"}},
                         "but its record has 9 bytes"});
  expect_refused(path_, {"record one byte shorter",
                         dict_of_tensor("0", 2, 0, {2}, {1}),
                         {{"0", two.substr(1)}},
                         "but its record has 7 bytes"});
  expect_refused(path_, {"element count past int64 bytes",
                         dict_of_tensor("0", INT64_MAX / 2, 0, {2}, {1}),
                         {{"0", two}},
                         "a size of"});
  expect_refused(path_, {"negative element count",
                         dict_of_tensor("0", -2, 0, {2}, {1}),
                         {{"0", two}},
                         "a size of -2 elements"});
  // The same storage as a DoubleStorage: 2 elements would be 16 bytes.
  expect_refused(
      path_, {"other element type",
              Pickle().op('}').str("w").tensor("0", 2, 0, {2}, {1}, "DoubleStorage").op('s').stop(),
              {{"0", two}},
              "2 elements of 8 bytes, but its record has 8 bytes"});
}

TEST_F(CheckpointHostile, ViewsMustLieInsideTheirStorage) {
  const std::string six = floats({1, 2, 3, 4, 5, 6});
  const std::vector<Hostile> cases = {
      {"offset 2^62",
       dict_of_tensor("0", 6, std::int64_t{1} << 62, {2}, {1}),
       {{"0", six}},
       "reaches past the 6 elements"},
      {"offset one element too far",
       dict_of_tensor("0", 6, 1, {2, 3}, {3, 1}),
       {{"0", six}},
       "reaches past the 6 elements"},
      {"offset at the end", dict_of_tensor("0", 6, 6, {1}, {1}), {{"0", six}}, "reaches past"},
      {"negative offset", dict_of_tensor("0", 6, -1, {2}, {1}), {{"0", six}}, "reaches past"},
      {"stride past the end",
       dict_of_tensor("0", 6, 0, {2, 3}, {4, 1}),
       {{"0", six}},
       "reaches past"},
      {"stride 2^62",
       dict_of_tensor("0", 6, 0, {2}, {std::int64_t{1} << 62}),
       {{"0", six}},
       "reaches past"},
      {"sizes whose product overflows",
       dict_of_tensor("0", 6, 0, {std::int64_t{1} << 40, std::int64_t{1} << 40}, {0, 0}),
       {{"0", six}},
       "reaches past"},
      {"negative stride", dict_of_tensor("0", 6, 5, {6}, {-1}), {{"0", six}}, "integers >= 0"},
      {"negative size", dict_of_tensor("0", 6, 0, {-1}, {1}), {{"0", six}}, "integers >= 0"},
      {"sizes and strides differ",
       dict_of_tensor("0", 6, 0, {2, 3}, {1}),
       {{"0", six}},
       "2 sizes and 1 strides"},
      {"17 dimensions",
       dict_of_tensor("0", 6, 0, std::vector<std::int64_t>(17, 1),
                      std::vector<std::int64_t>(17, 1)),
       {{"0", six}},
       "more than 16"},
  };
  for (const Hostile& hostile : cases) expect_refused(path_, hostile);
}

// The boundaries the refusals above sit next to: the last element of a record can be read.
TEST_F(CheckpointHostile, ViewsEndingAtTheLastElementLoadExactly) {
  const std::string six = floats({1, 2, 3, 4, 5, 6});
  struct Fits {
    std::int64_t offset;
    std::vector<std::int64_t> sizes, strides;
    std::vector<float> values;
  };
  for (const Fits& fits : std::vector<Fits>{{0, {2, 3}, {3, 1}, {1, 2, 3, 4, 5, 6}},
                                            {5, {1}, {1}, {6}},
                                            {0, {2, 2}, {3, 2}, {1, 3, 4, 6}},
                                            {2, {4}, {1}, {3, 4, 5, 6}},
                                            {0, {2, 3}, {0, 2}, {1, 3, 5, 1, 3, 5}},
                                            {6, {0}, {1}, {}}}) {
    write_archive(path_, dict_of_tensor("0", 6, fits.offset, fits.sizes, fits.strides),
                  {{"0", six}});
    const detail::CheckpointTensors read = detail::read_checkpoint_tensors(path_.string());
    ASSERT_EQ(read.tensors.size(), 1U);
    const torch::Tensor& tensor = read.tensors[0].second;
    EXPECT_EQ(tensor.sizes().vec(), fits.sizes);
    EXPECT_EQ(bytes_of(tensor), floats(fits.values)) << "offset " << fits.offset;
  }
}

TEST_F(CheckpointHostile, CyclesAreRefused) {
  const std::vector<Hostile> cases = {
      {"list appended to itself",
       Pickle().op(']').put(0).get(0).op('a').stop(),
       {},
       "changes a container"},
      {"list appended to itself via DUP",
       Pickle().op(']').op('2').op('a').stop(),
       {},
       "changes a container"},
      {"list appended to itself via APPENDS",
       Pickle().op(']').put(0).op('(').get(0).op('e').stop(),
       {},
       "changes a container"},
      {"dict as its own value",
       Pickle().op('}').put(0).str("k").get(0).op('s').stop(),
       {},
       "changes a container"},
      {"two lists holding each other",
       Pickle().op(']').put(0).op(']').put(1).get(0).op('a').op('0').get(1).op('a').stop(),
       {},
       "changes a container"},
      {"tuple holding a list that then holds the tuple",
       Pickle().op(']').put(0).op(0x85).put(1).op('0').get(0).get(1).op('a').stop(),
       {},
       "changes a container"},
      {"object that is its own attribute",
       Pickle()
           .global("__torch__", "M")
           .op(')')
           .op(0x81)
           .put(0)
           .op('}')
           .str("self")
           .get(0)
           .op('s')
           .op('b')
           .stop(),
       {},
       ""},
      // A key set again replaces its value: the new value must not be the dict itself (any
      // one-line refusal will do).
      {"dict whose value is replaced by itself",
       Pickle().op('}').str("k").op('N').op('s').put(0).str("k").get(0).op('s').stop(),
       {},
       ""},
      {"dict whose value is replaced by itself (SETITEMS)",
       Pickle().op('}').put(0).op('(').str("k").op('N').str("k").get(0).op('u').stop(),
       {},
       ""},
  };
  for (const Hostile& hostile : cases) expect_refused(path_, hostile);
}

TEST_F(CheckpointHostile, DeepNestingIsRefusedWithoutRecursion) {
  constexpr int kDeep = 100000;
  const auto repeat = [](std::string_view unit, int count) {
    std::string out;
    for (int i = 0; i < count; ++i) out += unit;
    return out;
  };
  const std::vector<Hostile> cases = {
      {"lists: EMPTY_LIST ... APPEND ...",
       Pickle().raw(repeat("]", kDeep)).raw(repeat("a", kDeep - 1)).stop(),
       {},
       "nests containers deeper than"},
      {"lists: MARK ... LIST ...",
       Pickle().raw(repeat("(", kDeep)).raw(repeat("l", kDeep)).stop(),
       {},
       "nests containers deeper than"},
      {"tuples: TUPLE1 ...",
       Pickle().op(')').raw(repeat("\x85", kDeep)).stop(),
       {},
       "nests containers deeper than"},
      {"dicts: SETITEM ...",
       Pickle()
           .raw(repeat(std::string("}X\x01\x00\x00\x00k", 7), kDeep))
           .op('}')
           .raw(repeat("s", kDeep))
           .stop(),
       {},
       "nests containers deeper than"},
      {"MARKs only", Pickle().raw(repeat("(", kDeep)).op('N').stop(), {}, "values on its stack"},
  };
  for (const Hostile& hostile : cases) expect_refused(path_, hostile);
}

// For a death test's child, which runs the test again from its start, in a scratch folder of
// its own: that folder is removed at once and the file read through /proc/self/fd, so that a
// crash or a deadline in the child leaves nothing behind.
std::string open_and_forget(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  std::error_code ignored;
  fs::remove_all(path.parent_path(), ignored);
  return "/proc/self/fd/" + std::to_string(fd);
}

// In a child: 0 when `path` is refused in one line naming it, 1 when it is read, 2 when the
// message is wrong (a crash or a signal gives none of them).
[[noreturn]] void exit_with_refusal(const std::string& path) {
  try {
    detail::read_checkpoint_tensors(path);
  } catch (const CheckpointError& error) {
    const std::string message = error.what();
    std::_Exit(
        message.find('\n') == std::string::npos && message.find(path) != std::string::npos ? 0 : 2);
  }
  std::_Exit(1);
}

// Replacing a key's value (a key set again) must count the new value's depth too: otherwise
// each level hides the one below, and a chain of 250000 dicts (1M values, under every cap) is
// destroyed recursively, far past the end of the stack. In a child, so a crash fails this test
// only.
TEST_F(CheckpointHostile, NestingHiddenBehindReplacedValuesIsRefusedWithoutACrash) {
  // memo[0] = None; then each level: d = {}; d['k'] = None; d['k'] = memo[0]; memo[0] = d.
  Pickle pickle;
  pickle.op('N').put(0).op('0');
  for (int level = 0; level < 250000; ++level) {
    pickle.op('}').str("k").op('N').op('s').str("k").get(0).op('s').put(0).op('0');
  }
  write_archive(path_, pickle.get(0).stop(), {});
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(exit_with_refusal(open_and_forget(path_)), ::testing::ExitedWithCode(0), "");
}

// A key set again replaces its value, so each key is looked up among the dict's keys: compared
// with every other one, a dict of 500000 keys (3 MB, under every cap) costs many minutes. In a
// child with a deadline far above what a linear read costs under ASan (about 5 s).
TEST_F(CheckpointHostile, ADictOfHalfAMillionKeysIsReadInLinearTime) {
  Pickle pickle;
  pickle.op('}').op('(');
  for (std::uint32_t key = 0; key < 500000; ++key) pickle.op('J').u32(key).op('N');
  write_archive(path_, pickle.op('u').stop(), {});
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        const std::string path = open_and_forget(path_);
        ::alarm(45);  // SIGALRM ends the child: the test fails
        try {
          detail::read_checkpoint_tensors(path);
        } catch (const CheckpointError&) {
        }
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST_F(CheckpointHostile, MalformedPicklesAreRefused) {
  const std::vector<Hostile> cases = {
      {"memo entry never set",
       Pickle().op('N').put(3).op('0').get(4).stop(),
       {},
       "refers to memo entry 4, unset"},
      {"LONG_BINGET of an unset entry",
       Pickle().op('j').u32(0xffffffff).stop(),
       {},
       "memo entry 4294967295, unset"},
      {"LONG4 of 4 GiB",
       Pickle().op(0x8b).u32(0xffffffff).stop(),
       {},
       "names 4294967295 bytes where"},
      {"LONG4 of 9 bytes",
       Pickle().op(0x8b).u32(9).raw("123456789").stop(),
       {},
       "wider than 64 bits"},
      {"BINUNICODE past the end",
       Pickle().op('X').u32(16).raw("abc").stop(),
       {},
       "names 16 bytes where"},
      {"SHORT_BINUNICODE past the end",
       Pickle().op(0x8c).byte(255).raw("abc").stop(),
       {},
       "names 255 bytes where"},
      {"BINUNICODE8 of 2^64 - 1",
       Pickle().op(0x8d).u64(~std::uint64_t{0}).stop(),
       {},
       "bytes where"},
      {"BINBYTES8 of 2^63",
       Pickle().op(0x8e).u64(std::uint64_t{1} << 63).stop(),
       {},
       "bytes where"},
      {"FRAME cut short",
       Pickle(4).op(0x95).raw("\x01\x02").stop().substr(0, 5),
       {},
       "is cut short"},
      {"bytes after STOP", Pickle().op('}').stop() + "N", {}, "has bytes after its end"},
      {"empty data.pkl", "", {}, "data.pkl at byte 0 is cut short"},
      {"PROTO alone", Pickle().bytes(), {}, "cut short"},
      {"no STOP", Pickle().op('}').bytes(), {}, "cut short"},
      {"protocol 6", Pickle(6).op('}').stop(), {}, "protocol past 5"},
      {"STOP on an empty stack", Pickle().stop(), {}, "ends with 0 values"},
      {"two values at STOP", Pickle().op('}').op('}').stop(), {}, "ends with 2 values"},
      {"STOP inside a MARK", Pickle().op('}').op('(').stop(), {}, "ends with"},
      {"APPEND to a dict", Pickle().op('}').op('N').op('a').stop(), {}, "not a list"},
      {"SETITEM on a list", Pickle().op(']').str("k").op('N').op('s').stop(), {}, "not a dict"},
      {"list as a dict key", Pickle().op('}').op(']').op('N').op('s').stop(), {}, "as a dict key"},
      {"POP from nothing", Pickle().op('0').stop(), {}, "no MARK"},
      {"TUPLE3 of one value", Pickle().op('N').op(0x87).stop(), {}, "empty stack"},
      {"TUPLE without MARK", Pickle().op('N').op('t').stop(), {}, "no MARK"},
      {"GLOBAL without newline", Pickle().raw("ctorch").stop(), {}, "GLOBAL without its name"},
      {"a storage as a value",
       Pickle()
           .op('}')
           .str("w")
           .op('(')
           .str("storage")
           .global("torch", "FloatStorage")
           .str("0")
           .str("cpu")
           .integer(2)
           .op('t')
           .op('Q')
           .op('s')
           .stop(),
       {{"0", floats({1, 2})}},
       "uses a storage as a value"},
      {"a global as a value",
       Pickle().op(']').global("torch", "Size").op('a').stop(),
       {},
       "uses 'torch.Size' as a value"},
      {"a persistent id that is not a storage",
       Pickle().str("x").op('Q').stop(),
       {},
       "persistent id"},
      {"the root is a list", Pickle().op(']').stop(), {}, "holds a list, not a dict of weights"},
      {"\"model\" is not a dict",
       Pickle().op('}').str("model").op(']').op('s').stop(),
       {},
       "its \"model\" is a list"},
  };
  for (const Hostile& hostile : cases) expect_refused(path_, hostile);
}

TEST_F(CheckpointHostile, ArchivesWithoutTheirPartsAreRefused) {
  const auto refused_with = [&](const std::string& zip, const std::string& reason) {
    write_bytes(path_, zip);
    const std::string message = refusal(path_);
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_NE(message.find(path_.string()), std::string::npos) << message;
    EXPECT_NE(message.find(reason), std::string::npos) << message;
  };
  {
    detail::ZipWriter zip("archive");
    zip.add("version", "3\n");
    refused_with(zip.finish(), "no data.pkl");
  }
  {
    detail::ZipWriter zip("archive");
    zip.add("data.pkl", Pickle().op('}').stop());
    refused_with(zip.finish(), "no archive/version");
  }
  {
    detail::ZipWriter zip("archive");
    zip.add("data.pkl", Pickle().op('}').stop());
    zip.add("byteorder", "big");
    zip.add("version", "3\n");
    refused_with(zip.finish(), "big-endian");
  }
}

}  // namespace
}  // namespace fitreel
