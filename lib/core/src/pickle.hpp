#pragma once

// Internal: Python pickles as plain data, both ways, for checkpoints in the format of Python's
// torch.save. No LibTorch here (so it is quick to build and to fuzz).
//
// Reading accepts only what weights need, as PyTorch's own weights_only unpickler does: None,
// booleans, integers, floats, strings, bytes, lists, tuples, dicts and OrderedDicts, and
// tensors rebuilt from storages (torch._utils._rebuild_tensor_v2, _rebuild_parameter), with a
// short list of other globals that only rebuild such data (torch.Size, _codecs.encode, the
// storage types, TorchScript's type tags). A TorchScript object (a fitreel 0.2 checkpoint's
// modules) is read as the dict of its attributes; one that defines __setstate__ is refused, as
// is every other global: nothing named in a file is ever called. Every count and size is
// capped, every tensor is checked against the storage record it names, and anything else is
// one PickleError line.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fitreel::detail {

/// The pickle (or what it describes) is not plain weights: one line, what and where.
class PickleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Element types of the storages a checkpoint may hold.
enum class ScalarKind {
  float32,
  float64,
  float16,
  bfloat16,
  int64,
  int32,
  int16,
  int8,
  uint8,
  boolean
};

/// Bytes per element.
std::size_t element_size(ScalarKind kind);
/// "torch.FloatStorage" ... for messages.
std::string_view storage_name(ScalarKind kind);

/// A tensor as a pickle describes it: a view (offset, sizes, strides, in elements) of a storage
/// record. Checked against the record before anything reads it.
struct TensorView {
  std::string record;  ///< the storage's key: "0" names the entry data/0
  ScalarKind kind = ScalarKind::float32;
  std::int64_t storage_elements = 0;
  std::int64_t offset = 0;
  std::vector<std::int64_t> sizes, strides;
  std::int64_t elements() const;
};

/// One value of an unpickled file. Containers are shared (a pickle may refer to one object
/// twice); the reader never builds a cycle.
struct Value {
  enum class Kind {
    none,
    boolean,
    integer,
    real,
    string,
    bytes,
    list,
    tuple,
    dict,
    tensor,
    object
  };
  Kind kind = Kind::none;
  bool boolean = false;
  std::int64_t integer = 0;
  double real = 0.0;
  std::string text;  ///< string, bytes; object: its class name
  /// list, tuple: the items; dict, object: keys and values, alternating (insertion order).
  std::shared_ptr<std::vector<Value>> items;
  std::shared_ptr<TensorView> tensor;

  bool is(Kind k) const { return kind == k; }
  /// The value of `key` in a dict (or an object's attributes); nullptr when absent or not one.
  const Value* find(std::string_view key) const;
  /// "a dict", "a tensor", ... for messages.
  std::string_view kind_name() const;
};

/// Caps on what one pickle may cost.
struct PickleLimits {
  std::size_t most_values = 1 << 20;  ///< values made (each opcode makes at most one)
  std::size_t most_memo = 1 << 20;    ///< memo entries
  std::size_t most_depth = 64;        ///< containers within containers
  std::size_t most_dims = 16;         ///< tensor dimensions
  std::size_t most_text_bytes = std::size_t{1} << 28;    ///< text copied into containers
  std::size_t most_pickle_bytes = std::size_t{1} << 26;  ///< data.pkl itself (names, not weights)
};

/// Unpickles `bytes` (protocol 2 to 5, binary opcodes). `record_bytes(key)` gives the size of
/// storage record `key`, or nullopt when there is none: every storage must name a record of
/// exactly its elements' bytes, and every tensor must lie inside its storage. Throws
/// PickleError.
Value unpickle(std::string_view bytes,
               const std::function<std::optional<std::uint64_t>(const std::string&)>& record_bytes,
               const PickleLimits& limits = {});

/// Writes pickles (protocol 2) of plain data and tensors the way Python's torch.save does, so
/// that torch.load(..., weights_only=True) reads them in PyTorch 1.13 and 2.x.
class PickleWriter {
 public:
  PickleWriter();
  void none();
  void boolean(bool value);
  void integer(std::int64_t value);
  void real(double value);
  void string(std::string_view value);
  /// Containers: begin, the items (a dict: key, value, key, value, ...), end.
  void begin_dict();
  void end_dict();
  void begin_list();
  void end_list();
  void begin_tuple();
  void end_tuple();
  /// A tensor: a view of storage record `record` (written by the caller as data/<record>).
  void tensor(const TensorView& view);
  /// The finished pickle (adds STOP).
  std::string finish();

 private:
  void put(char opcode);
  void put_u32(std::uint32_t value);
  void global(std::string_view module, std::string_view name);
  void int_tuple(const std::vector<std::int64_t>& values);

  std::string out_;
  std::vector<std::size_t> open_;  // how many items each open container holds so far
};

}  // namespace fitreel::detail
