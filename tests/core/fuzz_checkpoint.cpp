// The checkpoint reader under a fixed-seed mutation driver. Three seeds (a fitreel checkpoint,
// a PyTorch-style OrderedDict state_dict, a fitreel 0.2 TorchScript archive) whose storage
// records hold sentinel values only, so a value read from outside its record shows. Mutants of
// the whole file mostly meet libzip's CRC check; mutants of data.pkl alone, zipped again with
// valid CRCs, reach the unpickler itself. Every mutant is either refused with one
// CheckpointError line naming the file, or read with every value a sentinel.
#include "checkpoint_file.hpp"
#include "checkpoint_reader.hpp"
#include "pickle.hpp"

#include <fitreel/checkpoint.hpp>
#include <fitreel/model.hpp>

#include "scratch_folder.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace fitreel {
namespace {

namespace fs = std::filesystem;
using testing_support::read_bytes;
using testing_support::ScratchFolder;
using testing_support::write_bytes;

constexpr int kCases = 5000;
constexpr std::uint32_t kRandomSeed = 20260517;
const NetSpec kSpec{{3}, Activation::tanh};  // 0.weight [3, 1], 0.bias [3], 2.weight, 2.bias

void put_le(std::string& out, std::uint64_t value, int width) {
  for (int i = 0; i < width; ++i) out += static_cast<char>(value >> (8 * i) & 0xff);
}

std::uint64_t get_le(std::string_view bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = bytes.size(); i-- > 0;) {
    value = value << 8 | static_cast<unsigned char>(bytes[i]);
  }
  return value;
}

// ---- pickle opcodes, as pickle.cpp lists them ----

enum class Arg { none, u1, u2, u4, f8, len1, len4, len8, long1, long4, lines, frame };
struct Op {
  unsigned char code;
  Arg arg;
};
constexpr Op kOps[] = {
    {'(', Arg::none},   {'.', Arg::none},   {'0', Arg::none},  {'1', Arg::none},  {'2', Arg::none},
    {'G', Arg::f8},     {'J', Arg::u4},     {'K', Arg::u1},    {'M', Arg::u2},    {'N', Arg::none},
    {'Q', Arg::none},   {'R', Arg::none},   {'T', Arg::len4},  {'U', Arg::len1},  {'X', Arg::len4},
    {'a', Arg::none},   {'b', Arg::none},   {'c', Arg::lines}, {'d', Arg::none},  {'}', Arg::none},
    {'e', Arg::none},   {'h', Arg::u1},     {'j', Arg::u4},    {'l', Arg::none},  {']', Arg::none},
    {'q', Arg::u1},     {'r', Arg::u4},     {'s', Arg::none},  {'t', Arg::none},  {')', Arg::none},
    {'u', Arg::none},   {'B', Arg::len4},   {'C', Arg::len1},  {0x80, Arg::u1},   {0x81, Arg::none},
    {0x85, Arg::none},  {0x86, Arg::none},  {0x87, Arg::none}, {0x88, Arg::none}, {0x89, Arg::none},
    {0x8a, Arg::long1}, {0x8b, Arg::long4}, {0x8c, Arg::len1}, {0x8d, Arg::len8}, {0x8e, Arg::len8},
    {0x94, Arg::none},  {0x95, Arg::frame}, {0x93, Arg::none},
};
// Opcodes of other protocols, or that call code (INST, OBJ, NEWOBJ_EX, PERSID, ...).
constexpr unsigned char kUnknown[] = {'i',  'o',  'S',  'V',  'I',  'L',  'F',  'P',  'g', 'p',
                                      0x90, 0x8f, 0x91, 0x92, 0x96, 0x97, 0x98, 0x00, 0xff};

std::optional<Arg> arg_of(unsigned char code) {
  for (const Op& op : kOps) {
    if (op.code == code) return op.arg;
  }
  return std::nullopt;
}

// One opcode and its argument: bytes [begin, end) of the pickle. An opcode the table lacks,
// or one cut short, ends the list with a raw token of the rest.
struct Token {
  std::size_t begin = 0, end = 0;
  unsigned char code = 0;
  bool raw = false;
};

std::vector<Token> tokenize(const std::string& pickle) {
  std::vector<Token> tokens;
  std::size_t at = 0;
  while (at < pickle.size()) {
    Token token;
    token.begin = at;
    token.code = static_cast<unsigned char>(pickle[at]);
    const std::optional<Arg> arg = arg_of(token.code);
    std::size_t end = at + 1;
    const auto length = [&](std::size_t width) -> std::optional<std::size_t> {
      if (end + width > pickle.size()) return std::nullopt;
      const std::uint64_t count = get_le(std::string_view(pickle).substr(end, width));
      if (count > pickle.size()) return std::nullopt;
      return end + width + count;
    };
    std::optional<std::size_t> next;
    if (arg) {
      switch (*arg) {
        case Arg::none:
          next = end;
          break;
        case Arg::u1:
          next = end + 1;
          break;
        case Arg::u2:
          next = end + 2;
          break;
        case Arg::u4:
          next = end + 4;
          break;
        case Arg::f8:
        case Arg::frame:
          next = end + 8;
          break;
        case Arg::len1:
        case Arg::long1:
          next = length(1);
          break;
        case Arg::len4:
        case Arg::long4:
          next = length(4);
          break;
        case Arg::len8:
          next = length(8);
          break;
        case Arg::lines: {
          const std::size_t first = pickle.find('\n', end);
          const std::size_t second =
              first == std::string::npos ? first : pickle.find('\n', first + 1);
          if (second != std::string::npos) next = second + 1;
          break;
        }
      }
    }
    if (!next || *next > pickle.size()) {
      token.raw = true;
      token.end = pickle.size();
      tokens.push_back(token);
      break;
    }
    token.end = *next;
    tokens.push_back(token);
    at = *next;
  }
  return tokens;
}

