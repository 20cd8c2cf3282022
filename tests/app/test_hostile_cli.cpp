// Hostile files and folders (issue 20): what someone else can place in --out or hand over as a
// file is data, never code, and never steers where fitreel writes. Each test names the case of
// the issue it covers and drives the real binary.
#include "json_file.hpp"
#include "process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace fitreel {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::lines_of;
using testing::Process;
using testing::ProcessOptions;
using testing::ProcessResult;
using testing::read_file;
using testing::read_json;
using testing::run;
using testing::summary_of;
using testing::TempDir;

const std::string kFitreel = FITREEL_EXE;

void write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

ProcessResult quick(const std::string& demo, const std::string& out,
                    std::vector<std::string> more = {}) {
  std::vector<std::string> args{demo, "--epochs", "5", "--video", "none", "--out", out};
  args.insert(args.end(), more.begin(), more.end());
  return run(kFitreel, args);
}

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

// ---- crafted checkpoints: a tiny ZIP writer (stored entries) and raw pickles ----

std::uint32_t crc32_of(const std::string& bytes) {
  std::uint32_t crc = 0xffffffffu;
  for (const char c : bytes) {
    crc ^= static_cast<unsigned char>(c);
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::string zip_of(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string out, directory;
  const auto u16 = [](std::string& s, std::uint32_t v) {
    s += static_cast<char>(v & 0xff);
    s += static_cast<char>(v >> 8 & 0xff);
  };
  const auto u32 = [&](std::string& s, std::uint32_t v) {
    u16(s, v & 0xffff);
    u16(s, v >> 16);
  };
  for (const auto& [name, bytes] : entries) {
    const std::uint32_t offset = static_cast<std::uint32_t>(out.size());
    const std::uint32_t crc = crc32_of(bytes);
    const auto size = static_cast<std::uint32_t>(bytes.size());
    u32(out, 0x04034b50);
    for (std::uint32_t v : {20u, 0u, 0u, 0u, 0x21u}) u16(out, v);
    u32(out, crc);
    u32(out, size);
    u32(out, size);
    u16(out, static_cast<std::uint32_t>(name.size()));
    u16(out, 0);
    out += name + bytes;
    u32(directory, 0x02014b50);
    for (std::uint32_t v : {20u, 20u, 0u, 0u, 0u, 0x21u}) u16(directory, v);
    u32(directory, crc);
    u32(directory, size);
    u32(directory, size);
    u16(directory, static_cast<std::uint32_t>(name.size()));
    for (int i = 0; i < 4; ++i) u16(directory, 0);
    u32(directory, 0);
    u32(directory, offset);
    directory += name;
  }
  const auto at = static_cast<std::uint32_t>(out.size());
  out += directory;
  u32(out, 0x06054b50);
  u16(out, 0);
  u16(out, 0);
  u16(out, static_cast<std::uint32_t>(entries.size()));
  u16(out, static_cast<std::uint32_t>(entries.size()));
  u32(out, static_cast<std::uint32_t>(directory.size()));
  u32(out, at);
  u16(out, 0);
  return out;
}

// Pickle pieces (protocol 2).
std::string str(const std::string& text) {
  std::string op = "X";
  for (int i = 0; i < 4; ++i) op += static_cast<char>(text.size() >> (8 * i) & 0xff);
  return op + text;
}
std::string int1(int value) { return std::string("K") + static_cast<char>(value); }
std::string long8(std::int64_t value) {
  std::string op = "\x8a\x08";
  for (int i = 0; i < 8; ++i) op += static_cast<char>(static_cast<std::uint64_t>(value) >> (8 * i));
  return op;
}
const std::string kProto = "\x80\x02";

// A checkpoint whose data.pkl is `pickle` and whose only storage record is data/0 (`record`).
std::string checkpoint_of(const std::string& pickle, const std::string& record) {
  return zip_of(
      {{"archive/data.pkl", pickle}, {"archive/data/0", record}, {"archive/version", "3\n"}});
}

// {"0.weight": tensor viewing storage 0 (`elements` floats) at `offset` with `sizes`}.
std::string state_dict_pickle(std::int64_t elements, std::int64_t offset,
                              const std::vector<int>& sizes) {
  std::string sizes_tuple = "(", strides_tuple = "(";
  int stride = 1;
  std::vector<int> strides(sizes.size());
  for (std::size_t i = sizes.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= sizes[i];
  }
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    sizes_tuple += int1(sizes[i]);
    strides_tuple += int1(strides[i]);
  }
  return kProto + "}(" + str("0.weight") + "ctorch._utils\n_rebuild_tensor_v2\n(" + "(" +
         str("storage") + "ctorch\nFloatStorage\n" + str("0") + str("cpu") + long8(elements) +
         "tQ" + long8(offset) + sizes_tuple + "t" + strides_tuple + "t" +
         "\x89"
         "ccollections\nOrderedDict\n)Rt"
         "R"
         "u.";
}

std::string floats(int count) { return std::string(4 * static_cast<std::size_t>(count), '\0'); }

// --load-model of a crafted file: refused in one line, exit 2, no signal, nothing written.
void expect_refused_checkpoint(const std::string& file, const std::string& why) {
  TempDir out;
  const auto result = run(kFitreel, {"line", "--epochs", "5", "--video", "none", "--out", out / "o",
                                     "--load-model", file});
  EXPECT_EQ(result.exit_code, 2) << result.err;
  ASSERT_EQ(lines_of(result.err).size(), 1U) << result.err;
  EXPECT_NE(result.err.find(file), std::string::npos) << result.err;
  EXPECT_NE(result.err.find(why), std::string::npos) << result.err;
  EXPECT_FALSE(fs::exists(out / "o")) << "refused before anything is written";
}

// Case 1: a file that would run code when LibTorch's TorchScript loader reads it (a class with
// __setstate__), or when a Python pickle loader does (os.system).
TEST(HostileCheckpoint, CodeInAFileIsNeverRun) {
  TempDir dir;
  const std::string marker = dir / "ran";
  const std::string evil_class =
      kProto + "c__torch__\nEvil\n)\x81(" + str("touch " + marker) + "tb.";
  write_text(dir / "setstate.pt", checkpoint_of(evil_class, ""));
  expect_refused_checkpoint(dir / "setstate.pt", "__setstate__");
  for (const char* global : {"os\nsystem\n", "posix\nsystem\n", "builtins\neval\n",
                             "torch.jit._pickle\nbuild_tensor_from_id\n"}) {
    const std::string call = kProto + "c" + global + "(" + str("touch " + marker) + "tR.";
    write_text(dir / "call.pt", checkpoint_of(call, ""));
    expect_refused_checkpoint(dir / "call.pt", "not plain data");
  }
  EXPECT_FALSE(fs::exists(marker)) << "no code from a file ever runs";
}

// Case 2: storage records that lie: a huge offset, no elements, a view one past the end.
TEST(HostileCheckpoint, StorageRecordsThatLieAreRefusedInOneLine) {
  TempDir dir;
  struct Lie {
    std::string name;
    std::string pickle;
    std::string record;
    std::string why;
  };
  const std::vector<Lie> lies = {
      {"huge-offset", state_dict_pickle(1, std::int64_t{1} << 62, {1, 1}), floats(1),
       "reaches past"},
      {"no-elements", state_dict_pickle(0, 0, {1, 1}), "", "reaches past"},
      {"one-past-the-end", state_dict_pickle(2, 1, {2, 1}), floats(2), "reaches past"},
      {"record-too-short", state_dict_pickle(4, 0, {1, 1}), floats(1), "its record has"},
      {"negative-offset", state_dict_pickle(1, -1, {1, 1}), floats(1), "reaches past"},
  };
  for (const Lie& lie : lies) {
    SCOPED_TRACE(lie.name);
    const std::string file = dir / (lie.name + ".pt");
    write_text(file, checkpoint_of(lie.pickle, lie.record));
    expect_refused_checkpoint(file, lie.why);
  }
  // The honest version of the same file loads.
  write_text(dir / "honest.pt", checkpoint_of(state_dict_pickle(1, 0, {1, 1}), floats(1)));
  const auto honest = run(kFitreel, {"line", "--epochs", "5", "--video", "none", "--out", dir / "o",
                                     "--load-model", dir / "honest.pt"});
  EXPECT_EQ(honest.exit_code, 2) << "a line model has a bias too: " << honest.err;
  EXPECT_NE(honest.err.find("it has no 0.bias"), std::string::npos) << honest.err;
}

// ---- DIR is hostile ground ----

// Case 3: links and FIFOs where 0.2 kept its lock files: fitreel keeps no lock files now (it
// locks DIR itself), so they steer nothing and block nothing.
TEST(HostileOut, PlantedLockNamesCreateNothingAndBlockNothing) {
  TempDir dir, elsewhere;
  const fs::path out = dir / "out";
  fs::create_directories(out);
  const fs::path target = fs::path(elsewhere.path()) / "nologin";
  fs::create_symlink(target, out / ".line.lock");
  fs::create_symlink(target, out / ".net.lock");
  ASSERT_EQ(::mkfifo((out / ".index.lock").c_str(), 0600), 0);
  Process fitreel(kFitreel, {"all", "--epochs", "5", "--video", "none", "--out", out});
  const ProcessResult result = fitreel.wait(120s);  // killed (137) if it blocks on the FIFO
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_FALSE(fs::exists(fs::symlink_status(target))) << "nothing created through a link";
  EXPECT_TRUE(fs::is_symlink(out / ".line.lock")) << "and the planted names stay as they were";
  EXPECT_TRUE(fs::is_fifo(out / ".index.lock"));
  EXPECT_EQ(summary_of(out / "line")["epochs_run"], 5);
}

// Case 4: staging names planted as links to another folder (for every PID the run may get):
// staging folders have unpredictable names, made exclusively, so none of them is used.
TEST(HostileOut, PlantedStagingLinksAreNeverWrittenThrough) {
  TempDir dir, elsewhere;
  const fs::path out = dir / "out";
  fs::create_directories(out);
  const int pid = static_cast<int>(::getpid());
  for (int candidate = pid - 50; candidate < pid + 500; ++candidate) {
    fs::create_symlink(elsewhere.path(), out / (".line.partial-" + std::to_string(candidate)));
  }
  const auto result = quick("line", out);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(fs::is_empty(elsewhere.path())) << "nothing written through a planted link";
  EXPECT_TRUE(fs::is_directory(fs::symlink_status(out / "line"))) << "a real folder";
  EXPECT_TRUE(fs::is_symlink(out / (".line.partial-" + std::to_string(pid)))) << "left alone";
  EXPECT_NE(result.err.find("left " + (out / ".line.partial-").string()), std::string::npos)
      << "and said so: " << result.err;
}

// Case 5: a user's folder or file under a name fitreel uses is not deleted for its name, and a
// model is never saved where the page goes.
TEST(HostileOut, NothingIsDeletedForItsNameAlone) {
  TempDir dir;
  const fs::path out = dir / "out";
  write_text(out / ".line.old-backup/notes.txt", "mine\n");
  write_text(out / ".line.partial-2024/model.pt", "my model\n");
  write_text(out / ".net.partial-x", "a file of mine\n");
  const auto result = run(kFitreel, {"all", "--epochs", "5", "--video", "none", "--out", out});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(read_file(out / ".line.old-backup/notes.txt"), "mine\n");
  EXPECT_EQ(read_file(out / ".line.partial-2024/model.pt"), "my model\n");
  EXPECT_EQ(read_file(out / ".net.partial-x"), "a file of mine\n");
  EXPECT_NE(result.err.find("fitreel did not write it"), std::string::npos) << result.err;

  const auto page = run(kFitreel, {"line", "--epochs", "5", "--video", "none", "--out", out,
                                   "--save-model", out / "index.html"});
  EXPECT_EQ(page.exit_code, 2) << page.err;
  EXPECT_NE(page.err.find("names a file fitreel writes"), std::string::npos) << page.err;
}

// Case 6: a result folder's loss.csv replaced by a link to /dev/zero, or a FIFO: the page reads
// only regular files, without following links, so a later run in DIR stays small and quick.
TEST(HostileOut, ALinkedOrFifoLossCsvIsNotRead) {
  TempDir dir;
  const fs::path out = dir / "out";
  ASSERT_EQ(quick("net", out).exit_code, 0);
  ASSERT_EQ(quick("line", out).exit_code, 0);
  fs::remove(out / "net/loss.csv");
  fs::create_symlink("/dev/zero", out / "net/loss.csv");
  fs::remove(out / "line/loss.csv");
  ASSERT_EQ(::mkfifo((out / "line/loss.csv").c_str(), 0600), 0);
  Process later(kFitreel, {"sweep", "net", "--epochs", "5", "--video", "none", "--out", out});
  const ProcessResult result = later.wait(120s);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_LT(result.max_rss_kib, 1L << 20) << "no unbounded read (KiB)";
  const std::string page = read_file(out / "index.html");
  EXPECT_NE(page.find("id=\"sweep-net\""), std::string::npos);
  EXPECT_EQ(page.find("id=\"net\""), std::string::npos) << "a folder with a link is not shown";
}

// ---- checked once, trusted later ----

// Case 7: a file saved into DIR/line while a run trains stays; the new results go beside it.
TEST(HostileOut, AFileSavedIntoTheResultsWhileTrainingIsKept) {
  TempDir dir;
  const fs::path out = dir / "out";
  ASSERT_EQ(quick("line", out).exit_code, 0);
  Process fitreel(
      kFitreel, {"line", "--epochs", "100000000", "--video", "none", "--out", out, "--seed", "7"});
  ASSERT_TRUE(fitreel.wait_for_stderr("training started", 120s));
  write_text(out / "line/my-notes.txt", "saved while it trained\n");
  fitreel.send(SIGINT);
  const ProcessResult result = fitreel.wait(120s);
  EXPECT_EQ(result.exit_code, 130) << result.err;
  EXPECT_EQ(read_file(out / "line/my-notes.txt"), "saved while it trained\n");
  EXPECT_EQ(summary_of(out / "line")["seed"], 0) << "the earlier results stay as they were";
  EXPECT_EQ(summary_of(out / "line-2")["seed"], 7) << "the new ones beside them";
  EXPECT_NE(result.err.find((out / "line").string() + " changed while this run worked"),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find((out / "line-2").string()), std::string::npos) << "names both";
  EXPECT_NE(read_file(out / "index.html").find("id=\"line-2\""), std::string::npos);
}

// Case 8: the page fitreel wrote, replaced or edited by the user, is the user's from then on.
TEST(HostileOut, AUsersPageInPlaceOfFitreelsIsLeftAlone) {
  TempDir dir;
  const fs::path out = dir / "out";
  ASSERT_EQ(quick("line", out).exit_code, 0);
  const std::string written = read_file(out / "index.html");
  ASSERT_NE(written.find("data-fitreel-digest"), std::string::npos) << "the page carries its mark";
  ASSERT_EQ(quick("line", out).exit_code, 0);  // fitreel's own page is refreshed

  const std::string mine = "<html>my notes on these runs</html>\n";
  write_text(out / "index.html", mine);
  auto result = quick("net", out);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(read_file(out / "index.html"), mine);

  std::string edited = written;
  edited.insert(edited.find("</body>"), "<p>my remark</p>");
  write_text(out / "index.html", edited);
  result = quick("net", out);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(read_file(out / "index.html"), edited) << "an edited page is the user's";
  EXPECT_NE(result.err.find("left " + (out / "index.html").string() + " alone"), std::string::npos);
}

// Case 9: --save-model is proven writable before training: a 253-byte name works, a read-only
// folder is refused before any epoch, and nothing is lost.
TEST(HostileOut, SaveModelIsProvenWritableBeforeTraining) {
  TempDir dir;
  const std::string long_name = std::string(250, 'm') + ".pt";
  ASSERT_EQ(long_name.size(), 253U);
  auto result = quick("line", dir / "out", {"--save-model", dir / long_name});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_GT(fs::file_size(dir / long_name), 100U);

  const fs::path readonly = dir / "readonly";
  fs::create_directories(readonly);
  ASSERT_EQ(::mount("tmpfs", readonly.c_str(), "tmpfs", MS_RDONLY, "size=64k"), 0)
      << std::strerror(errno) << " (this test needs root, as CI runs it)";
  result = quick("line", dir / "out2", {"--save-model", (readonly / "m.pt").string()});
  ::umount2(readonly.c_str(), MNT_DETACH);
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("Read-only file system"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("training started"), std::string::npos) << "refused before training";
  EXPECT_FALSE(fs::exists(dir / "out2/line"));
}

// Case 10: a replaced file keeps its mode; new files get what the umask gives.
TEST(HostileOut, ModesFollowTheOldFileAndTheUmask) {
  TempDir dir;
  const fs::path model = dir / "private.pt";
  ASSERT_EQ(quick("line", dir / "out", {"--save-model", model.string()}).exit_code, 0);
  fs::permissions(model, fs::perms::owner_read | fs::perms::owner_write);
  const auto result =
      run("/bin/sh", {"-c", "umask 022; exec \"$@\"", "sh", kFitreel, "line", "--epochs", "5",
                      "--video", "none", "--out", dir / "out", "--save-model", model.string()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto mode = [](const fs::path& path) {
    struct stat info{};
    ::stat(path.c_str(), &info);
    return info.st_mode & 0777;
  };
  EXPECT_EQ(mode(model), 0600U) << "the private model stays private";
  EXPECT_EQ(mode(dir / "out/line/summary.json"), 0644U);
  const auto strict = run("/bin/sh", {"-c", "umask 077; exec \"$@\"", "sh", kFitreel, "line",
                                      "--epochs", "5", "--video", "none", "--out", dir / "strict"});
  ASSERT_EQ(strict.exit_code, 0) << strict.err;
  EXPECT_EQ(mode(dir / "strict/line/summary.json"), 0600U);
  EXPECT_EQ(mode(dir / "strict/index.html"), 0600U);
}

// ---- limits of the machine ----

// Case 11: a seed range that ends at the largest seed ends.
TEST(Limits, ASeedRangeEndingAtTheLargestSeedEnds) {
  TempDir dir;
  Process fitreel(kFitreel,
                  {"sweep", "net", "--seeds", "18446744073709551600..18446744073709551615",
                   "--epochs", "2", "--video", "none", "--out", dir / "out"});
  const ProcessResult result = fitreel.wait(120s);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json sweep = read_json(dir / "out/sweep-net/sweep.json");
  EXPECT_EQ(sweep["runs"].size(), 16U);
  EXPECT_EQ(sweep["runs"].back()["seed"].get<std::uint64_t>(), 18446744073709551615ULL);
}

// Case 12: a display that accepts and never answers is refused on time, before training.
TEST(Limits, ADisplayThatNeverAnswersIsRefusedOnTime) {
  fs::create_directories("/tmp/.X11-unix");
  int number = 1500 + static_cast<int>(::getpid() % 500);
  std::string path;
  for (;; ++number) {
    path = "/tmp/.X11-unix/X" + std::to_string(number);
    if (!fs::exists(fs::symlink_status(path))) break;
  }
  const int server = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  ASSERT_EQ(::bind(server, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(server, 8), 0);  // accepts connections, never answers them
  TempDir dir;
  ProcessOptions options;
  options.env["DISPLAY"] = ":" + std::to_string(number);
  const auto start = std::chrono::steady_clock::now();
  Process fitreel(kFitreel, {"net", "--show", "--epochs", "5", "--out", dir / "out"}, options);
  const ProcessResult result = fitreel.wait(60s);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ::close(server);
  fs::remove(path);
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_EQ(lines_of(result.err).size(), 1U) << result.err;
  EXPECT_NE(result.err.find("does not answer"), std::string::npos) << result.err;
  EXPECT_LT(seconds, 30.0);
  EXPECT_FALSE(fs::exists(dir / "out"));
}

// Case 15: a /proc file reports size 0 and is endless binary: refused after one read.
TEST(Limits, DataFromProcIsRefusedQuicklyWithLittleMemory) {
  TempDir dir;
  const auto start = std::chrono::steady_clock::now();
  const auto result = run(kFitreel, {"line", "--data", "/proc/self/pagemap", "--out", dir / "out"});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_EQ(lines_of(result.err).size(), 1U) << result.err;
  EXPECT_LT(seconds, 20.0);
  EXPECT_LT(result.max_rss_kib, 1L << 20) << "KiB";
}

// Case 16: a large model's summary stays small; its weights go to a checkpoint it names.
TEST(Limits, ALargeModelsSummaryNamesACheckpointInsteadOfInliningIt) {
  TempDir dir;
  const auto result = run(kFitreel, {"net", "--hidden", "512,512", "--epochs", "1", "--video",
                                     "none", "--points", "20", "--out", dir / "out"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_LT(fs::file_size(dir / "out/net/summary.json"), 64U * 1024U);
  const nlohmann::json summary = summary_of(dir / "out/net");
  EXPECT_EQ(summary["parameters"], 512 * 2 + 512 * 512 + 512 + 512 + 1);
  EXPECT_TRUE(summary["final_params"].is_null());
  const std::string params_file = summary["params_file"];
  EXPECT_EQ(params_file, (dir / "out/net/model.pt"));
  EXPECT_GT(fs::file_size(params_file), 4U * 262144U);
  // It is a checkpoint --load-model takes.
  const auto loaded =
      run(kFitreel, {"net", "--hidden", "512,512", "--epochs", "1", "--video", "none", "--points",
                     "20", "--out", dir / "out2", "--load-model", params_file});
  EXPECT_EQ(loaded.exit_code, 0) << loaded.err;
}

// ---- messages that mislead ----

// Case 17: a rate float32 cannot hold is refused when parsed, for --lr and --lrs.
TEST(Messages, ARateFloat32CannotHoldIsRefusedAtParseTime) {
  TempDir dir;
  for (const std::vector<std::string>& args : {std::vector<std::string>{"line", "--lr", "1e39"},
                                               {"net", "--lr", "1e-50"},
                                               {"sweep", "net", "--lrs", "0.1,1e39"}}) {
    std::vector<std::string> full = args;
    full.insert(full.end(), {"--out", dir / "out"});
    const auto result = run(kFitreel, full);
    EXPECT_EQ(result.exit_code, 2) << result.err;
    ASSERT_EQ(lines_of(result.err).size(), 1U) << result.err;
    EXPECT_NE(result.err.find("float32"), std::string::npos) << result.err;
    EXPECT_FALSE(fs::exists(dir / "out"));
  }
}

// Case 18: a sweep stopped before some models started reports them as not trained, not as
// NaN losses, in the log, log.txt and the page.
TEST(Messages, ModelsASignalKeptFromTrainingAreNotTrainedNotNan) {
  TempDir dir;
  const fs::path out = dir / "out";
  Process fitreel(kFitreel, {"sweep", "net", "--gradients", "autograd", "--lrs", "0.1,0.2,0.3",
                             "--epochs", "100000000", "--video", "none", "--out", out});
  ASSERT_TRUE(fitreel.wait_for_stderr("one after another", 120s));
  std::this_thread::sleep_for(1s);
  fitreel.send(SIGTERM);
  const ProcessResult result = fitreel.wait(120s);
  EXPECT_EQ(result.exit_code, 143) << result.err;
  EXPECT_EQ(result.err.find("nan"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("lr 0.3: not trained (interrupted)"), std::string::npos) << result.err;
  const nlohmann::json sweep = read_json(out / "sweep-net/sweep.json");
  EXPECT_EQ(sweep["runs"][2]["trained"], false);
  EXPECT_EQ(sweep["runs"][2]["outcome"], "not trained (interrupted)");
  EXPECT_NE(read_file(out / "sweep-net/log.txt").find("not trained (interrupted)"),
            std::string::npos);
  EXPECT_NE(read_file(out / "index.html").find("not trained (interrupted)"), std::string::npos);
}

// Case 19: the warning about fonts names the file that is damaged, not a good one.
TEST(Messages, TheFontWarningNamesTheDamagedFile) {
  TempDir dir;
  const fs::path fonts = dir / "fonts";
  fs::create_directories(fonts);
  fs::copy_file("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", fonts / "DejaVuSans.ttf");
  const std::string bold = read_file("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf");
  write_text(fonts / "DejaVuSans-Bold.ttf", bold.substr(0, 1000));
  ProcessOptions options;
  options.env["FITREEL_FONT_DIR"] = fonts.string();
  const auto result =
      run(kFitreel, {"net", "--epochs", "5", "--video", "none", "--out", dir / "out"}, options);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find((fonts / "DejaVuSans-Bold.ttf").string()), std::string::npos)
      << result.err;
  EXPECT_EQ(result.err.find((fonts / "DejaVuSans.ttf").string()), std::string::npos)
      << "the good file is not blamed: " << result.err;
}

// A clean run leaves in --out only its result folders and index.html: no lock or marker file.
TEST(HostileOut, ACleanRunLeavesOnlyResultsAndThePage) {
  TempDir dir;
  const fs::path out = dir / "out";
  ASSERT_EQ(run(kFitreel, {"all", "--epochs", "5", "--video", "none", "--out", out}).exit_code, 0);
  ASSERT_EQ(quick("sweep", out, {"line"}).exit_code, 0);
  EXPECT_EQ(names_in(out), (std::set<std::string>{"index.html", "line", "net", "sweep-line"}));
}

}  // namespace
}  // namespace fitreel
