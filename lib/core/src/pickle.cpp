#include "pickle.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>

namespace fitreel::detail {

namespace {

// The opcodes of pickle protocols 2 to 5 this reader knows (Python's Lib/pickle.py names).
enum Opcode : unsigned char {
  kMark = '(',
  kStop = '.',
  kPop = '0',
  kPopMark = '1',
  kDup = '2',
  kBinFloat = 'G',
  kBinInt = 'J',
  kBinInt1 = 'K',
  kBinInt2 = 'M',
  kNone = 'N',
  kBinPersId = 'Q',
  kReduce = 'R',
  kBinString = 'T',
  kShortBinString = 'U',
  kBinUnicode = 'X',
  kAppend = 'a',
  kBuild = 'b',
  kGlobal = 'c',
  kDict = 'd',
  kEmptyDict = '}',
  kAppends = 'e',
  kBinGet = 'h',
  kLongBinGet = 'j',
  kList = 'l',
  kEmptyList = ']',
  kBinPut = 'q',
  kLongBinPut = 'r',
  kSetItem = 's',
  kTuple = 't',
  kEmptyTuple = ')',
  kSetItems = 'u',
  kBinBytes = 'B',
  kShortBinBytes = 'C',
  kProto = 0x80,
  kNewObj = 0x81,
  kTuple1 = 0x85,
  kTuple2 = 0x86,
  kTuple3 = 0x87,
  kNewTrue = 0x88,
  kNewFalse = 0x89,
  kLong1 = 0x8a,
  kLong4 = 0x8b,
  kShortBinUnicode = 0x8c,
  kBinUnicode8 = 0x8d,
  kBinBytes8 = 0x8e,
  kMemoize = 0x94,
  kFrame = 0x95,
  kStackGlobal = 0x93,
};

struct StorageType {
  const char* name;
  ScalarKind kind;
};
constexpr StorageType kStorageTypes[] = {
    {"FloatStorage", ScalarKind::float32}, {"DoubleStorage", ScalarKind::float64},
    {"HalfStorage", ScalarKind::float16},  {"BFloat16Storage", ScalarKind::bfloat16},
    {"LongStorage", ScalarKind::int64},    {"IntStorage", ScalarKind::int32},
    {"ShortStorage", ScalarKind::int16},   {"CharStorage", ScalarKind::int8},
    {"ByteStorage", ScalarKind::uint8},    {"BoolStorage", ScalarKind::boolean},
};

// What a GLOBAL may name. Each one only rebuilds data; none of them is ever called as code.
enum class Global {
  ordered_dict,     // collections.OrderedDict
  rebuild_tensor,   // torch._utils._rebuild_tensor_v2
  rebuild_param,    // torch._utils._rebuild_parameter
  rebuild_param_s,  // torch._utils._rebuild_parameter_with_state
  torch_size,       // torch.Size
  encode,           // _codecs.encode (protocol 2's bytes)
  storage,          // torch.<X>Storage
  type_tag,         // torch.jit._pickle.restore_type_tag
  typed_list,       // torch.jit._pickle.build_intlist and friends
  script_class,     // __torch__.<class>: a TorchScript object, read as its attributes
};

// The reader's own values: what is on its stack and in its memo. Containers are shared and
// sealed once placed in another container, so a later change to them (the only way a pickle
// can build a cycle) is refused.
struct Node;
using NodePtr = std::shared_ptr<Node>;
struct Node {
  Value value;
  bool sealed = false;
  bool raw = false;       // a tuple holding a global or a storage: arguments, not data
  std::size_t depth = 0;  // containers below, counting itself
  // Reader-only kinds: a global, a storage (BINPERSID), a mark is not a node.
  std::optional<Global> global;
  std::string global_name;
  std::optional<TensorView> storage;  // a storage: record, kind, elements (no view yet)
  std::vector<NodePtr> children;      // mirrors value.items for containers
  std::unordered_map<std::string, std::size_t> keys;  // a dict: where each key's value is
};

// A dict key as one string: its kind, then its text or number.
std::string key_of(const Value& key) {
  return key.is(Value::Kind::string) ? "s" + key.text : "i" + std::to_string(key.integer);
}

std::string quote(std::string_view text) {
  std::string shown;
  for (char c : text.substr(0, 60)) {
    const auto byte = static_cast<unsigned char>(c);
    shown += byte < 0x20 || byte >= 0x7f ? '?' : c;
  }
  return "'" + shown + (text.size() > 60 ? "...'" : "'");
}

bool multiply(std::int64_t a, std::int64_t b, std::int64_t& out) {
  return !__builtin_mul_overflow(a, b, &out);
}
bool add(std::int64_t a, std::int64_t b, std::int64_t& out) {
  return !__builtin_add_overflow(a, b, &out);
}

class Reader {
 public:
  Reader(std::string_view bytes,
         const std::function<std::optional<std::uint64_t>(const std::string&)>& record_bytes,
         const PickleLimits& limits)
      : bytes_(bytes), record_bytes_(record_bytes), limits_(limits) {}