// ---- seeds ----

// The storage records of every seed hold one value each, repeated: seed s's record values
// are 1000 * (s + 1) + k. A tensor read from elsewhere would show other values.
float sentinel(int seed, int k) { return static_cast<float>(1000 * (seed + 1) + k); }

struct Seed {
  std::string name;
  std::string file;                                          // the archive as written
  std::string folder;                                        // its top folder, without the slash
  std::vector<std::pair<std::string, std::string>> entries;  // inside the folder, in order
  std::string pickle;                                        // data.pkl
  std::vector<Token> tokens;
  std::set<std::string> record_keys;
  std::vector<float> sentinels;  // one per record
};

// The entry names of a zip archive, in the order of its central directory.
std::vector<std::string> zip_names(const std::string& zip) {
  const auto u16 = [&](std::size_t at) {
    return static_cast<std::size_t>(get_le(std::string_view(zip).substr(at, 2)));
  };
  std::vector<std::string> names;
  std::size_t at = get_le(std::string_view(zip).substr(zip.rfind("PK\x05\x06") + 16, 4));
  while (zip.compare(at, 4, "PK\x01\x02") == 0) {
    names.push_back(zip.substr(at + 46, u16(at + 28)));
    at += 46 + u16(at + 28) + u16(at + 30) + u16(at + 32);
  }
  return names;
}

// A seed from a file on disk: its entries as the verified reader gives them (LibTorch deflates
// some of a TorchScript archive's).
Seed make_seed(const std::string& name, const fs::path& path) {
  Seed seed;
  seed.name = name;
  seed.file = read_bytes(path);
  const detail::VerifiedArchive archive = detail::VerifiedArchive::read(path.string());
  seed.folder = archive.folder().substr(0, archive.folder().size() - 1);
  for (const std::string& full : zip_names(seed.file)) {
    const std::string inside = full.substr(archive.folder().size());
    const std::string& bytes = *archive.entry(inside);
    seed.entries.emplace_back(inside, bytes);
    if (inside == "data.pkl") seed.pickle = bytes;
    if (inside.rfind("data/", 0) == 0) {
      seed.record_keys.insert(inside.substr(5));
      // Every record is one value repeated (what the sentinel check relies on).
      EXPECT_EQ(bytes.size() % 4, 0U) << name << " " << inside;
      float value = 0;
      std::memcpy(&value, bytes.data(), sizeof value);
      for (std::size_t i = 0; i + 4 <= bytes.size(); i += 4) {
        EXPECT_EQ(bytes.compare(i, 4, bytes, 0, 4), 0) << name << " " << inside;
      }
      seed.sentinels.push_back(value);
    }
  }
  seed.tokens = tokenize(seed.pickle);
  EXPECT_FALSE(seed.pickle.empty()) << name;
  EXPECT_FALSE(seed.tokens.back().raw) << name << ": the tokenizer lacks an opcode";
  return seed;
}

void fill_with_sentinels(const torch::nn::Sequential& model, int seed) {
  torch::NoGradGuard no_grad;
  int k = 0;
  for (auto& parameter : model->parameters()) parameter.fill_(sentinel(seed, k++));
}

