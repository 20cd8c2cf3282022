// Issue 12's inputs: displays, odd paths, what --data can be, pre-flight checks of format
// limits, and messages that name the real cause. Each drives the real binary; runs are short.
#include "json_file.hpp"
#include "process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace fitreel {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::lines_of;
using testing::Process;
using testing::ProcessOptions;
using testing::read_file;
using testing::read_json;
using testing::run;
using testing::TempDir;

const std::string kFitreel = FITREEL_EXE;
const std::vector<std::string> kShort = {"--epochs", "5", "--video", "none"};

std::vector<std::string> with_short(std::vector<std::string> args) {
  args.insert(args.end(), kShort.begin(), kShort.end());
  return args;
}

std::string write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// Points on y = 2x + 1 with a header.
std::string points_csv(int rows) {
  std::string text = "x,y\n";
  for (int i = 0; i < rows; ++i) {
    text += std::to_string(i) + "," + std::to_string(2 * i + 1) + "\n";
  }
  return text;
}

// Bad input: exit 2, one line naming what is wrong, nothing written under --out.
void expect_usage_error(const testing::ProcessResult& result, const std::string& out,
                        std::initializer_list<std::string> parts) {
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_EQ(lines_of(result.err).size(), 1U) << result.err;
  for (const std::string& part : parts) {
    EXPECT_NE(result.err.find(part), std::string::npos) << part << " in: " << result.err;
  }
  EXPECT_FALSE(fs::exists(out)) << "nothing written";
}

// ---- case 6: --show and displays that cannot be reached ----

// A socket file /tmp/.X11-unix/X<n> that nothing listens on, as a crashed X server leaves.
class StaleXSocket {
 public:
  StaleXSocket() {
    fs::create_directories("/tmp/.X11-unix");
    for (number_ = 900 + static_cast<int>(::getpid() % 500);; ++number_) {
      path_ = "/tmp/.X11-unix/X" + std::to_string(number_);
      if (!fs::exists(fs::symlink_status(path_))) {
        break;
      }
    }
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path_.c_str(), sizeof address.sun_path - 1);
    bound_ = ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);  // the file stays; nothing listens
  }
  ~StaleXSocket() { fs::remove(path_); }
  bool bound() const { return bound_; }
  std::string display() const { return ":" + std::to_string(number_); }

 private:
  int number_ = 0;
  std::string path_;
  bool bound_ = false;
};

TEST(Display, EveryUnreachableDisplayIsExitTwoBeforeTraining) {
  StaleXSocket stale;
  ASSERT_TRUE(stale.bound());
  ASSERT_TRUE(fs::exists("/tmp/.X11-unix/X" + stale.display().substr(1)));
  for (const std::string& display : {std::string("nohost.invalid:7"), std::string("unix:7919"),
                                     stale.display(), std::string("")}) {
    SCOPED_TRACE("DISPLAY=" + display);
    TempDir dir;
    ProcessOptions options;
    options.env["DISPLAY"] = display;
    options.env["WAYLAND_DISPLAY"] = std::nullopt;
    const auto result = run(kFitreel, {"net", "--show", "--out", dir / "out"}, options);
    expect_usage_error(result, dir / "out",
                       {display.empty() ? "DISPLAY is empty" : "DISPLAY=" + display});
  }
}

// ---- case 9: names that are not UTF-8 ----

TEST(NonUtf8Paths, WorkEndToEndAndJsonReplacesTheBadBytes) {
  TempDir dir;
  const std::string latin1 = "caf\xE9";  // "café" in Latin-1: not UTF-8
  const std::string replaced = "caf\xEF\xBF\xBD";
  const std::string csv = write_text(dir / (latin1 + ".csv"), points_csv(20));
  const std::string out = dir / ("out-" + latin1);
  const auto line = run(kFitreel, {"line", "--data", csv, "--epochs", "5", "--video", "gif",
                                   "--frames", "3", "--size", "64x64", "--out", out});
  ASSERT_EQ(line.exit_code, 0) << line.err;
  ASSERT_TRUE(fs::exists(out + "/line/line.gif")) << "written under the exact bytes given";
  const nlohmann::json summary = read_json(out + "/line/summary.json");
  EXPECT_EQ(summary["data"], dir / (replaced + ".csv"));
  EXPECT_EQ(summary["video"], dir / ("out-" + replaced + "/line/line.gif"));
  EXPECT_NE(summary["command"].get<std::string>().find(replaced), std::string::npos);

  const auto sweep = run(kFitreel, {"sweep", "line", "--lrs", "0.1,1", "--data", csv, "--epochs",
                                    "5", "--video", "none", "--out", out});
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  EXPECT_NE(read_json(out + "/sweep-line/sweep.json")["command"].get<std::string>().find(replaced),
            std::string::npos);
}

