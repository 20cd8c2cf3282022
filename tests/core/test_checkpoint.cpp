// Checkpoints: a round trip, and damaged files (seeded mutations of a real checkpoint) that
// are either loaded unchanged or refused with one line, never a crash or changed weights.
#include <fitreel/checkpoint.hpp>
#include <fitreel/model.hpp>

#include "scratch_folder.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace fitreel {
namespace {

namespace fs = std::filesystem;
using testing_support::read_bytes;
using testing_support::ScratchFolder;
using testing_support::write_bytes;

const NetSpec kSpec{{16, 16}, Activation::tanh};  // tensor records of 4 to 1024 bytes

torch::nn::Sequential seeded_net(uint64_t seed) {
  torch::manual_seed(seed);
  return make_net(kSpec);
}

bool same_parameters(const torch::nn::Sequential& a, const torch::nn::Sequential& b) {
  const auto left = a->parameters();
  const auto right = b->parameters();
  if (left.size() != right.size()) return false;
  for (std::size_t i = 0; i < left.size(); ++i) {
    if (!torch::equal(left[i], right[i])) return false;
  }
  return true;
}

// Where each tensor record's bytes lie in the file. LibTorch writes data descriptors (sizes 0
// in the local headers), so the sizes come from the central directory.
struct Span {
  std::size_t begin;
  std::size_t size;
};
std::vector<Span> tensor_records(const std::string& zip) {
  const auto u16 = [&](std::size_t at) {
    return static_cast<std::size_t>(static_cast<unsigned char>(zip[at]) |
                                    static_cast<unsigned char>(zip[at + 1]) << 8);
  };
  const auto u32 = [&](std::size_t at) { return u16(at) | u16(at + 2) << 16; };
  std::vector<Span> records;
  std::size_t at = u32(zip.rfind("PK\x05\x06") + 16);
  while (zip.compare(at, 4, "PK\x01\x02") == 0) {
    const std::size_t name_size = u16(at + 28);
    const std::string name = zip.substr(at + 46, name_size);
    const std::size_t local = u32(at + 42);
    if (name.find("/data/") != std::string::npos && name.find(".pkl") == std::string::npos) {
      records.push_back({local + 30 + u16(local + 26) + u16(local + 28), u32(at + 20)});
    }
    at += 46 + name_size + u16(at + 30) + u16(at + 32);
  }
  return records;
}

class Checkpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    save_checkpoint(saved_, describe(kSpec), good_.string());
    good_bytes_ = read_bytes(good_);
  }
  ScratchFolder dir_;
  fs::path good_ = dir_ / "good.pt";
  torch::nn::Sequential saved_ = seeded_net(1);
  std::string good_bytes_;
};

TEST_F(Checkpoint, RoundTripRestoresEveryParameter) {
  verify_checkpoint(good_.string());
  torch::nn::Sequential loaded = seeded_net(2);
  ASSERT_FALSE(same_parameters(loaded, saved_));
  load_checkpoint(loaded, describe(kSpec), good_.string());
  EXPECT_TRUE(same_parameters(loaded, saved_));
}

TEST_F(Checkpoint, SaveReplacesTheFileWholeAndLeavesNoTemporaryFile) {
  torch::nn::Sequential other = seeded_net(3);
  save_checkpoint(other, describe(kSpec), good_.string());
  torch::nn::Sequential loaded = seeded_net(2);
  load_checkpoint(loaded, describe(kSpec), good_.string());
  EXPECT_TRUE(same_parameters(loaded, other));
  EXPECT_EQ(std::distance(fs::directory_iterator(good_.parent_path()), fs::directory_iterator()),
            1);
}

TEST_F(Checkpoint, AFailedSaveThrowsOneLineNamingTheFile) {
  const std::string target = (dir_ / "no/such/folder/m.pt").string();
  try {
    save_checkpoint(saved_, describe(kSpec), target);
    FAIL() << "saved into a missing folder";
  } catch (const files::WriteError& error) {
    EXPECT_EQ(std::string(error.what()), "cannot write " + target + ": No such file or directory");
  }
}

// LibTorch's reader has CRC checks off: before, every one of these loaded a changed weight.
TEST_F(Checkpoint, AFlippedByteInAnyTensorRecordIsACrcError) {
  const std::vector<Span> records = tensor_records(good_bytes_);
  ASSERT_EQ(records.size(), 6U) << "three Linear layers: weight and bias each";
  const fs::path bad = dir_ / "bad.pt";
  int refused = 0;
  for (const Span& record : records) {
    for (std::size_t at = record.begin; at < record.begin + record.size; at += 7) {
      std::string bytes = good_bytes_;
      bytes[at] = static_cast<char>(bytes[at] ^ 0x01);
      write_bytes(bad, bytes);
      torch::nn::Sequential model = seeded_net(2);
      try {
        load_checkpoint(model, describe(kSpec), bad.string());
        ADD_FAILURE() << "loaded with a flipped byte at offset " << at;
      } catch (const CheckpointError& error) {
        EXPECT_NE(std::string(error.what()).find("CRC error in entry"), std::string::npos)
            << error.what();
        ++refused;
      }
    }
  }
  EXPECT_GT(refused, 100);
}