// A pickle as Python's torch.save(model.state_dict(), f) writes it (protocol 2): an
// OrderedDict by REDUCE, every object memoized and reused, then BUILD with {'_metadata': ...}.
// 2.bias shares the storage of 0.bias (offset 2), as tied or sliced tensors do.
std::string python_state_dict_pickle() {
  std::string out = "\x80\x02";
  int memo = 0;
  const auto put = [&] {
    out += 'q';
    out += static_cast<char>(memo++);
  };
  const auto get = [&](int key) {
    out += 'h';
    out += static_cast<char>(key);
  };
  const auto str = [&](const std::string& text) {
    out += 'X';
    put_le(out, text.size(), 4);
    out += text;
  };
  const auto small = [&](int value) {
    out += 'K';
    out += static_cast<char>(value);
  };
  out += "ccollections\nOrderedDict\n";
  const int ordered_dict = memo;
  put();
  out += ")R";
  put();
  out += '(';
  struct Entry {
    const char* name;
    const char* record;
    int elements, offset;
    std::vector<int> sizes, strides;
  };
  const Entry entries[] = {{"0.weight", "0", 3, 0, {3, 1}, {1, 1}},
                           {"0.bias", "1", 3, 0, {3}, {1}},
                           {"2.weight", "2", 3, 0, {1, 3}, {3, 1}},
                           {"2.bias", "1", 3, 2, {1}, {1}}};
  std::map<std::string, int> memoized;
  const auto once = [&](const std::string& key, const std::function<void()>& write) {
    if (memoized.count(key) != 0) return get(memoized[key]);
    memoized[key] = memo;
    write();
    put();
  };
  for (const Entry& entry : entries) {
    str(entry.name);
    put();
    once("rebuild", [&] { out += "ctorch._utils\n_rebuild_tensor_v2\n"; });
    out += "((";
    once("storage", [&] { str("storage"); });
    once("FloatStorage", [&] { out += "ctorch\nFloatStorage\n"; });
    once(std::string("record ") + entry.record, [&] { str(entry.record); });
    once("cpu", [&] { str("cpu"); });
    small(entry.elements);
    out += 't';
    put();
    out += 'Q';
    small(entry.offset);
    for (const std::vector<int>* tuple : {&entry.sizes, &entry.strides}) {
      for (int value : *tuple) small(value);
      out += static_cast<char>(0x84 + tuple->size());  // TUPLE1, TUPLE2
      put();
    }
    out += '\x89';
    get(ordered_dict);
    out += ")R";
    put();
    out += 't';
    put();
    out += 'R';
    put();
  }
  out += "u}";
  put();
  str("_metadata");
  put();
  get(ordered_dict);
  out += ")R";
  put();
  out += '(';
  for (const char* prefix : {"", "0", "1", "2"}) {
    str(prefix);
    put();
    out += '}';
    put();
    once("version", [&] { str("version"); });
    small(1);
    out += 's';
  }
  out += "usb.";
  return out;
}

std::string floats_of(float value, int count) {
  std::string bytes;
  for (int i = 0; i < count; ++i) bytes.append(reinterpret_cast<const char*>(&value), 4);
  return bytes;
}

std::vector<Seed> make_seeds(const ScratchFolder& dir) {
  std::vector<Seed> seeds;
  {
    torch::manual_seed(1);
    const torch::nn::Sequential model = make_net(kSpec);
    fill_with_sentinels(model, 0);
    const fs::path path = dir / "fitreel.pt";
    save_checkpoint(model, describe(kSpec), path.string());
    seeds.push_back(make_seed("fitreel checkpoint", path));
  }
  {
    detail::ZipWriter zip("state_dict");
    zip.add("data.pkl", python_state_dict_pickle());
    for (int k = 0; k < 3; ++k) zip.add("data/" + std::to_string(k), floats_of(sentinel(1, k), 3));
    zip.add("version", "3\n");
    const fs::path path = dir / "state_dict.pt";
    write_bytes(path, zip.finish());
    seeds.push_back(make_seed("PyTorch state_dict", path));
  }
  {
    torch::manual_seed(2);
    const torch::nn::Sequential model = make_net(kSpec);
    fill_with_sentinels(model, 2);
    torch::serialize::OutputArchive archive;
    model->save(archive);
    archive.write("fitreel.architecture", c10::IValue(describe(kSpec)));
    const fs::path path = dir / "version02.pt";
    archive.save_to(path.string());
    seeds.push_back(make_seed("fitreel 0.2 archive", path));
  }
  return seeds;
}

// The archive of `seed` with another data.pkl (the CRCs made anew: the reader sees it).
std::string rezip(const Seed& seed, const std::string& pickle) {
  detail::ZipWriter zip(seed.folder);
  for (const auto& [name, bytes] : seed.entries) zip.add(name, name == "data.pkl" ? pickle : bytes);
  return zip.finish();
}

// ---- mutations ----

class Mutator {
 public:
  Mutator(std::uint32_t seed, const std::vector<Seed>& seeds) : random_(seed), seeds_(seeds) {}