// ---- case 10: what --data can be ----

TEST(DataFile, AFifoIsRefusedWithoutWaitingForAWriter) {
  TempDir dir;
  const std::string fifo = dir / "points.csv";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Process fitreel(kFitreel, with_short({"line", "--data", fifo, "--out", dir / "out"}));
  const auto result = fitreel.wait(30s);  // killed (exit 137) if it blocks on the FIFO
  expect_usage_error(result, dir / "out", {"--data " + fifo + " is a FIFO, not a regular file"});
}

TEST(DataFile, DevicesAndFoldersAreRefusedNamingWhatTheyAre) {
  TempDir dir;
  Process zero(kFitreel, with_short({"line", "--data", "/dev/zero", "--out", dir / "out"}));
  expect_usage_error(zero.wait(30s), dir / "out", {"/dev/zero is a character device"});
  fs::create_directory(dir / "folder.csv");
  expect_usage_error(
      run(kFitreel, with_short({"net", "--data", dir / "folder.csv", "--out", dir / "out"})),
      dir / "out", {"folder.csv is a directory"});
}

struct BadFile {
  const char* name;
  std::string content;
  std::vector<std::string> parts;
};

void PrintTo(const BadFile& file, std::ostream* out) { *out << file.name; }

class BadDataFile : public ::testing::TestWithParam<BadFile> {};

TEST_P(BadDataFile, GetsItsOwnLineNamingFileAndLine) {
  TempDir dir;
  const std::string csv = write_text(dir / "points.csv", GetParam().content);
  const auto result = run(kFitreel, with_short({"line", "--data", csv, "--out", dir / "out"}));
  EXPECT_EQ(result.err.find("\xEF\xBB\xBF"), std::string::npos) << "no invisible BOM shown";
  EXPECT_EQ(result.err.find("header"), std::string::npos) << result.err;
  std::initializer_list<std::string> none{};
  expect_usage_error(result, dir / "out", none);
  for (const std::string& part : GetParam().parts) {
    EXPECT_NE(result.err.find(part), std::string::npos) << part << " in: " << result.err;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, BadDataFile,
    ::testing::Values(
        BadFile{"Bom",
                "\xEF\xBB\xBF"
                "1,2\n2,x\n",
                {"points.csv:2: column 2 (y) 'x' is not"}},
        BadFile{"OutOfRange", "1,2\n2,1e400\n", {"points.csv:2:", "'1e400' is out of float range"}},
        BadFile{"QuotedComma", "1,2\n\"2,5\",3\n", {"points.csv:2:", "quoted", "decimal point"}},
        BadFile{"Utf16",
                std::string("\xFF\xFE"
                            "1\0,\0"
                            "2\0\n\0",
                            10),
                {"points.csv:1:", "looks like UTF-16", "save it as UTF-8"}},
        BadFile{"ConstantX",
                "2,1\n2,2\n2,3\n2,4\n2,5\n2,6\n",
                {"points.csv: all 6 rows have x = 2", "two different x values"}}),
    [](const auto& test) { return std::string(test.param.name); });

TEST(DataFile, QuotedNumbersAndAByteOrderMarkAreRead) {
  TempDir dir;
  const std::string csv =
      write_text(dir / "points.csv", "\xEF\xBB\xBF\"x\",\"y\"\n\"0\",\"1\"\n1,3\n2,5\n3,7\n4,9\n");
  const auto result = run(kFitreel, with_short({"net", "--data", csv, "--out", dir / "out"}));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(read_json(dir / "out/net/summary.json")["points"], 5);
}

TEST(DataFile, ConstantXIsRefusedByLineDemosAndTakenByTheNet) {
  TempDir dir;
  const std::string csv = write_text(dir / "points.csv", "2,1\n2,2\n2,3\n2,4\n2,5\n2,6\n");
  const auto sweep =
      run(kFitreel, with_short({"sweep", "line", "--data", csv, "--out", dir / "out"}));
  expect_usage_error(sweep, dir / "out", {"points.csv: all 6 rows have x = 2"});
  EXPECT_EQ(sweep.err.find("least_squares"), std::string::npos) << "no internal function named";
  const auto net = run(kFitreel, with_short({"net", "--data", csv, "--out", dir / "out"}));
  EXPECT_EQ(net.exit_code, 0) << net.err;
}

// ---- --columns: x and y from a file of many columns ----

// t, noise (words and numbers, never read), signal = 2t + 1.
std::string three_columns_csv(int rows) {
  std::string text = "t,noise,signal\n";
  for (int i = 0; i < rows; ++i) {
    text += std::to_string(i) + "," + (i % 2 == 0 ? "n/a" : "0.5") + "," +
            std::to_string(2 * i + 1) + "\n";
  }
  return text;
}

TEST(DataColumns, ByNameOrIndexTheRunIsTheTwoColumnFilesRun) {
  TempDir dir;
  const std::string wide = write_text(dir / "wide.csv", three_columns_csv(20));
  const std::string two = write_text(dir / "two.csv", points_csv(20));  // x, 2x + 1: the same
  for (const auto& [out, args] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"named", {"--data", wide, "--columns", "t,signal"}},
           {"indexed", {"--data", wide, "--columns", "0,2"}},
           {"two", {"--data", two}}}) {
    std::vector<std::string> command{"line", "--out", dir / out};
    command.insert(command.end(), args.begin(), args.end());
    const auto result = run(kFitreel, with_short(command));
    ASSERT_EQ(result.exit_code, 0) << out << ": " << result.err;
    EXPECT_EQ(read_json(dir / out + "/line/summary.json")["points"], 20) << out;
    ASSERT_TRUE(fs::exists(dir / out + "/line/loss.csv")) << out;
  }
  const std::string losses = read_file(dir / "two/line/loss.csv");
  EXPECT_EQ(read_file(dir / "named/line/loss.csv"), losses) << "x from t, y from signal";
  EXPECT_EQ(read_file(dir / "indexed/line/loss.csv"), losses);
}