TEST_F(Checkpoint, OnlyRegularFilesAreOpened) {
  const fs::path fifo = dir_ / "fifo.pt";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Opening a FIFO without a writer would block: reaching the assertion proves it was not.
  EXPECT_THROW(verify_checkpoint(fifo.string()), CheckpointError);
  EXPECT_THROW(verify_checkpoint(dir_ / "."), CheckpointError);
  EXPECT_THROW(verify_checkpoint("/dev/zero"), CheckpointError);
  try {
    verify_checkpoint(fifo.string());
  } catch (const CheckpointError& error) {
    EXPECT_EQ(std::string(error.what()), fifo.string() + " is a FIFO, not a checkpoint file");
  }
}

TEST_F(Checkpoint, AFileOverTheCapIsRefusedUnread) {
  const fs::path huge = dir_ / "huge.pt";
  write_bytes(huge, good_bytes_);
  fs::resize_file(huge, kMaxCheckpointBytes + 1);  // sparse: costs no disk
  try {
    verify_checkpoint(huge.string());
    FAIL() << "accepted a file over the cap";
  } catch (const CheckpointError& error) {
    EXPECT_NE(std::string(error.what()).find("too large"), std::string::npos) << error.what();
  }
}

enum class Mutation { flip_byte, set_random_bytes, truncate, insert_bytes };
constexpr const char* kMutationNames[] = {"flip a byte", "set random bytes", "truncate",
                                          "insert bytes"};

std::string mutate(const std::string& good, Mutation mutation, std::mt19937& random) {
  std::string bytes = good;
  const auto offset = [&](std::size_t size) {
    return std::uniform_int_distribution<std::size_t>(0, size - 1)(random);
  };
  const auto byte = [&] {
    return static_cast<char>(std::uniform_int_distribution<int>(0, 255)(random));
  };
  switch (mutation) {
    case Mutation::flip_byte: {
      const std::size_t at = offset(bytes.size());
      bytes[at] = static_cast<char>(bytes[at] ^ (1 << (random() % 8)));
      break;
    }
    case Mutation::set_random_bytes: {
      const int count = 1 + static_cast<int>(random() % 8);
      for (int i = 0; i < count; ++i) {
        bytes[offset(bytes.size())] = byte();
      }
      break;
    }
    case Mutation::truncate:
      bytes.resize(offset(bytes.size()));
      break;
    case Mutation::insert_bytes: {
      const std::size_t count = 1 + random() % 16;
      std::string inserted;
      for (std::size_t i = 0; i < count; ++i) inserted += byte();
      bytes.insert(offset(bytes.size() + 1), inserted);
      break;
    }
  }
  return bytes;
}

// Every mutant either loads the very parameters saved or is refused with one line naming the
// file; a crash kills the test program. About 0.5 ms a mutant, so quick under ASan too.
TEST_F(Checkpoint, SeededMutationsLoadUnchangedOrAreRefusedInOneLine) {
  constexpr int kMutants = 1000;
  std::mt19937 random(20261128);
  const fs::path bad = dir_ / "mutant.pt";
  int identical[4] = {}, refused[4] = {};
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kMutants; ++i) {
    const auto mutation = static_cast<Mutation>(i % 4);
    write_bytes(bad, mutate(good_bytes_, mutation, random));
    torch::nn::Sequential model = seeded_net(2);
    try {
      load_checkpoint(model, describe(kSpec), bad.string());
      EXPECT_TRUE(same_parameters(model, saved_))
          << "mutant " << i << " (" << kMutationNames[i % 4] << ") loaded changed weights";
      ++identical[i % 4];
    } catch (const CheckpointError& error) {
      const std::string message = error.what();
      EXPECT_EQ(message.find('\n'), std::string::npos) << "mutant " << i << ": " << message;
      EXPECT_NE(message.find(bad.string()), std::string::npos) << "mutant " << i << ": " << message;
      ++refused[i % 4];
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int total_refused = 0;
  for (int kind = 0; kind < 4; ++kind) {
    std::cout << kMutationNames[kind] << ": " << identical[kind] << " loaded identical, "
              << refused[kind] << " refused\n";
    total_refused += refused[kind];
  }
  std::cout << kMutants << " mutants in " << seconds << " s\n";
  RecordProperty("refused", total_refused);
  RecordProperty("identical", kMutants - total_refused);
  EXPECT_GT(total_refused, kMutants / 2);
}

}  // namespace
}  // namespace fitreel