  std::size_t below(std::size_t count) {
    return count == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, count - 1)(random_);
  }
  char byte() { return static_cast<char>(below(256)); }

  // Whole-file mutations: what a damaged disk or a bad copy does.
  static constexpr const char* kFileKinds[] = {"flip a bit", "set bytes", "insert bytes",
                                               "delete bytes", "truncate"};
  std::string mutate_file(std::string bytes, std::size_t kind) {
    switch (kind) {
      case 0: {
        const std::size_t at = below(bytes.size());
        bytes[at] = static_cast<char>(bytes[at] ^ (1 << below(8)));
        break;
      }
      case 1:
        for (std::size_t i = 0, n = 1 + below(8); i < n; ++i) bytes[below(bytes.size())] = byte();
        break;
      case 2: {
        std::string inserted;
        for (std::size_t i = 0, n = 1 + below(16); i < n; ++i) inserted += byte();
        bytes.insert(below(bytes.size() + 1), inserted);
        break;
      }
      case 3: {
        const std::size_t at = below(bytes.size());
        bytes.erase(at, 1 + below(64));
        break;
      }
      case 4:
        bytes.resize(below(bytes.size()));
        break;
    }
    return bytes;
  }

  // Pickle mutations, opcode-aware: they keep most of the pickle well formed, so that the
  // unpickler's checks (not its first byte) meet them.
  static constexpr const char* kPickleKinds[] = {
      "replace an opcode", "change an integer", "change a memo index", "change a length",
      "duplicate a span",  "delete a span",     "move a span",         "insert opcodes",
      "swap storage keys", "splice seeds",      "flip a bit",          "swap a global"};
  std::string mutate_pickle(const std::string& pickle, std::size_t kind, std::size_t seed_index) {
    const std::vector<Token> tokens = tokenize(pickle);
    if (tokens.empty()) return random_tokens(1 + below(4));
    const Token& token = tokens[below(tokens.size())];
    const auto with = [&](const Token& at, const std::string& replacement) {
      return pickle.substr(0, at.begin) + replacement + pickle.substr(at.end);
    };
    const auto span = [&](std::size_t& first, std::size_t& last) {
      first = below(tokens.size());
      last = std::min(tokens.size(), first + 1 + below(8));  // tokens [first, last)
      return pickle.substr(tokens[first].begin, tokens[last - 1].end - tokens[first].begin);
    };
    const auto boundary = [&] {
      const std::size_t index = below(tokens.size() + 1);
      return index == tokens.size() ? pickle.size() : tokens[index].begin;
    };
    switch (kind) {
      case 0: {  // another opcode, the argument bytes left as they were
        std::string out = pickle;
        out[token.begin] = static_cast<char>(below(8) == 0 ? kUnknown[below(std::size(kUnknown))]
                                                           : kOps[below(std::size(kOps))].code);
        return out;
      }
      case 1: {  // an integer: offsets, sizes, strides, element counts, flags
        const Token* target = find(tokens, {'K', 'M', 'J', 0x8a, 0x8b});
        if (target == nullptr) return mutate_pickle(pickle, 0, seed_index);
        return with(*target, integer(interesting(value_of(pickle, *target))));
      }
      case 2: {  // a memo index (BINPUT, BINGET and their LONG forms)
        const Token* target = find(tokens, {'h', 'j', 'q', 'r'});
        if (target == nullptr) return mutate_pickle(pickle, 0, seed_index);
        const std::int64_t old = static_cast<std::int64_t>(get_le(
            std::string_view(pickle).substr(target->begin + 1, target->end - target->begin - 1)));
        const std::int64_t index = std::max<std::int64_t>(
            0, below(4) == 0 ? interesting(old) : old + static_cast<std::int64_t>(below(7)) - 3);
        const bool get = target->code == 'h' || target->code == 'j';
        std::string replacement;
        if (index < 256 && below(4) != 0) {
          replacement += get ? 'h' : 'q';
          put_le(replacement, static_cast<std::uint64_t>(index), 1);
        } else {
          replacement += get ? 'j' : 'r';
          put_le(replacement, static_cast<std::uint64_t>(index), 4);
        }
        return with(*target, replacement);
      }
      case 3: {  // the length of a string, bytes or LONG (the data left as it was)
        const Token* target = find(tokens, {'X', 'U', 'T', 'B', 'C', 0x8c, 0x8d, 0x8e, 0x8a, 0x8b});
        if (target == nullptr) return mutate_pickle(pickle, 0, seed_index);
        const Arg arg = *arg_of(target->code);
        const int width = arg == Arg::len1 || arg == Arg::long1 ? 1 : arg == Arg::len8 ? 8 : 4;
        const std::uint64_t old = get_le(std::string_view(pickle).substr(target->begin + 1, width));
        const std::uint64_t lengths[] = {old + 1,
                                         old - 1,
                                         0,
                                         old + 1 + below(16),
                                         std::uint64_t{255},
                                         std::uint64_t{0xffffffff},
                                         ~std::uint64_t{0},
                                         std::uint64_t{1} << 62};
        std::string out = pickle;
        std::string field;
        put_le(field, lengths[below(std::size(lengths))], width);
        out.replace(target->begin + 1, width, field);
        return out;
      }
      case 4: {  // a span of tokens twice
        std::size_t first = 0, last = 0;
        const std::string copy = span(first, last);
        std::string out = pickle;
        out.insert(tokens[last - 1].end, copy);
        return out;
      }
      case 5: {
        std::size_t first = 0, last = 0;
        span(first, last);
        return pickle.substr(0, tokens[first].begin) + pickle.substr(tokens[last - 1].end);
      }
      case 6: {
        std::size_t first = 0, last = 0;
        const std::string cut = span(first, last);
        std::string out =
            pickle.substr(0, tokens[first].begin) + pickle.substr(tokens[last - 1].end);
        const std::vector<Token> rest = tokenize(out);
        const std::size_t index = below(rest.size() + 1);
        out.insert(index == rest.size() ? out.size() : rest[index].begin, cut);
        return out;
      }
      case 7: {
        std::string out = pickle;
        out.insert(boundary(), random_tokens(1 + below(3)));
        return out;
      }
      case 8: {  // storage keys: two swapped, or one renamed to another record or none
        std::vector<const Token*> keys;
        for (const Token& candidate : tokens) {
          if (candidate.code == 'X' || candidate.code == 'U' || candidate.code == 0x8c) {
            if (seeds_[seed_index].record_keys.count(text_of(pickle, candidate)) != 0) {
              keys.push_back(&candidate);
            }
          }
        }
        if (keys.empty()) return mutate_pickle(pickle, 4, seed_index);
        const Token* a = keys[below(keys.size())];
        const Token* b = keys[below(keys.size())];
        if (a != b && text_of(pickle, *a) != text_of(pickle, *b) && below(2) == 0) {
          if (a->begin > b->begin) std::swap(a, b);
          return pickle.substr(0, a->begin) + string_token(text_of(pickle, *b)) +
                 pickle.substr(a->end, b->begin - a->end) + string_token(text_of(pickle, *a)) +
                 pickle.substr(b->end);
        }
        const std::set<std::string>& records = seeds_[seed_index].record_keys;
        auto other = records.begin();
        std::advance(other, below(records.size()));
        return with(*a, string_token(below(4) == 0 ? std::to_string(below(100)) : *other));
      }
      case 9: {  // a span of another seed's pickle, inserted or in place of a span
        const Seed& donor = seeds_[below(seeds_.size())];
        const std::size_t first = below(donor.tokens.size());
        const std::size_t last = std::min(donor.tokens.size(), first + 1 + below(24));
        const std::string part = donor.pickle.substr(
            donor.tokens[first].begin, donor.tokens[last - 1].end - donor.tokens[first].begin);
        if (below(2) == 0) {
          std::string out = pickle;
          out.insert(boundary(), part);
          return out;
        }
        std::size_t begin = 0, end = 0;
        span(begin, end);
        return pickle.substr(0, tokens[begin].begin) + part + pickle.substr(tokens[end - 1].end);
      }
      case 10: {
        std::string out = pickle;
        const std::size_t at = below(out.size());
        out[at] = static_cast<char>(out[at] ^ (1 << below(8)));
        return out;
      }
      case 11: {  // a GLOBAL naming another allowed (or forbidden) global
        const Token* target = find(tokens, {'c'});
        if (target == nullptr) return mutate_pickle(pickle, 7, seed_index);
        return with(*target, random_global());
      }
    }
    return pickle;
  }

 private:
  // A random token of `codes`, or nullptr when there is none.
  const Token* find(const std::vector<Token>& tokens, std::initializer_list<unsigned char> codes) {
    std::vector<const Token*> found;
    for (const Token& token : tokens) {
      for (unsigned char code : codes) {
        if (!token.raw && token.code == code) found.push_back(&token);
      }
    }
    return found.empty() ? nullptr : found[below(found.size())];
  }

  static std::string text_of(const std::string& pickle, const Token& token) {
    const std::size_t width = token.code == 'X' ? 4 : 1;
    return pickle.substr(token.begin + 1 + width, token.end - token.begin - 1 - width);
  }

  static std::int64_t value_of(const std::string& pickle, const Token& token) {
    const std::string_view arg = std::string_view(pickle).substr(token.begin + 1);
    switch (token.code) {
      case 'K':
        return static_cast<unsigned char>(arg[0]);
      case 'M':
        return static_cast<std::int64_t>(get_le(arg.substr(0, 2)));
      case 'J':
        return static_cast<std::int32_t>(get_le(arg.substr(0, 4)));
      default: {  // LONG1, LONG4: the low bytes will do
        const std::size_t width = token.code == 0x8a ? 1 : 4;
        const std::size_t count = std::min<std::size_t>(8, token.end - token.begin - 1 - width);
        return static_cast<std::int64_t>(get_le(arg.substr(width, count)));
      }
    }
  }

  // Values near the old one and at the edges of every width (wrapping, not overflowing).
  std::int64_t interesting(std::int64_t old) {
    const auto wrap = [](std::uint64_t value) { return static_cast<std::int64_t>(value); };
    const std::uint64_t bits = static_cast<std::uint64_t>(old);
    const std::int64_t values[] = {wrap(bits + 1),
                                   wrap(bits - 1),
                                   0,
                                   1,
                                   -1,
                                   2,
                                   3,
                                   wrap(bits * 2),
                                   wrap(bits + below(8)),
                                   static_cast<std::int64_t>(below(64)),
                                   INT32_MAX,
                                   std::int64_t{1} << 32,
                                   std::int64_t{1} << 62,
                                   INT64_MAX,
                                   INT64_MIN,
                                   wrap(0 - bits)};
    return values[below(std::size(values))];
  }

  // An integer opcode, in any of the widths a writer might choose.
  std::string integer(std::int64_t value) {
    std::string out;
    if (value >= 0 && value < 256 && below(4) != 0) {
      out += 'K';
      put_le(out, static_cast<std::uint64_t>(value), 1);
    } else if (value >= 0 && value < 65536 && below(2) == 0) {
      out += 'M';
      put_le(out, static_cast<std::uint64_t>(value), 2);
    } else if (value >= INT32_MIN && value <= INT32_MAX && below(4) != 0) {
      out += 'J';
      put_le(out, static_cast<std::uint64_t>(value), 4);
    } else if (below(2) == 0) {
      out += '\x8a';
      out += '\x08';
      put_le(out, static_cast<std::uint64_t>(value), 8);
    } else {
      out += '\x8b';
      put_le(out, 8, 4);
      put_le(out, static_cast<std::uint64_t>(value), 8);
    }
    return out;
  }

  static std::string string_token(const std::string& text) {
    std::string out = "X";
    put_le(out, text.size(), 4);
    return out + text;
  }

  std::string random_global() {
    static const char* const kGlobals[][2] = {{"collections", "OrderedDict"},
                                              {"torch._utils", "_rebuild_tensor_v2"},
                                              {"torch._utils", "_rebuild_parameter"},
                                              {"torch", "Size"},
                                              {"_codecs", "encode"},
                                              {"torch", "FloatStorage"},
                                              {"torch", "DoubleStorage"},
                                              {"torch", "HalfStorage"},
                                              {"torch", "BFloat16Storage"},
                                              {"torch", "LongStorage"},
                                              {"torch", "IntStorage"},
                                              {"torch", "ShortStorage"},
                                              {"torch", "CharStorage"},
                                              {"torch", "ByteStorage"},
                                              {"torch", "BoolStorage"},
                                              {"torch.jit._pickle", "restore_type_tag"},
                                              {"torch.jit._pickle", "build_intlist"},
                                              {"__torch__", "Evil"},
                                              {"__torch__.torch.nn.Module", "Linear"},
                                              {"os", "system"},
                                              {"builtins", "eval"}};
    const auto& global = kGlobals[below(std::size(kGlobals))];
    return std::string("c") + global[0] + "\n" + global[1] + "\n";
  }

  // Well-formed opcodes with plausible arguments.
  std::string random_tokens(std::size_t count) {
    static const char* const kTexts[] = {"storage",   "cpu",      "0",       "1",
                                         "2",         "model",    "fitreel", "0.weight",
                                         "_metadata", "training", "",        "k"};
    std::string out;
    for (std::size_t i = 0; i < count; ++i) {
      if (below(10) == 0) {
        out += static_cast<char>(kUnknown[below(std::size(kUnknown))]);
        continue;
      }
      const Op& op = kOps[below(std::size(kOps))];
      switch (op.arg) {
        case Arg::none:
          out += static_cast<char>(op.code);
          break;
        case Arg::u1:
        case Arg::u2:
        case Arg::u4:
          if (op.code == 'K' || op.code == 'M' || op.code == 'J') {
            out += integer(interesting(static_cast<std::int64_t>(below(8))));
          } else {
            out += static_cast<char>(op.code);
            put_le(out, below(op.code == 0x80 ? 8 : 24), op.arg == Arg::u1 ? 1 : 4);
          }
          break;
        case Arg::f8:
          out += static_cast<char>(op.code);
          for (int b = 0; b < 8; ++b) out += byte();
          break;
        case Arg::frame:
          out += static_cast<char>(op.code);
          put_le(out, below(64), 8);
          break;
        case Arg::len1:
        case Arg::len4:
        case Arg::len8: {
          const std::string text = kTexts[below(std::size(kTexts))];
          out += static_cast<char>(op.code);
          put_le(out, text.size(), op.arg == Arg::len1 ? 1 : op.arg == Arg::len4 ? 4 : 8);
          out += text;
          break;
        }
        case Arg::long1:
        case Arg::long4:
          out += integer(interesting(static_cast<std::int64_t>(below(8))));
          break;
        case Arg::lines:
          out += random_global();
          break;
      }
    }
    return out;
  }

  std::mt19937 random_;
  const std::vector<Seed>& seeds_;
};