TEST(DataColumns, AnUnknownNameNamesTheFileAndTheHeadersNames) {
  TempDir dir;
  const std::string wide = write_text(dir / "wide.csv", three_columns_csv(20));
  expect_usage_error(
      run(kFitreel,
          with_short({"line", "--data", wide, "--columns", "t,sig", "--out", dir / "out"})),
      dir / "out", {"--data " + wide + ":1:", "no column named 'sig'", "'t', 'noise', 'signal'"});
  expect_usage_error(
      run(kFitreel, with_short({"net", "--data", wide, "--columns", "0,3", "--out", dir / "out"})),
      dir / "out", {wide + ":1:", "column index 3", "indices 0 to 2"});
  // Without --columns a file takes two columns exactly, as before.
  expect_usage_error(run(kFitreel, with_short({"line", "--data", wide, "--out", dir / "out"})),
                     dir / "out", {wide + ":1:", "expected 2 columns (x,y), found 3"});
}

TEST(DataColumns, TheOptionIsCheckedWhenParsedAndExplainedInHelp) {
  TempDir dir;
  const std::string wide = write_text(dir / "wide.csv", three_columns_csv(20));
  for (const auto& [columns, part] :
       std::vector<std::pair<std::string, std::string>>{{"t", "it takes X,Y"},
                                                        {"t,noise,signal", "it takes X,Y"},
                                                        {"0,", "an empty column"},
                                                        {" ,2", "an empty column"},
                                                        {"01,2", "leading zeros"}}) {
    expect_usage_error(run(kFitreel, with_short({"line", "--data", wide, "--columns", columns,
                                                 "--out", dir / "out"})),
                       dir / "out", {"--columns", part});
  }
  expect_usage_error(
      run(kFitreel, with_short({"line", "--columns", "t,signal", "--out", dir / "out"})),
      dir / "out", {"--columns", "give --data too"});
  const auto help = run(kFitreel, {"line", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* part : {"--columns", "0-based index", "header"}) {
    EXPECT_NE(help.out.find(part), std::string::npos) << part << " in: " << help.out;
  }
}

// ---- case 11: format limits checked when parsing ----

TEST(Preflight, GifFramesFasterThanFiftyPerSecondAreRefusedBeforeTraining) {
  TempDir dir;
  for (const char* fps : {"51", "110", "240"}) {
    expect_usage_error(run(kFitreel, {"line", "--video", "gif", "--fps", fps, "--epochs", "5",
                                      "--out", dir / "out"}),
                       dir / "out", {std::string("--fps ") + fps, "gif takes --fps 1 to 50"});
  }
  const auto fifty = run(kFitreel, {"line", "--video", "gif", "--fps", "50", "--epochs", "5",
                                    "--frames", "3", "--size", "64x64", "--out", dir / "out"});
  ASSERT_EQ(fifty.exit_code, 0) << fifty.err;
  EXPECT_EQ(testing::frames_in(dir / "out/line/line.gif"), 3);
}

// ---- case 13: messages that name the real cause ----

TEST(Messages, ADanglingOutLinkSaysWhereItPoints) {
  TempDir dir;
  fs::create_symlink(dir / "nowhere", dir / "out");
  const auto result = run(kFitreel, with_short({"line", "--out", dir / "out"}));
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("is a symbolic link to " + dir / "nowhere" + ", which does not exist"),
            std::string::npos)
      << result.err;
  EXPECT_FALSE(fs::exists(dir / "nowhere"));
}