  Value run() {
    for (;;) {
      const std::size_t at = position_;
      const auto opcode = static_cast<unsigned char>(take(1)[0]);
      if (opcode == kStop) {
        if (stack_.size() != 1 || !marks_.empty()) {
          fail(at, "ends with " + std::to_string(stack_.size()) + " values on its stack");
        }
        if (position_ != bytes_.size()) {
          fail(position_, "has bytes after its end");
        }
        return finished(stack_.back());
      }
      step(opcode, at);
    }
  }

 private:
  [[noreturn]] void fail(std::size_t at, const std::string& what) const {
    throw PickleError("data.pkl at byte " + std::to_string(at) + " " + what);
  }

  std::string_view take(std::size_t count) {
    if (count > bytes_.size() - position_) {
      fail(position_, "is cut short");
    }
    const std::string_view taken = bytes_.substr(position_, count);
    position_ += count;
    return taken;
  }
  std::uint64_t little(std::size_t count) {
    const std::string_view raw = take(count);
    std::uint64_t value = 0;
    for (std::size_t i = count; i-- > 0;) {
      value = value << 8 | static_cast<unsigned char>(raw[i]);
    }
    return value;
  }
  std::size_t length(std::size_t count) {
    const std::uint64_t value = little(count);
    if (value > bytes_.size() - position_) {
      fail(position_, "names " + std::to_string(value) + " bytes where " +
                          std::to_string(bytes_.size() - position_) + " remain");
    }
    return static_cast<std::size_t>(value);
  }
  std::string line() {
    const std::size_t end = bytes_.find('\n', position_);
    if (end == std::string_view::npos || end - position_ > 256) {
      fail(position_, "has a GLOBAL without its name");
    }
    const std::string text(bytes_.substr(position_, end - position_));
    position_ = end + 1;
    return text;
  }

  NodePtr make(Value value) {
    if (++made_ > limits_.most_values) {
      fail(position_, "makes more than " + std::to_string(limits_.most_values) + " values");
    }
    auto node = std::make_shared<Node>();
    node->value = std::move(value);
    return node;
  }
  NodePtr make_container(Value::Kind kind) {
    Value value;
    value.kind = kind;
    value.items = std::make_shared<std::vector<Value>>();
    NodePtr node = make(std::move(value));
    node->depth = 1;
    return node;
  }
  void push(NodePtr node) {
    // DUP and BINGET push without making values: the stack has the values' cap too.
    if (stack_.size() >= limits_.most_values) {
      fail(position_, "stacks more than " + std::to_string(limits_.most_values) + " values");
    }
    stack_.push_back(std::move(node));
  }
  NodePtr pop(std::size_t at) {
    if (stack_.size() <= floor()) fail(at, "takes from an empty stack");
    NodePtr node = std::move(stack_.back());
    stack_.pop_back();
    return node;
  }
  NodePtr& top(std::size_t at) {
    if (stack_.size() <= floor()) fail(at, "takes from an empty stack");
    return stack_.back();
  }
  std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  std::vector<NodePtr> pop_to_mark(std::size_t at) {
    if (marks_.empty()) fail(at, "has no MARK to go back to");
    std::vector<NodePtr> items(std::make_move_iterator(stack_.begin() + marks_.back()),
                               std::make_move_iterator(stack_.end()));
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }

  // A value as data: a reader-only node (a global, a bare storage) cannot be one.
  void check_data(const NodePtr& node, std::size_t at) const {
    if (node->global) fail(at, "uses " + quote(node->global_name) + " as a value");
    if (node->storage) fail(at, "uses a storage as a value (outside a tensor)");
    if (node->raw) fail(at, "uses a tuple of arguments as a value");
  }