// ---- checks ----

// The values a tensor of `type` may hold when it was read from one of `sentinels`' records:
// each record's bytes read as `type` (a mutant may change a storage's type).
std::vector<double> allowed_values(const std::vector<float>& sentinels, torch::ScalarType type) {
  std::vector<double> allowed;
  for (float value : sentinels) {
    const float pattern[2] = {value, value};
    const bool boolean = type == torch::kBool;
    const torch::ScalarType read_as = boolean ? torch::kUInt8 : type;
    const std::int64_t count = 8 / static_cast<std::int64_t>(c10::elementSize(read_as));
    torch::Tensor reinterpreted = torch::from_blob(const_cast<float*>(pattern), {count},
                                                   torch::TensorOptions().dtype(read_as));
    if (boolean) reinterpreted = reinterpreted.ne(0);
    reinterpreted = reinterpreted.to(torch::kFloat64).contiguous();
    for (std::int64_t i = 0; i < count; ++i) allowed.push_back(reinterpreted.data_ptr<double>()[i]);
  }
  return allowed;
}

// Empty when every value of `tensor` is one its records could give; otherwise what is wrong.
std::string outside_values(const torch::Tensor& tensor, const std::vector<float>& sentinels) {
  const std::vector<double> allowed = allowed_values(sentinels, tensor.scalar_type());
  const torch::Tensor values = tensor.to(torch::kFloat64).contiguous();
  const double* data = values.data_ptr<double>();
  for (std::int64_t i = 0; i < values.numel(); ++i) {
    bool found = false;
    for (double value : allowed) {
      found = found || value == data[i] || (std::isnan(value) && std::isnan(data[i]));
    }
    if (!found) {
      return "value " + std::to_string(data[i]) + " (" + c10::toString(tensor.scalar_type()) +
             ") at element " + std::to_string(i) + " comes from no record";
    }
  }
  // One record holds one value: a float32 view of it holds nothing else.
  if (tensor.scalar_type() == torch::kFloat32 && values.numel() > 1 &&
      !values.eq(values.flatten()[0]).all().item<bool>()) {
    return "a float32 tensor with values of two records";
  }
  return "";
}

