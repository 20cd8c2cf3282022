// Result folders: fitreel replaces only what it wrote, publishes whole folders atomically, and
// one run at a time writes a folder. Kills are injected at each rename with strace.
#include "json_file.hpp"
#include "process.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>

namespace fitreel {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::frames_in;
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
constexpr int kKilled = 128 + SIGKILL;

void write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// A quick line run into `out` with `seed`, no video.
ProcessResult quick_line(const std::string& out, int seed) {
  return run(kFitreel, {"line", "--epochs", "5", "--video", "none", "--seed", std::to_string(seed),
                        "--out", out});
}

// The seed of the whole result in `folder`, or -1 when it is not whole: every file listed in
// its manifest present, nothing else there, a summary that parses.
int whole_result_seed(const fs::path& folder) {
  if (!fs::is_directory(folder)) {
    return -1;
  }
  std::set<std::string> listed{".fitreel-manifest"};
  for (const std::string& line : lines_of(read_file(folder / ".fitreel-manifest"))) {
    if (!line.empty() && line[0] != '#') {
      listed.insert(line);
    }
  }
  std::set<std::string> present;
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    present.insert(entry.path().lexically_relative(folder).generic_string() +
                   (entry.is_directory() ? "/" : ""));
  }
  if (present != listed) {
    return -1;
  }
  const auto summary = nlohmann::json::parse(read_file(folder / "summary.json"), nullptr, false);
  return summary.is_object() ? summary["seed"].get<int>() : -1;
}

// Hidden entries of DIR: fitreel keeps none there (it locks DIR itself and marks its page
// inside the page), so any is a leftover.
std::vector<std::string> leftovers(const fs::path& dir) {
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.front() == '.') {
      found.push_back(name);
    }
  }
  return found;
}

// fitreel under strace, which kills it or fails a syscall as `injections` say
// (LeakSanitizer cannot run under ptrace).
ProcessResult run_injected(const std::vector<std::string>& injections,
                           const std::vector<std::string>& fitreel_args) {
  std::vector<std::string> args{"-f",        "-qq", "-o",
                                "/dev/null", "-e",  "trace=renameat,renameat2,unlinkat"};
  for (const std::string& injection : injections) {
    args.insert(args.end(), {"-e", "inject=" + injection});
  }
  args.push_back(kFitreel);
  args.insert(args.end(), fitreel_args.begin(), fitreel_args.end());
  ProcessOptions options;
  options.env["ASAN_OPTIONS"] = "detect_leaks=0";
  return run(FITREEL_STRACE, args, options);
}

const std::vector<std::string> kSeedTwoRun{"line", "--epochs", "5", "--video",
                                           "none", "--seed",   "2"};

std::vector<std::string> seed_two_into(const std::string& out) {
  std::vector<std::string> args = kSeedTwoRun;
  args.insert(args.end(), {"--out", out});
  return args;
}

TEST(Ownership, AFolderWithAUserFileIsRefusedBeforeTrainingAndLeftAlone) {
  TempDir dir;
  write_text(dir / "net/src/main.c", "int main() {}\n");
  const auto result =
      run(kFitreel, {"net", "--epochs", "5", "--video", "none", "--out", dir.path()});
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_EQ(lines_of(result.err).size(), 1U) << result.err;
  EXPECT_NE(result.err.find("net/src"), std::string::npos) << "names the foreign entry";
  EXPECT_EQ(result.err.find("training"), std::string::npos) << "refused before training";
  EXPECT_EQ(read_file(dir / "net/src/main.c"), "int main() {}\n");
  EXPECT_TRUE(leftovers(dir.path()).empty());
}

TEST(Ownership, APlainFileOrASymlinkNamedLikeTheDemoIsRefusedAndKept) {
  TempDir dir;
  write_text(dir / "line", "my notes\n");
  TempDir elsewhere;
  fs::create_symlink(elsewhere.path(), dir / "net");
  const auto file =
      run(kFitreel, {"line", "--epochs", "5", "--video", "none", "--out", dir.path()});
  EXPECT_EQ(file.exit_code, 2) << file.err;
  EXPECT_NE(file.err.find("is a file fitreel did not write"), std::string::npos) << file.err;
  EXPECT_EQ(read_file(dir / "line"), "my notes\n");
  const auto link = run(kFitreel, {"net", "--epochs", "5", "--video", "none", "--out", dir.path()});
  EXPECT_EQ(link.exit_code, 2) << link.err;
  EXPECT_NE(link.err.find("symbolic link"), std::string::npos) << link.err;
  EXPECT_TRUE(fs::is_symlink(dir / "net"));
  EXPECT_TRUE(fs::is_empty(elsewhere.path()));
}

TEST(Ownership, AFileAddedToAPublishedFolderIsRefused) {
  TempDir dir;
  ASSERT_EQ(quick_line(dir.path(), 1).exit_code, 0);
  write_text(dir / "line/my-plot.py", "print(1)\n");
  const auto result = quick_line(dir.path(), 2);
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("my-plot.py"), std::string::npos) << result.err;
  EXPECT_EQ(summary_of(dir / "line")["seed"], 1);
  EXPECT_EQ(read_file(dir / "line/my-plot.py"), "print(1)\n");
}

