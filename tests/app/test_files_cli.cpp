// Files a user cannot afford to lose: full disks (a small tmpfs; CI runs as root) and damaged
// checkpoints given to --load-model. Each drives the real binary.
#include "process.hpp"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

namespace fitreel {
namespace {

namespace fs = std::filesystem;
using testing::lines_of;
using testing::read_file;
using testing::run;
using testing::TempDir;

const std::string kFitreel = FITREEL_EXE;

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::set<std::string> names_in(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

// stderr without the log's "[info]" lines: what a failed run says.
std::vector<std::string> complaints(const std::string& err) {
  std::vector<std::string> lines = lines_of(err);
  lines.erase(std::remove_if(lines.begin(), lines.end(),
                             [](const std::string& line) { return line.rfind("[info]", 0) == 0; }),
              lines.end());
  return lines;
}

// A tmpfs of `size` mounted on a fresh folder, unmounted at the end.
class SmallDisk {
 public:
  explicit SmallDisk(const std::string& size) : path_(dir_ / "disk") {
    fs::create_directory(path_);
    const std::string options = "size=" + size;
    mounted_ = ::mount("tmpfs", path_.c_str(), "tmpfs", 0, options.c_str()) == 0;
    if (!mounted_) {
      ADD_FAILURE() << "cannot mount a " << size << " tmpfs on " << path_ << ": "
                    << std::strerror(errno) << " (these tests need root, as CI runs them)";
    }
  }
  ~SmallDisk() {
    if (mounted_) {
      ::umount2(path_.c_str(), MNT_DETACH);
    }
  }
  bool mounted() const { return mounted_; }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

  // Fills what is left with a file named "filler".
  void fill() {
    std::ofstream filler(*this / "filler", std::ios::binary);
    const std::string block(4096, '\0');
    while (filler.write(block.data(), block.size()) && filler.flush()) {
    }
  }

 private:
  TempDir dir_;
  std::string path_;
  bool mounted_ = false;
};

TEST(FullDisk, SaveModelFailsInOneLineAndKeepsTheEarlierCheckpoint) {
  SmallDisk disk("256k");
  ASSERT_TRUE(disk.mounted());
  TempDir out;
  const std::string model = disk / "m.pt";
  ASSERT_EQ(run(kFitreel, {"net", "--epochs", "5", "--video", "none", "--save-model", model,
                           "--out", out / "a"})
                .exit_code,
            0);
  const std::string good = read_file(model);
  ASSERT_FALSE(good.empty());
  disk.fill();

  const auto result = run(kFitreel, {"net", "--epochs", "5", "--video", "none", "--save-model",
                                     model, "--out", out / "b"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  const std::vector<std::string> said = complaints(result.err);
  ASSERT_EQ(said.size(), 1U) << result.err;
  EXPECT_EQ(said[0], "fitreel: error: cannot write " + model + ": No space left on device");
  EXPECT_EQ(result.err.find("saved the model"), std::string::npos) << result.err;
  EXPECT_EQ(read_file(model), good) << "the earlier checkpoint must be untouched";
  EXPECT_EQ(names_in(disk.path()), (std::set<std::string>{"filler", "m.pt"}));

  const auto loaded = run(kFitreel, {"net", "--epochs", "2", "--video", "none", "--load-model",
                                     model, "--out", out / "c"});
  EXPECT_EQ(loaded.exit_code, 0) << loaded.err;
}

TEST(FullDisk, OutOnAFullDiskFailsInOneLineAndLeavesNothing) {
  SmallDisk disk("64k");
  ASSERT_TRUE(disk.mounted());
  disk.fill();
  const auto result =
      run(kFitreel, {"line", "--epochs", "5", "--video", "none", "--out", disk.path()});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  const std::vector<std::string> said = complaints(result.err);
  ASSERT_EQ(said.size(), 1U) << result.err;
  EXPECT_EQ(said[0].rfind("fitreel: error: cannot write " + disk.path() + "/", 0), 0U) << said[0];
  EXPECT_NE(said[0].find(": No space left on device"), std::string::npos) << said[0];
  EXPECT_EQ(result.err.find("libpng"), std::string::npos) << result.err;
  EXPECT_EQ(names_in(disk.path()), (std::set<std::string>{"filler"}))
      << "no staging folder left (and no lock file: fitreel locks the folder itself)";
}

// ---- Damaged checkpoints given to --load-model ----

std::uint32_t u16(const std::string& bytes, std::size_t at) {
  return static_cast<unsigned char>(bytes[at]) | static_cast<unsigned char>(bytes[at + 1]) << 8;
}
std::uint32_t u32(const std::string& bytes, std::size_t at) {
  return u16(bytes, at) | u16(bytes, at + 2) << 16;
}

// Where the parts of a ZIP file lie. LibTorch writes data descriptors (sizes 0 in the local
// headers), so entries are found through the central directory.
struct ZipEntry {
  std::string name;
  std::size_t header;  // local header
  std::size_t data;
  std::size_t size;  // stored bytes
};
struct ZipLayout {
  std::vector<ZipEntry> entries;
  std::size_t central;     // central directory
  std::size_t end_of_dir;  // end-of-central-directory record
  std::size_t zip64_end;   // its Zip64 twin, which readers use where present (LibTorch writes one)
};

ZipLayout layout_of(const std::string& zip) {
  ZipLayout layout{};
  layout.end_of_dir = zip.rfind("PK\x05\x06");
  layout.zip64_end = zip.rfind("PK\x06\x06");
  layout.central = u32(zip, layout.end_of_dir + 16);
  std::size_t at = layout.central;
  while (zip.compare(at, 4, "PK\x01\x02") == 0) {
    const std::size_t name_size = u16(zip, at + 28);
    const std::size_t local = u32(zip, at + 42);
    layout.entries.push_back({zip.substr(at + 46, name_size), local,
                              local + 30 + u16(zip, local + 26) + u16(zip, local + 28),
                              u32(zip, at + 20)});
    at += 46 + name_size + u16(zip, at + 30) + u16(zip, at + 32);
  }
  return layout;
}

const ZipEntry& entry_named(const ZipLayout& layout, const std::string& suffix) {
  for (const ZipEntry& entry : layout.entries) {
    if (entry.name.size() >= suffix.size() &&
        entry.name.compare(entry.name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return entry;
    }
  }
  throw std::runtime_error("no entry " + suffix);
}

std::uint32_t crc32_of(const std::string& bytes) {
  std::uint32_t crc = 0xFFFFFFFFU;
  for (const char c : bytes) {
    crc ^= static_cast<unsigned char>(c);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc >> 1) ^ (0xEDB88320U & (0U - (crc & 1U)));
    }
  }
  return ~crc;
}

std::string le(std::uint32_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
  return out;
}

// A valid ZIP archive of one stored text file: a ZIP, but not a checkpoint.
std::string zip_of_a_text_file() {
  const std::string name = "notes.txt";
  const std::string text = "shopping list: milk, bread\n";
  const std::string sizes = le(crc32_of(text), 4) + le(text.size(), 4) + le(text.size(), 4);
  const std::string local = "PK\x03\x04" + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + sizes +
                            le(name.size(), 2) + le(0, 2) + name + text;
  const std::string central = "PK\x01\x02" + le(20, 2) + le(20, 2) + le(0, 2) + le(0, 2) +
                              le(0, 4) + sizes + le(name.size(), 2) + le(0, 2) + le(0, 2) +
                              le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4) + name;
  return local + central + "PK\x05\x06" + le(0, 4) + le(1, 2) + le(1, 2) + le(central.size(), 4) +
         le(local.size(), 4) + le(0, 2);
}

struct Damage {
  std::string name;
  std::string says;  // part of the one line expected
};

void PrintTo(const Damage& damage, std::ostream* out) { *out << damage.name; }

std::string flipped(std::string bytes, std::size_t at) {
  bytes.at(at) = static_cast<char>(bytes[at] ^ 0x01);
  return bytes;
}

// Writes the damaged file for `name` (made from the good checkpoint) and returns its path.
std::string make_damaged(const std::string& name, const std::string& good, const TempDir& dir) {
  const std::string path = dir / "damaged.pt";
  const ZipLayout zip = layout_of(good);
  const auto record = [&](const std::string& suffix) { return entry_named(zip, suffix); };
  std::string bytes;
  if (name.rfind("FlipFirstByteOfData", 0) == 0) {
    bytes = flipped(good, record("data/" + name.substr(19)).data);
  } else if (name.rfind("FlipLastByteOfData", 0) == 0) {
    const ZipEntry entry = record("data/" + name.substr(18));
    bytes = flipped(good, entry.data + entry.size - 1);
  } else if (name == "FlipInDataPkl") {
    bytes = flipped(good, record("data.pkl").data + 40);
  } else if (name == "FlipInByteorder") {
    bytes = flipped(good, record("byteorder").data);
  } else if (name == "FlipInVersion") {
    bytes = flipped(good, record("version").data);
  } else if (name == "FlipLocalSignature") {
    bytes = flipped(good, 0);
  } else if (name == "FlipLocalCrc") {
    bytes = flipped(good, zip.entries[0].header + 14);
  } else if (name == "FlipLocalSize") {
    bytes = flipped(good, zip.entries[0].header + 18);
  } else if (name == "FlipLocalNameLength") {
    bytes = flipped(good, zip.entries[0].header + 26);
  } else if (name == "FlipLocalName") {
    bytes = flipped(good, zip.entries[0].header + 31);
  } else if (name == "FlipCentralSignature") {
    bytes = flipped(good, zip.central);
  } else if (name == "FlipCentralName") {
    bytes = flipped(good, zip.central + 47);
  } else if (name == "FlipCentralOffset") {
    bytes = flipped(good, zip.central + 42);  // where the first entry's local header is
  } else if (name == "FlipZip64EntryCount") {
    bytes = flipped(good, zip.zip64_end + 32);
  } else if (name == "FlipZip64DirectoryOffset") {
    bytes = flipped(good, zip.zip64_end + 48);
  } else if (name == "FlipZip64Locator") {
    bytes = flipped(good, zip.end_of_dir - 12);  // the locator's offset of the Zip64 record
  } else if (name == "FlipEndSignature") {
    bytes = flipped(good, zip.end_of_dir);
  } else if (name.rfind("TruncateTo", 0) == 0) {
    const std::string keep = name.substr(10);
    const std::size_t size = keep == "Half"          ? good.size() / 2
                             : keep == "AllButOne"   ? good.size() - 1
                             : keep == "NoEndRecord" ? zip.end_of_dir
                                                     : std::stoul(keep);
    bytes = good.substr(0, size);
  } else if (name == "InsertAtStart") {
    bytes = "garbage!" + good;
  } else if (name == "InsertInTheMiddle") {
    bytes = good;
    bytes.insert(good.size() / 2, "garbage!");
  } else if (name == "ZipOfATextFile") {
    bytes = zip_of_a_text_file();
  } else if (name == "TextFile") {
    bytes = "these are not the weights you are looking for\n";
  } else if (name == "Folder") {
    fs::create_directory(path);
    return path;
  } else if (name == "Fifo") {
    ::mkfifo(path.c_str(), 0600);
    return path;
  } else if (name == "Device") {
    return "/dev/zero";
  } else {
    throw std::runtime_error("no damage called " + name);
  }
  write_bytes(path, bytes);
  return path;
}

class DamagedCheckpoints : public ::testing::TestWithParam<Damage> {
 protected:
  static void SetUpTestSuite() {
    good_dir_ = new TempDir();
    const auto made = run(kFitreel, {"net", "--epochs", "3", "--video", "none", "--save-model",
                                     *good_dir_ / "net.pt", "--out", *good_dir_ / "made"});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    good_ = read_file(*good_dir_ / "net.pt");
  }
  static void TearDownTestSuite() {
    delete good_dir_;
    good_dir_ = nullptr;
  }
  static TempDir* good_dir_;
  static std::string good_;
};
TempDir* DamagedCheckpoints::good_dir_ = nullptr;
std::string DamagedCheckpoints::good_;

// LibTorch alone: a flipped weight byte loaded silently, other bytes crashed it (SIGSEGV) or
// printed its parser's many lines with exit 1. Now: exit 2 and one line, before training.
TEST_P(DamagedCheckpoints, ExitTwoWithOneLineAndNoSignal) {
  ASSERT_FALSE(good_.empty());
  TempDir dir;
  const std::string file = make_damaged(GetParam().name, good_, dir);
  const auto result = run(kFitreel, {"net", "--load-model", file, "--epochs", "2", "--video",
                                     "none", "--out", dir / "out"});
  EXPECT_EQ(result.exit_code, 2) << result.err;
  const std::vector<std::string> lines = lines_of(result.err);
  ASSERT_EQ(lines.size(), 1U) << result.err;
  EXPECT_EQ(lines[0].rfind("fitreel: error: --load-model: " + file + " ", 0), 0U) << lines[0];
  EXPECT_NE(lines[0].find(GetParam().says), std::string::npos) << lines[0];
  EXPECT_FALSE(fs::exists(dir / "out/net"));
}

INSTANTIATE_TEST_SUITE_P(
    Files, DamagedCheckpoints,
    ::testing::Values(Damage{"FlipFirstByteOfData0", "CRC error in entry archive/data/0"},
                      Damage{"FlipLastByteOfData0", "CRC error in entry archive/data/0"},
                      Damage{"FlipFirstByteOfData1", "CRC error in entry archive/data/1"},
                      Damage{"FlipLastByteOfData1", "CRC error in entry archive/data/1"},
                      Damage{"FlipFirstByteOfData2", "CRC error in entry archive/data/2"},
                      Damage{"FlipLastByteOfData2", "CRC error in entry archive/data/2"},
                      Damage{"FlipFirstByteOfData3", "CRC error in entry archive/data/3"},
                      Damage{"FlipLastByteOfData3", "CRC error in entry archive/data/3"},
                      Damage{"FlipInDataPkl", "CRC error in entry archive/data.pkl"},
                      Damage{"FlipInByteorder", "CRC error in entry archive/byteorder"},
                      Damage{"FlipInVersion", "CRC error in entry archive/version"},
                      Damage{"FlipLocalSignature", "cannot be read as a checkpoint"},
                      Damage{"FlipLocalCrc", "cannot be read as a checkpoint"},
                      Damage{"FlipLocalSize", "cannot be read as a checkpoint"},
                      Damage{"FlipLocalNameLength", "cannot be read as a checkpoint"},
                      Damage{"FlipLocalName", "cannot be read as a checkpoint"},
                      Damage{"FlipCentralSignature", "cannot be read as a checkpoint"},
                      Damage{"FlipCentralName", "cannot be read as a checkpoint"},
                      Damage{"FlipCentralOffset", "cannot be read as a checkpoint"},
                      Damage{"FlipZip64EntryCount", "damaged ZIP archive"},
                      Damage{"FlipZip64DirectoryOffset", "damaged ZIP archive"},
                      Damage{"FlipZip64Locator", "damaged ZIP archive"},
                      Damage{"FlipEndSignature", "cannot be read as a checkpoint"},
                      Damage{"TruncateTo0", "the file is empty"},
                      Damage{"TruncateTo1", "not a ZIP archive"},
                      Damage{"TruncateTo100", "truncated"}, Damage{"TruncateToHalf", "truncated"},
                      Damage{"TruncateToNoEndRecord", "truncated"},
                      Damage{"TruncateToAllButOne", "cannot be read as a checkpoint"},
                      Damage{"InsertAtStart", "cannot be read as a checkpoint"},
                      Damage{"InsertInTheMiddle", "cannot be read as a checkpoint"},
                      Damage{"ZipOfATextFile", "cannot be read as a checkpoint"},
                      Damage{"TextFile", "not a ZIP archive"}, Damage{"Folder", "is a folder"},
                      Damage{"Fifo", "is a FIFO"}, Damage{"Device", "is a device"}),
    [](const auto& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace fitreel