struct Counts {
  int cases = 0, read = 0, loaded_into_model = 0, shapes_differ = 0, refused = 0,
      refused_in_pickle = 0, refused_crc = 0;
  Counts& operator+=(const Counts& other) {
    cases += other.cases;
    read += other.read;
    loaded_into_model += other.loaded_into_model;
    shapes_differ += other.shapes_differ;
    refused += other.refused;
    refused_in_pickle += other.refused_in_pickle;
    refused_crc += other.refused_crc;
    return *this;
  }
};

void print(const std::string& name, const Counts& counts) {
  std::cout << name << ": " << counts.cases << " cases, " << counts.read << " read ("
            << counts.loaded_into_model << " loaded into a model, " << counts.shapes_differ
            << " of other shapes), " << counts.refused << " refused (" << counts.refused_in_pickle
            << " by the unpickler, " << counts.refused_crc << " by CRC)\n";
}

class CheckpointFuzz : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new ScratchFolder();
    seeds_ = new std::vector<Seed>(make_seeds(*dir_));
  }
  static void TearDownTestSuite() {
    delete seeds_;
    delete dir_;
  }

  // Reads (and where the shapes fit, loads) the mutant at `path`; counts what happened.
  void check(const fs::path& path, const Seed& seed, const std::string& what, Counts& counts) {
    ++counts.cases;
    std::optional<detail::CheckpointTensors> read;
    try {
      read = detail::read_checkpoint_tensors(path.string());
    } catch (const CheckpointError& error) {
      const std::string message = error.what();
      EXPECT_EQ(message.find('\n'), std::string::npos) << what << ": " << message;
      EXPECT_NE(message.find(path.string()), std::string::npos) << what << ": " << message;
      ++counts.refused;
      if (message.find("data.pkl at byte") != std::string::npos) ++counts.refused_in_pickle;
      if (message.find("CRC error") != std::string::npos) ++counts.refused_crc;
      return;
    } catch (const std::exception& error) {
      ADD_FAILURE() << what << ": not a CheckpointError: " << error.what();
      return;
    }
    ++counts.read;
    std::map<std::string, torch::Tensor> by_name;
    for (const auto& [name, tensor] : read->tensors) {
      const std::string wrong = outside_values(tensor, seed.sentinels);
      EXPECT_EQ(wrong, "") << what << ": " << name;
      by_name[name] = tensor;
    }

    // Into a model: where every name and shape fits, it loads exactly what was read.
    torch::nn::Sequential model = make_net(kSpec);
    {
      torch::NoGradGuard no_grad;
      for (auto& parameter : model->parameters()) parameter.fill_(-7.0f);  // no sentinel
    }
    bool fits = by_name.size() == read->tensors.size() &&
                by_name.size() == model->named_parameters().size();
    for (const auto& parameter : model->named_parameters()) {
      const auto found = by_name.find(parameter.key());
      fits = fits && found != by_name.end() && found->second.sizes() == parameter.value().sizes();
    }
    try {
      load_checkpoint(model, path.string());
      EXPECT_TRUE(fits) << what << ": loaded a file that does not fit";
      ++counts.loaded_into_model;
      for (const auto& parameter : model->named_parameters()) {
        const torch::Tensor expected = by_name.at(parameter.key()).to(torch::kFloat32);
        EXPECT_TRUE(torch::equal(parameter.value(), expected)) << what << ": " << parameter.key();
        if (by_name.at(parameter.key()).scalar_type() == torch::kFloat32) {
          EXPECT_EQ(outside_values(parameter.value(), seed.sentinels), "") << what;
        }
      }
    } catch (const CheckpointError& error) {
      const std::string message = error.what();
      EXPECT_FALSE(fits) << what << ": refused a file that fits: " << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << what << ": " << message;
      EXPECT_NE(message.find(path.string() + " does not fit this model"), std::string::npos)
          << what << ": " << message;
      ++counts.shapes_differ;
    } catch (const std::exception& error) {
      ADD_FAILURE() << what << ": load_checkpoint threw " << error.what();
    }
  }

  static ScratchFolder* dir_;
  static std::vector<Seed>* seeds_;
};