  // Places `child` in `container`: the child is sealed, and nothing sealed changes again (the
  // only way a pickle could build a cycle). Tuples may hold globals and storages: arguments.
  void insert(const NodePtr& container, const NodePtr& child, std::size_t at) {
    if (container->value.is(Value::Kind::tuple)) {
      container->raw = container->raw || child->raw || child->global || child->storage;
    } else {
      check_data(child, at);
    }
    place(container, child, at);
    container->value.items->push_back(child->value);
    container->children.push_back(child);
  }

  // What every placing of `child` in `container` checks: the child is sealed before the
  // container is looked at (so a container placed in itself is caught), the depth stays under
  // the cap, and the text copied stays under its cap (one string placed a million times would
  // be a million copies).
  void place(const NodePtr& container, const NodePtr& child, std::size_t at) {
    child->sealed = true;
    if (container->sealed) {
      fail(at, "changes a container after placing it in another (a cycle?)");
    }
    if (child->depth + 1 > limits_.most_depth) {
      fail(at, "nests containers deeper than " + std::to_string(limits_.most_depth));
    }
    copied_ += child->value.text.size();
    if (copied_ > limits_.most_text_bytes) {
      fail(at, "copies more than " + std::to_string(limits_.most_text_bytes) + " bytes of text");
    }
    container->depth = std::max(container->depth, child->depth + 1);
  }

  void append(const NodePtr& list, const NodePtr& item, std::size_t at) {
    if (!list->value.is(Value::Kind::list)) {
      fail(at, "appends to " + std::string(list->value.kind_name()) + ", not a list");
    }
    insert(list, item, at);
  }
  void set_item(const NodePtr& dict, const NodePtr& key, const NodePtr& item, std::size_t at) {
    if (!dict->value.is(Value::Kind::dict)) {
      fail(at, "sets an item of " + std::string(dict->value.kind_name()) + ", not a dict");
    }
    if (!key->value.is(Value::Kind::string) && !key->value.is(Value::Kind::integer)) {
      fail(at, "uses " + std::string(key->value.kind_name()) + " as a dict key");
    }
    // A key set again replaces its value, as in Python (found through the dict's key index:
    // a linear search would make a dict of n keys cost n^2).
    const auto [found, added] = dict->keys.emplace(key_of(key->value), dict->children.size());
    if (!added) {
      check_data(item, at);
      place(dict, item, at);
      (*dict->value.items)[found->second + 1] = item->value;
      dict->children[found->second + 1] = item;
      return;
    }
    insert(dict, key, at);
    insert(dict, item, at);
  }

  NodePtr tuple_of(std::vector<NodePtr> items, std::size_t at) {
    NodePtr tuple = make_container(Value::Kind::tuple);
    for (const NodePtr& item : items) insert(tuple, item, at);
    tuple->sealed = true;  // tuples never change
    return tuple;
  }

  void memo_put(std::uint64_t key, std::size_t at) {
    if (memo_.size() >= limits_.most_memo && memo_.count(key) == 0) {
      fail(at, "memoizes more than " + std::to_string(limits_.most_memo) + " values");
    }
    memo_[key] = top(at);
  }
  void memo_get(std::uint64_t key, std::size_t at) {
    const auto found = memo_.find(key);
    if (found == memo_.end()) fail(at, "refers to memo entry " + std::to_string(key) + ", unset");
    push(found->second);
  }

  NodePtr resolve_global(const std::string& module, const std::string& name, std::size_t at) {
    const std::string full = module + "." + name;
    std::optional<Global> known;
    if (module == "collections" && name == "OrderedDict") known = Global::ordered_dict;
    if (module == "torch._utils" && name == "_rebuild_tensor_v2") known = Global::rebuild_tensor;
    if (module == "torch._utils" && name == "_rebuild_parameter") known = Global::rebuild_param;
    if (module == "torch._utils" && name == "_rebuild_parameter_with_state") {
      known = Global::rebuild_param_s;
    }
    if (module == "torch" && name == "Size") known = Global::torch_size;
    if (module == "_codecs" && name == "encode") known = Global::encode;
    if (module == "torch.jit._pickle" && name == "restore_type_tag") known = Global::type_tag;
    if (module == "torch.jit._pickle" && (name == "build_intlist" || name == "build_doublelist" ||
                                          name == "build_boollist" || name == "build_tensorlist")) {
      known = Global::typed_list;
    }
    if (module == "torch") {
      for (const StorageType& type : kStorageTypes) {
        if (name == type.name) known = Global::storage;
      }
    }
    if (module.rfind("__torch__", 0) == 0) known = Global::script_class;
    if (!known) {
      fail(at, "names " + quote(full) +
                   ", which is not plain data (fitreel loads weights only and never runs code "
                   "from a file)");
    }
    NodePtr node = make(Value{});
    node->global = known;
    node->global_name = full;
    node->sealed = true;
    return node;
  }