TEST(Messages, ModelFilesBelongToOneDemo) {
  TempDir dir;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"all", "--save-model", dir / "x.pt"},
        std::vector<std::string>{"--load-model=" + dir / "x.pt"},
        std::vector<std::string>{"sweep", "line", "--save-model", dir / "x.pt"}}) {
    const auto result = run(kFitreel, args);
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_NE(result.err.find("belongs to `fitreel line` or `fitreel net`"), std::string::npos)
        << result.err;
    EXPECT_EQ(result.err.find("not expected"), std::string::npos) << result.err;
  }
}

TEST(Messages, HugeDataDivergesWithAdviceToScaleIt) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 10; ++i) {
    text += std::to_string(i) + "," + std::to_string(i + 1) + "e21\n";
  }
  const std::string csv = write_text(dir / "huge.csv", text);
  const auto result = run(kFitreel, with_short({"line", "--data", csv, "--out", dir.path()}));
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_NE(result.err.find("scale the data"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("a smaller --lr helps"), std::string::npos) << result.err;
}

// The progress line through a real terminal (util-linux `script` gives it a pty).
std::string terminal_output(const std::string& term) {
  ProcessOptions options;
  options.env["TERM"] = term;
  options.env["COLORTERM"] = std::nullopt;
  TempDir dir;
  const auto result =
      run("/usr/bin/script",
          {"-qefc", "'" + kFitreel + "' net --epochs 3000 --video none --out '" + dir.path() + "'",
           "/dev/null"},
          options);
  EXPECT_EQ(result.exit_code, 0) << result.err << result.out;
  return result.out;
}

TEST(Messages, ADumbTerminalGetsNoEscapeCodes) {
  EXPECT_NE(terminal_output("xterm").find("\033[K"), std::string::npos) << "the pty works";
  const std::string dumb = terminal_output("dumb");
  EXPECT_NE(dumb.find("net: epoch 3000/3000"), std::string::npos) << dumb;
  EXPECT_EQ(dumb.find('\033'), std::string::npos) << dumb;
}

TEST(Messages, MoreThreadsThanCoresWarnsOnce) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  ASSERT_EQ(::sched_getaffinity(0, sizeof allowed, &allowed), 0);
  const auto cores = static_cast<unsigned>(CPU_COUNT(&allowed));  // as nproc counts them
  ASSERT_GT(cores, 0U);
  ASSERT_LT(cores, 256U);
  TempDir dir;
  const auto many = run(
      kFitreel, with_short({"line", "--threads", std::to_string(cores + 1), "--out", dir.path()}));
  EXPECT_EQ(many.exit_code, 0) << many.err;
  const std::string warning = "more than the " + std::to_string(cores) + " cores";
  const size_t first = many.err.find(warning);
  EXPECT_NE(first, std::string::npos) << many.err;
  EXPECT_EQ(many.err.find(warning, first + 1), std::string::npos) << "once";
  const auto one = run(kFitreel, with_short({"line", "--threads", "1", "--out", dir.path()}));
  EXPECT_EQ(one.err.find("cores"), std::string::npos) << one.err;
}

TEST(Messages, ASecondSignalSaysTheResultsAreNotWritten) {
  TempDir dir;
  Process fitreel(kFitreel, {"net", "--epochs", "100000000", "--out", dir.path()});
  ASSERT_TRUE(fitreel.wait_for_stderr("training started", 120s));
  fitreel.send(SIGINT);
  fitreel.send(SIGTERM);
  const auto result = fitreel.wait(120s);
  EXPECT_TRUE(result.exit_code == 128 + SIGINT || result.exit_code == 128 + SIGTERM)
      << result.exit_code;
  EXPECT_NE(result.err.find("quitting at once: this demo's results are not written"),
            std::string::npos)
      << result.err;
  EXPECT_EQ(result.err.find("results are written"), std::string::npos) << result.err;
  EXPECT_FALSE(fs::exists(dir / "net"));
}

}  // namespace
}  // namespace fitreel