TEST(Ownership, AFolderMadeByVersion01IsAdoptedAndReplaced) {
  TempDir dir;
  write_text(dir / "line/summary.json", R"({"demo": "line", "fitreel_version": "0.1.0"})");
  write_text(dir / "line/loss.csv", "epoch,loss\n0,1\n");
  write_text(dir / "line/line.webm", "old video");
  write_text(dir / "line/frames/frame_00000.png", "old frame");
  const auto result = quick_line(dir.path(), 3);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(whole_result_seed(dir / "line"), 3);
  EXPECT_FALSE(fs::exists(dir / "line/frames")) << "the 0.1 frames went with the old results";
  EXPECT_FALSE(fs::exists(dir / "line/line.webm"));
}

TEST(Ownership, AFolderWithVersion01NamesButNoFitreelSummaryIsRefused) {
  TempDir dir;
  write_text(dir / "line/summary.json", R"({"mine": true})");
  write_text(dir / "line/loss.csv", "my data\n");
  const auto result = quick_line(dir.path(), 3);
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("no fitreel manifest"), std::string::npos) << result.err;
  EXPECT_EQ(read_file(dir / "line/loss.csv"), "my data\n");
}

TEST(Ownership, ModelFilesInsideAResultFolderAreRefusedBeforeTraining) {
  TempDir dir;
  ASSERT_EQ(run(kFitreel, {"line", "--epochs", "5", "--video", "none", "--out", dir.path(),
                           "--save-model", dir / "model.pt"})
                .exit_code,
            0);
  fs::copy_file(dir / "model.pt", dir / "line/model.pt");  // the user's only copy, say
  for (const std::string flag : {"--save-model", "--load-model"}) {
    const auto result = run(kFitreel, {"line", "--epochs", "5", "--video", "none", "--out",
                                       dir.path(), flag, dir / "line/model.pt"});
    EXPECT_EQ(result.exit_code, 2) << flag << ": " << result.err;
    EXPECT_NE(result.err.find("replaces whole"), std::string::npos) << result.err;
    EXPECT_TRUE(fs::exists(dir / "line/model.pt")) << flag;
  }
}

TEST(Streams, AClosedStderrNeverEndsUpInsideAVideo) {
  TempDir dir;
  const auto result =
      run("/bin/sh", {"-c",
                      "exec \"$0\" net --epochs 40 --video gif --frames 6 --size 160x120 "
                      "--out \"$1\" 2>&-",
                      kFitreel, dir.path()});
  ASSERT_EQ(result.exit_code, 0);
  const nlohmann::json summary = summary_of(dir / "net");
  EXPECT_EQ(frames_in(dir / "net/net.gif"), summary["frames"].get<int>()) << "every frame decodes";
  EXPECT_EQ(read_file(dir / "net/net.gif").find("[info]"), std::string::npos);
  EXPECT_TRUE(leftovers(dir.path()).empty()) << "and no lock file for a log to land in";
}

TEST(Locking, ASecondRunOnTheSameFolderIsRefusedBeforeTraining) {
  TempDir dir;
  Process first(kFitreel,
                {"line", "--epochs", "100000000", "--video", "none", "--out", dir.path()});
  ASSERT_TRUE(first.wait_for_stderr("training started", 120s));
  for (const std::string command : {"line", "all"}) {
    const auto second =
        run(kFitreel, {command, "--epochs", "5", "--video", "none", "--out", dir.path()});
    EXPECT_EQ(second.exit_code, 2) << command << ": " << second.err;
    EXPECT_NE(second.err.find("another fitreel is writing"), std::string::npos) << second.err;
  }
  EXPECT_FALSE(fs::exists(dir / "net")) << "`all` took both locks before training anything";
  first.send(SIGINT);
  EXPECT_EQ(first.wait(120s).exit_code, 130);
  EXPECT_EQ(summary_of(dir / "line")["interrupted"], true) << "the first run's results stand";
}

// A staging folder as a killed run leaves it (its "being written" manifest and fitreel's files)
// is cleared by the next run that holds DIR's lock, whatever its name says; the same name on
// something that is not provably fitreel's is left alone (see test_hostile_cli.cpp).
TEST(Locking, LeftoversAreClearedByTheLockEvenWhenTheirPidIsAlive) {
  TempDir dir;
  write_text(dir / ".line.partial-1/.fitreel-manifest",
             "# fitreel manifest: a run is writing this folder (or was killed while it did).\n");
  write_text(dir / ".line.partial-1/summary.json", "{}");  // PID 1 is always alive
  ASSERT_EQ(quick_line(dir.path(), 1).exit_code, 0);
  EXPECT_TRUE(leftovers(dir.path()).empty());
}