  // BINPERSID ('storage', torch.<X>Storage, key, location, elements): a storage record.
  NodePtr storage_of(const NodePtr& id, std::size_t at) {
    const auto& items = id->children;
    if (!id->value.is(Value::Kind::tuple) || items.size() != 5 ||
        !items[0]->value.is(Value::Kind::string) || items[0]->value.text != "storage" ||
        items[1]->global != Global::storage || !items[2]->value.is(Value::Kind::string) ||
        !items[4]->value.is(Value::Kind::integer)) {
      fail(at, "has a persistent id that is not ('storage', type, key, location, size)");
    }
    TensorView storage;
    for (const StorageType& type : kStorageTypes) {
      if (items[1]->global_name == std::string("torch.") + type.name) storage.kind = type.kind;
    }
    storage.record = items[2]->value.text;
    storage.storage_elements = items[4]->value.integer;
    const std::optional<std::uint64_t> size = record_bytes_(storage.record);
    std::int64_t expected = 0;
    if (storage.storage_elements < 0 ||
        !multiply(storage.storage_elements, static_cast<std::int64_t>(element_size(storage.kind)),
                  expected)) {
      fail(at, "gives storage " + quote(storage.record) + " a size of " +
                   std::to_string(storage.storage_elements) + " elements");
    }
    if (!size) {
      fail(at, "refers to storage " + quote(storage.record) + ", which the file lacks");
    }
    if (*size != static_cast<std::uint64_t>(expected)) {
      fail(at, "says storage " + quote(storage.record) + " holds " +
                   std::to_string(storage.storage_elements) + " elements of " +
                   std::to_string(element_size(storage.kind)) + " bytes, but its record has " +
                   std::to_string(*size) + " bytes");
    }
    NodePtr node = make(Value{});
    node->storage = std::move(storage);
    node->sealed = true;
    return node;
  }

  std::vector<std::int64_t> integers(const NodePtr& tuple, const char* what, std::size_t at) {
    if (!tuple->value.is(Value::Kind::tuple) && !tuple->value.is(Value::Kind::list)) {
      fail(at, std::string("gives a tensor ") + what + " that are not a tuple");
    }
    if (tuple->children.size() > limits_.most_dims) {
      fail(at, std::string("gives a tensor more than ") + std::to_string(limits_.most_dims) + " " +
                   what);
    }
    std::vector<std::int64_t> values;
    for (const NodePtr& item : tuple->children) {
      if (!item->value.is(Value::Kind::integer) || item->value.integer < 0) {
        fail(at, std::string("gives a tensor ") + what + " that are not integers >= 0");
      }
      values.push_back(item->value.integer);
    }
    return values;
  }

  // _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]),
  // checked: the whole view lies inside its storage.
  NodePtr rebuild_tensor(const NodePtr& args, std::size_t at) {
    const auto& items = args->children;
    if (!args->value.is(Value::Kind::tuple) || items.size() < 6 || items.size() > 7 ||
        !items[0]->storage || !items[1]->value.is(Value::Kind::integer)) {
      fail(at,
           "rebuilds a tensor from arguments that are not (storage, offset, size, stride, "
           "requires_grad, hooks)");
    }
    TensorView view = *items[0]->storage;
    view.offset = items[1]->value.integer;
    view.sizes = integers(items[2], "sizes", at);
    view.strides = integers(items[3], "strides", at);
    if (view.sizes.size() != view.strides.size()) {
      fail(at, "gives a tensor " + std::to_string(view.sizes.size()) + " sizes and " +
                   std::to_string(view.strides.size()) + " strides");
    }
    std::int64_t elements = 1, last = view.offset;
    bool fits = view.offset >= 0;
    for (std::size_t d = 0; d < view.sizes.size() && fits; ++d) {
      std::int64_t reach = 0;
      fits = multiply(elements, view.sizes[d], elements) &&
             (view.sizes[d] == 0 ||
              (multiply(view.sizes[d] - 1, view.strides[d], reach) && add(last, reach, last)));
    }
    if (!fits || (elements > 0 && last >= view.storage_elements)) {
      fail(at, "has a tensor (offset " + std::to_string(view.offset) + ") that reaches past the " +
                   std::to_string(view.storage_elements) + " elements of storage " +
                   quote(view.record));
    }
    Value value;
    value.kind = Value::Kind::tensor;
    value.tensor = std::make_shared<TensorView>(std::move(view));
    NodePtr node = make(std::move(value));
    node->sealed = true;
    return node;
  }