ScratchFolder* CheckpointFuzz::dir_ = nullptr;
std::vector<Seed>* CheckpointFuzz::seeds_ = nullptr;

// The harness itself: each seed, as written and zipped again, loads its sentinels and only
// them, into a model of its shape.
TEST_F(CheckpointFuzz, SeedsLoadTheirSentinels) {
  ASSERT_EQ(seeds_->size(), 3U);
  const fs::path path = *dir_ / "seed.pt";
  for (std::size_t s = 0; s < seeds_->size(); ++s) {
    const Seed& seed = (*seeds_)[s];
    SCOPED_TRACE(seed.name);
    EXPECT_GE(seed.sentinels.size(), 3U);
    std::set<float> distinct(seed.sentinels.begin(), seed.sentinels.end());
    EXPECT_EQ(distinct.size(), seed.sentinels.size()) << "two records share a sentinel";
    for (const std::string& file : {seed.file, rezip(seed, seed.pickle)}) {
      write_bytes(path, file);
      const detail::CheckpointTensors read = detail::read_checkpoint_tensors(path.string());
      EXPECT_EQ(read.tensors.size(), 4U);
      for (const auto& [name, tensor] : read.tensors) {
        EXPECT_EQ(tensor.scalar_type(), torch::kFloat32);
        EXPECT_EQ(outside_values(tensor, seed.sentinels), "") << name;
        EXPECT_TRUE(distinct.count(tensor.flatten()[0].item<float>())) << name;
      }
      Counts counts;
      check(path, seed, seed.name, counts);
      EXPECT_EQ(counts.loaded_into_model, 1);
    }
  }
  // The check is not vacuous: a value of another seed's record is caught.
  EXPECT_NE(outside_values(torch::full({2}, sentinel(1, 0)), (*seeds_)[0].sentinels), "");
  EXPECT_NE(outside_values(torch::tensor({sentinel(0, 0), sentinel(0, 1)}), (*seeds_)[0].sentinels),
            "");
}