TEST(Locking, ANonRootRunOverRootOwnedResultsIsRefusedBeforeTraining) {
  ASSERT_EQ(::geteuid(), 0U) << "CI runs as root; this test needs it to switch users";
  TempDir dir;
  fs::permissions(dir.path(), fs::perms::all);
  ASSERT_EQ(quick_line(dir.path(), 1).exit_code, 0);
  const auto result =
      run(FITREEL_SETPRIV, {"--reuid=65534", "--regid=65534", "--clear-groups", kFitreel, "line",
                            "--epochs", "5", "--video", "none", "--out", dir.path()});
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("no permission"), std::string::npos) << result.err;
  EXPECT_EQ(whole_result_seed(dir / "line"), 1);
  EXPECT_TRUE(leftovers(dir.path()).empty());
}

// Kills at each rename of a run (the results' own files, then the folder exchange, then
// DIR/index.html's) and at the first removal after it: the old result stays whole until the
// exchange, the new one after it.
TEST(Publishing, AKillAtAnyRenameLeavesTheWholeOldOrTheWholeNewResult) {
  TempDir dir;
  ASSERT_EQ(quick_line(dir.path(), 1).exit_code, 0);
  int killed = 0;
  // Files are renamed into place with renameat (beneath the held folder), folders swapped with
  // renameat2.
  for (const std::string syscall : {"renameat", "renameat2", "unlinkat"}) {
    bool exchanged = false;  // a kill at an earlier rename found the new result
    for (int when = 1; when < 20; ++when) {
      const auto result = run_injected({syscall + ":signal=KILL:when=" + std::to_string(when)},
                                       seed_two_into(dir.path()));
      const int seed = whole_result_seed(dir / "line");
      if (result.exit_code == 0) {
        EXPECT_EQ(seed, 2) << syscall << " #" << when;
        ASSERT_EQ(quick_line(dir.path(), 1).exit_code, 0) << "back to the old result";
        break;
      }
      ASSERT_EQ(result.exit_code, kKilled) << result.err;
      ++killed;
      if (syscall == "renameat" && (exchanged || seed == 2)) {
        // index.html's renames come after the exchange: from then on, the new result.
        EXPECT_EQ(seed, 2) << "killed at rename #" << when << ", after the exchange";
        exchanged = true;
        ASSERT_EQ(quick_line(dir.path(), 1).exit_code, 0) << "back to the old result";
        continue;
      }
      if (syscall != "unlinkat") {
        EXPECT_EQ(seed, 1) << "killed at " << syscall << " #" << when << ", before the exchange";
        continue;
      }
      EXPECT_EQ(seed, 2) << "the first unlinkat removes the old results after the exchange";
      ASSERT_EQ(quick_line(dir.path(), 1).exit_code, 0);
      break;
    }
  }
  EXPECT_GE(killed, 9) << "six files, the manifest, the exchange and the clean-up";
  EXPECT_EQ(whole_result_seed(dir / "line"), 1);
  EXPECT_TRUE(leftovers(dir.path()).empty()) << "later runs cleared what the kills left";
}

// Where the file system refuses the exchange (injected here), two renames publish; a kill
// between them leaves no DIR/line for an instant, and the next run puts the old one back.
// (Kills at index.html's renames, after both, find the new result.)
TEST(Publishing, WithoutAtomicExchangeTheNextRunRestoresWhatAKillLeft) {
  TempDir dir;
  ASSERT_EQ(quick_line(dir.path(), 1).exit_code, 0);
  bool saw_gap = false;
  bool published = false;
  for (int when = 1; when < 20; ++when) {
    const auto result = run_injected(
        {"renameat2:error=EINVAL", "renameat:signal=KILL:when=" + std::to_string(when)},
        seed_two_into(dir.path()));
    if (result.exit_code == 0) {
      EXPECT_NE(result.err.find("cannot swap folders atomically"), std::string::npos);
      EXPECT_EQ(whole_result_seed(dir / "line"), 2);
      EXPECT_TRUE(leftovers(dir.path()).empty());
      break;
    }
    ASSERT_EQ(result.exit_code, kKilled) << result.err;
    if (!fs::exists(dir / "line")) {
      saw_gap = true;  // killed between the two renames: the next run must repair it
      Process next(kFitreel,
                   {"line", "--epochs", "100000000", "--video", "none", "--out", dir.path()});
      ASSERT_TRUE(next.wait_for_stderr("training started", 120s));
      next.send(SIGKILL);
      EXPECT_NE(next.wait(60s).err.find("restored"), std::string::npos) << "and says so";
    }
    if (published || whole_result_seed(dir / "line") == 2) {
      published = true;
      EXPECT_EQ(whole_result_seed(dir / "line"), 2) << "rename #" << when << ", after publishing";
      ASSERT_EQ(quick_line(dir.path(), 1).exit_code, 0) << "back to the old result";
      continue;
    }
    EXPECT_EQ(whole_result_seed(dir / "line"), 1) << "rename #" << when;
  }
  EXPECT_TRUE(saw_gap) << "one kill fell between the two renames";
}

}  // namespace
}  // namespace fitreel