  NodePtr reduce(const NodePtr& callable, const NodePtr& args, std::size_t at) {
    if (!callable->global) {
      fail(at, "calls " + std::string(callable->value.kind_name()) + ", which is not callable");
    }
    if (!args->value.is(Value::Kind::tuple)) {
      fail(at, "calls " + quote(callable->global_name) + " with arguments that are not a tuple");
    }
    const auto& items = args->children;
    switch (*callable->global) {
      case Global::ordered_dict:
        if (!items.empty()) fail(at, "builds an OrderedDict from arguments");
        return make_container(Value::Kind::dict);
      case Global::rebuild_tensor:
        return rebuild_tensor(args, at);
      case Global::rebuild_param:
      case Global::rebuild_param_s:
        if (items.empty() || !items[0]->value.is(Value::Kind::tensor)) {
          fail(at, "rebuilds a parameter from something other than a tensor");
        }
        return items[0];
      case Global::torch_size:
        if (items.size() != 1) fail(at, "builds a torch.Size from other arguments");
        integers(items[0], "sizes", at);
        return items[0];
      case Global::encode: {  // _codecs.encode(text, "latin1"): protocol 2's bytes
        if (items.size() != 2 || !items[0]->value.is(Value::Kind::string)) {
          fail(at, "encodes something other than a string");
        }
        Value bytes;
        bytes.kind = Value::Kind::bytes;
        bytes.text = items[0]->value.text;
        return make(std::move(bytes));
      }
      case Global::type_tag:
      case Global::typed_list:
        if (items.empty()) fail(at, "tags no value");
        return items[0];
      case Global::storage:
      case Global::script_class:
        break;
    }
    fail(at, "calls " + quote(callable->global_name) + ", which fitreel does not call");
  }

  void build(const NodePtr& target, const NodePtr& state, std::size_t at) {
    check_data(state, at);
    if (target->value.is(Value::Kind::object)) {
      // A TorchScript object: its attributes, unless its class defines __setstate__ (then the
      // state is whatever __getstate__ gave, and only running the class's code could use it).
      if (!state->value.is(Value::Kind::dict)) {
        fail(at, "builds a " + quote(target->value.text) +
                     " from a state that is not its attributes: its class defines "
                     "__setstate__, code that fitreel does not run");
      }
      if (target->sealed || !target->children.empty()) {
        fail(at, "builds an object twice");
      }
      for (std::size_t i = 0; i + 1 < state->children.size(); i += 2) {
        insert(target, state->children[i], at);
        insert(target, state->children[i + 1], at);
      }
      return;
    }
    if (target->value.is(Value::Kind::dict)) {
      // An OrderedDict's instance attributes (state_dict()'s _metadata): not weights.
      return;
    }
    if (target->value.is(Value::Kind::tensor)) {
      return;  // a parameter's Python attributes (hooks, ...): not weights
    }
    fail(at, "builds " + std::string(target->value.kind_name()) + " from a state");
  }