TEST_F(CheckpointFuzz, FiveThousandMutantsAreRefusedInOneLineOrReadOnlyTheirRecords) {
  Mutator mutator(kRandomSeed, *seeds_);
  const fs::path path = *dir_ / "mutant.pt";
  Counts whole_file, in_pickle;
  std::map<std::string, Counts> by_kind;
  int kept = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kCases; ++i) {
    const std::size_t s = static_cast<std::size_t>(i) % seeds_->size();
    const Seed& seed = (*seeds_)[s];
    std::string kind;
    if (i % 10 < 3) {
      const std::size_t mutation = mutator.below(std::size(Mutator::kFileKinds));
      kind = std::string("file: ") + Mutator::kFileKinds[mutation];
      write_bytes(path, mutator.mutate_file(seed.file, mutation));
    } else {
      // One to three opcode-aware edits of data.pkl, then zipped again (valid CRCs).
      std::string pickle = seed.pickle;
      for (std::size_t edits = 1 + mutator.below(3), e = 0; e < edits; ++e) {
        const std::size_t mutation = mutator.below(std::size(Mutator::kPickleKinds));
        if (e == 0) kind = std::string("data.pkl: ") + Mutator::kPickleKinds[mutation];
        pickle = mutator.mutate_pickle(pickle, mutation, s);
      }
      write_bytes(path, rezip(seed, pickle));
    }
    const std::string what = "case " + std::to_string(i) + " (" + seed.name + ", " + kind + ")";
    const ::testing::TestResult& result =
        *::testing::UnitTest::GetInstance()->current_test_info()->result();
    const int failures_before = result.total_part_count();
    Counts counts;
    check(path, seed, what, counts);
    (i % 10 < 3 ? whole_file : in_pickle) += counts;
    by_kind[kind] += counts;
    if (result.total_part_count() > failures_before && kept < 5) {
      // Kept for a rerun: fitreel's CLI or a debugger can open it.
      const fs::path keep =
          fs::temp_directory_path() / ("fitreel-fuzz-case-" + std::to_string(i) + ".pt");
      fs::copy_file(path, keep, fs::copy_options::overwrite_existing);
      std::cout << what << " failed; kept as " << keep.string() << "\n";
      ++kept;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  for (const auto& [kind, counts] : by_kind) print("  " + kind + " (first edit)", counts);
  print("whole-file mutants", whole_file);
  print("data.pkl mutants", in_pickle);
  std::cout << kCases << " cases in " << seconds << " s: " << kCases / seconds << " cases/s\n";
  RecordProperty("seconds", std::to_string(seconds));
  RecordProperty("read", whole_file.read + in_pickle.read);
  RecordProperty("refused", whole_file.refused + in_pickle.refused);

  EXPECT_EQ(whole_file.cases + in_pickle.cases, kCases);
  // Damage to the file: libzip refuses almost all of it before the unpickler sees it (these
  // archives are small, so most damage meets their headers; about one refusal in ten is a CRC).
  EXPECT_GT(whole_file.refused, whole_file.cases * 9 / 10);
  EXPECT_GT(whole_file.refused_crc, whole_file.cases / 20);
  EXPECT_EQ(whole_file.refused_in_pickle, 0);
  // Edits of data.pkl get past libzip: most are refused by the unpickler itself (about 93%
  // with this seed), and enough are read for the sentinel checks to mean something (about 7%).
  EXPECT_EQ(in_pickle.refused_crc, 0);
  EXPECT_GT(in_pickle.refused_in_pickle, in_pickle.cases * 8 / 10);
  EXPECT_GT(in_pickle.read, in_pickle.cases / 25);
  EXPECT_GT(in_pickle.loaded_into_model, in_pickle.cases / 40);
  EXPECT_LT(seconds, 180.0) << "the fuzz run's budget under ASan + UBSan on 2 cores";
}

}  // namespace
}  // namespace fitreel