  void step(unsigned char opcode, std::size_t at) {
    switch (opcode) {
      case kProto:
        if (static_cast<unsigned char>(take(1)[0]) > 5) fail(at, "has a pickle protocol past 5");
        return;
      case kFrame:
        take(8);
        return;
      case kMark:
        if (marks_.size() >= limits_.most_memo) fail(at, "has too many MARKs");
        marks_.push_back(stack_.size());
        return;
      case kPop:
        if (stack_.size() > floor()) {
          stack_.pop_back();
        } else {
          pop_to_mark(at);  // POP at a mark drops the mark
        }
        return;
      case kPopMark:
        pop_to_mark(at);
        return;
      case kDup:
        push(top(at));
        return;
      case kNone:
        push(make(Value{}));
        return;
      case kNewTrue:
      case kNewFalse: {
        Value value;
        value.kind = Value::Kind::boolean;
        value.boolean = opcode == kNewTrue;
        push(make(std::move(value)));
        return;
      }
      case kBinInt:
      case kBinInt1:
      case kBinInt2: {
        Value value;
        value.kind = Value::Kind::integer;
        if (opcode == kBinInt) {
          value.integer = static_cast<std::int32_t>(static_cast<std::uint32_t>(little(4)));
        } else {
          value.integer = static_cast<std::int64_t>(little(opcode == kBinInt1 ? 1 : 2));
        }
        push(make(std::move(value)));
        return;
      }
      case kLong1:
      case kLong4: {
        const std::size_t count = length(opcode == kLong1 ? 1 : 4);
        if (count > 8) fail(at, "has an integer wider than 64 bits");
        const std::uint64_t raw = count == 0 ? 0 : little(count);
        Value value;
        value.kind = Value::Kind::integer;
        // Two's complement in `count` bytes.
        value.integer =
            count == 0 || count == 8
                ? static_cast<std::int64_t>(raw)
                : static_cast<std::int64_t>(raw << (64 - 8 * count)) >> (64 - 8 * count);
        push(make(std::move(value)));
        return;
      }
      case kBinFloat: {
        const std::string_view raw = take(8);
        std::uint64_t bits = 0;
        for (char c : raw) bits = bits << 8 | static_cast<unsigned char>(c);  // big-endian
        Value value;
        value.kind = Value::Kind::real;
        std::memcpy(&value.real, &bits, sizeof bits);
        push(make(std::move(value)));
        return;
      }
      case kBinUnicode:
      case kShortBinUnicode:
      case kBinUnicode8:
      case kBinString:
      case kShortBinString:
      case kBinBytes:
      case kShortBinBytes:
      case kBinBytes8: {
        const std::size_t width =
            opcode == kShortBinUnicode || opcode == kShortBinString || opcode == kShortBinBytes ? 1
            : opcode == kBinUnicode8 || opcode == kBinBytes8                                    ? 8
                                                                                                : 4;
        const std::size_t count = length(width);
        Value value;
        value.kind = opcode == kBinBytes || opcode == kShortBinBytes || opcode == kBinBytes8
                         ? Value::Kind::bytes
                         : Value::Kind::string;
        value.text = std::string(take(count));
        push(make(std::move(value)));
        return;
      }
      case kEmptyTuple:
        push(tuple_of({}, at));
        return;
      case kTuple:
        push(tuple_of(pop_to_mark(at), at));
        return;
      case kTuple1:
      case kTuple2:
      case kTuple3: {
        const std::size_t count = opcode - kTuple1 + 1;
        if (stack_.size() < floor() + count) fail(at, "takes from an empty stack");
        std::vector<NodePtr> items(stack_.end() - static_cast<std::ptrdiff_t>(count), stack_.end());
        stack_.resize(stack_.size() - count);
        push(tuple_of(std::move(items), at));
        return;
      }
      case kEmptyList:
        push(make_container(Value::Kind::list));
        return;
      case kList: {
        NodePtr list = make_container(Value::Kind::list);
        for (const NodePtr& item : pop_to_mark(at)) append(list, item, at);
        push(list);
        return;
      }
      case kAppend: {
        const NodePtr item = pop(at);
        append(top(at), item, at);
        return;
      }
      case kAppends: {
        const std::vector<NodePtr> items = pop_to_mark(at);
        const NodePtr& list = top(at);
        for (const NodePtr& item : items) append(list, item, at);
        return;
      }
      case kEmptyDict:
        push(make_container(Value::Kind::dict));
        return;
      case kDict: {
        const std::vector<NodePtr> items = pop_to_mark(at);
        if (items.size() % 2 != 0) fail(at, "builds a dict from an odd number of values");
        NodePtr dict = make_container(Value::Kind::dict);
        for (std::size_t i = 0; i < items.size(); i += 2)
          set_item(dict, items[i], items[i + 1], at);
        push(dict);
        return;
      }
      case kSetItem: {
        const NodePtr item = pop(at);
        const NodePtr key = pop(at);
        set_item(top(at), key, item, at);
        return;
      }
      case kSetItems: {
        const std::vector<NodePtr> items = pop_to_mark(at);
        if (items.size() % 2 != 0) fail(at, "sets items from an odd number of values");
        const NodePtr& dict = top(at);
        for (std::size_t i = 0; i < items.size(); i += 2)
          set_item(dict, items[i], items[i + 1], at);
        return;
      }
      case kBinPut:
        memo_put(little(1), at);
        return;
      case kLongBinPut:
        memo_put(little(4), at);
        return;
      case kMemoize:
        memo_put(memo_.size(), at);
        return;
      case kBinGet:
        memo_get(little(1), at);
        return;
      case kLongBinGet:
        memo_get(little(4), at);
        return;
      case kGlobal: {
        const std::string module = line();
        const std::string name = line();
        push(resolve_global(module, name, at));
        return;
      }
      case kStackGlobal: {
        const NodePtr name = pop(at);
        const NodePtr module = pop(at);
        if (!name->value.is(Value::Kind::string) || !module->value.is(Value::Kind::string)) {
          fail(at, "names a global with values that are not strings");
        }
        push(resolve_global(module->value.text, name->value.text, at));
        return;
      }
      case kBinPersId:
        push(storage_of(pop(at), at));
        return;
      case kReduce: {
        const NodePtr args = pop(at);
        const NodePtr callable = pop(at);
        push(reduce(callable, args, at));
        return;
      }
      case kNewObj: {
        const NodePtr args = pop(at);
        const NodePtr type = pop(at);
        if (type->global != Global::script_class || !args->value.is(Value::Kind::tuple) ||
            !args->children.empty()) {
          fail(at,
               "makes an object of " + quote(type->global_name) + ", which fitreel does not make");
        }
        NodePtr object = make_container(Value::Kind::object);
        object->value.text = type->global_name;
        push(object);
        return;
      }
      case kBuild: {
        const NodePtr state = pop(at);
        build(top(at), state, at);
        return;
      }
      default:
        fail(at, "has opcode 0x" + hex(opcode) + ", which weights do not need");
    }
  }

  static std::string hex(unsigned char byte) {
    static constexpr char kDigits[] = "0123456789abcdef";
    return {kDigits[byte >> 4], kDigits[byte & 15]};
  }

  Value finished(const NodePtr& root) const {
    check_data(root, position_);
    return root->value;
  }

  std::string_view bytes_;
  const std::function<std::optional<std::uint64_t>(const std::string&)>& record_bytes_;
  PickleLimits limits_;
  std::size_t position_ = 0;
  std::size_t made_ = 0;
  std::size_t copied_ = 0;  // bytes of text copied into containers
  std::vector<NodePtr> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, NodePtr> memo_;
};

}  // namespace

std::size_t element_size(ScalarKind kind) {
  switch (kind) {
    case ScalarKind::float64:
    case ScalarKind::int64:
      return 8;
    case ScalarKind::float32:
    case ScalarKind::int32:
      return 4;
    case ScalarKind::float16:
    case ScalarKind::bfloat16:
    case ScalarKind::int16:
      return 2;
    case ScalarKind::int8:
    case ScalarKind::uint8:
    case ScalarKind::boolean:
      return 1;
  }
  return 1;
}

std::string_view storage_name(ScalarKind kind) {
  for (const StorageType& type : kStorageTypes) {
    if (type.kind == kind) return type.name;
  }
  return "?";
}

std::int64_t TensorView::elements() const {
  std::int64_t count = 1;
  for (std::int64_t size : sizes) count *= size;
  return count;
}

const Value* Value::find(std::string_view key) const {
  if ((kind != Kind::dict && kind != Kind::object) || !items) return nullptr;
  for (std::size_t i = 0; i + 1 < items->size(); i += 2) {
    const Value& k = (*items)[i];
    if (k.kind == Kind::string && k.text == key) return &(*items)[i + 1];
  }
  return nullptr;
}

std::string_view Value::kind_name() const {
  switch (kind) {
    case Kind::none:
      return "None";
    case Kind::boolean:
      return "a boolean";
    case Kind::integer:
      return "an integer";
    case Kind::real:
      return "a float";
    case Kind::string:
      return "a string";
    case Kind::bytes:
      return "bytes";
    case Kind::list:
      return "a list";
    case Kind::tuple:
      return "a tuple";
    case Kind::dict:
      return "a dict";
    case Kind::tensor:
      return "a tensor";
    case Kind::object:
      return "a TorchScript object";
  }
  return "?";
}

Value unpickle(std::string_view bytes,
               const std::function<std::optional<std::uint64_t>(const std::string&)>& record_bytes,
               const PickleLimits& limits) {
  if (bytes.size() > limits.most_pickle_bytes) {
    throw PickleError("data.pkl has " + std::to_string(bytes.size()) + " bytes, more than the " +
                      std::to_string(limits.most_pickle_bytes) +
                      " a checkpoint's names and settings need (its weights are records)");
  }
  return Reader(bytes, record_bytes, limits).run();
}

// ---- writing ----

PickleWriter::PickleWriter() {
  out_ += static_cast<char>(kProto);
  out_ += '\x02';
}

void PickleWriter::put(char opcode) { out_ += opcode; }

void PickleWriter::put_u32(std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out_ += static_cast<char>(value >> (8 * i) & 0xff);
}

void PickleWriter::none() { put(kNone); }

void PickleWriter::boolean(bool value) { put(static_cast<char>(value ? kNewTrue : kNewFalse)); }

void PickleWriter::integer(std::int64_t value) {
  if (value >= 0 && value < 256) {
    put(kBinInt1);
    out_ += static_cast<char>(value);
  } else if (value >= std::numeric_limits<std::int32_t>::min() &&
             value <= std::numeric_limits<std::int32_t>::max()) {
    put(kBinInt);
    put_u32(static_cast<std::uint32_t>(static_cast<std::int32_t>(value)));
  } else {
    put(static_cast<char>(kLong1));
    out_ += '\x08';
    for (int i = 0; i < 8; ++i)
      out_ += static_cast<char>(static_cast<std::uint64_t>(value) >> (8 * i) & 0xff);
  }
}

void PickleWriter::real(double value) {
  put(kBinFloat);
  std::uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  for (int i = 7; i >= 0; --i) out_ += static_cast<char>(bits >> (8 * i) & 0xff);
}

void PickleWriter::string(std::string_view value) {
  put(kBinUnicode);
  put_u32(static_cast<std::uint32_t>(value.size()));
  out_.append(value);
}

void PickleWriter::begin_dict() {
  put(kEmptyDict);
  put(kMark);
  open_.push_back(0);
}
void PickleWriter::end_dict() {
  put(kSetItems);
  open_.pop_back();
}
void PickleWriter::begin_list() {
  put(kEmptyList);
  put(kMark);
  open_.push_back(0);
}
void PickleWriter::end_list() {
  put(kAppends);
  open_.pop_back();
}
void PickleWriter::begin_tuple() {
  put(kMark);
  open_.push_back(0);
}
void PickleWriter::end_tuple() {
  put(kTuple);
  open_.pop_back();
}

void PickleWriter::global(std::string_view module, std::string_view name) {
  put(kGlobal);
  out_.append(module);
  out_ += '\n';
  out_.append(name);
  out_ += '\n';
}

void PickleWriter::int_tuple(const std::vector<std::int64_t>& values) {
  begin_tuple();
  for (std::int64_t value : values) integer(value);
  end_tuple();
}

void PickleWriter::tensor(const TensorView& view) {
  // torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)
  global("torch._utils", "_rebuild_tensor_v2");
  put(kMark);
  // The storage: persistent id ('storage', torch.FloatStorage, key, 'cpu', elements).
  put(kMark);
  string("storage");
  global("torch", storage_name(view.kind));
  string(view.record);
  string("cpu");
  integer(view.storage_elements);
  put(kTuple);
  put(kBinPersId);
  integer(view.offset);
  int_tuple(view.sizes);
  int_tuple(view.strides);
  boolean(false);
  global("collections", "OrderedDict");
  put(kEmptyTuple);
  put(kReduce);
  put(kTuple);
  put(kReduce);
}

std::string PickleWriter::finish() {
  put(kStop);
  return std::move(out_);
}

}  // namespace fitreel::detail
