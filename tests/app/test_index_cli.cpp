// DIR/index.html: one self-contained page for every fitreel result in DIR, refreshed only
// while fitreel wrote it.
#include "process.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

namespace fitreel {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::lines_of;
using testing::Process;
using testing::ProcessResult;
using testing::read_file;
using testing::run;
using testing::TempDir;

const std::string kFitreel = FITREEL_EXE;

ProcessResult quick(const std::string& command, const std::string& out,
                    const std::vector<std::string>& more = {"--video", "none"}) {
  std::vector<std::string> args = {command, "--epochs", "20", "--out", out};
  args.insert(args.end(), more.begin(), more.end());
  return run(kFitreel, args);
}

// %XX back to bytes, as a browser does with a relative URL.
std::string percent_decoded(const std::string& href) {
  std::string bytes;
  for (std::size_t i = 0; i < href.size(); ++i) {
    if (href[i] == '%' && i + 2 < href.size()) {
      bytes += static_cast<char>(std::stoi(href.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      bytes += href[i];
    }
  }
  return bytes;
}

// Every href and src of the page but the in-page anchors, decoded.
std::set<std::string> linked_paths(const std::string& page) {
  static const std::regex kLink("(?:href|src)=\"([^\"#][^\"]*)\"");
  std::set<std::string> paths;
  for (auto it = std::sregex_iterator(page.begin(), page.end(), kLink);
       it != std::sregex_iterator(); ++it) {
    paths.insert(percent_decoded((*it)[1]));
  }
  return paths;
}

// What the page must link: every entry below DIR/<name> (folders end in '/').
std::set<std::string> entries_of(const fs::path& dir, const std::string& name) {
  std::set<std::string> entries;
  for (const auto& entry : fs::recursive_directory_iterator(dir / name)) {
    entries.insert(name + "/" + entry.path().lexically_relative(dir / name).generic_string() +
                   (entry.is_directory() ? "/" : ""));
  }
  return entries;
}

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t count = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
    ++count;
  }
  return count;
}

TEST(IndexPage, AllWritesASelfContainedPageLinkingEveryFile) {
  TempDir dir;
  const std::string out = dir / "out";
  const auto result =
      quick("all", out, {"--frames", "6", "--fps", "6", "--size", "320x180", "--video", "mp4"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string page = read_file(out + "/index.html");
  ASSERT_FALSE(page.empty());
  for (const char* section : {"<section id=\"line\">", "<section id=\"net\">"}) {
    EXPECT_NE(page.find(section), std::string::npos) << section;
  }
  EXPECT_EQ(page.find("http://"), std::string::npos) << "no network reference";
  EXPECT_EQ(page.find("https://"), std::string::npos) << "no network reference";
  EXPECT_EQ(count_of(page, "<video "), 2U);
  EXPECT_NE(page.find("muted loop controls autoplay playsinline"), std::string::npos);
  EXPECT_EQ(count_of(page, "<svg "), 2U) << "a loss chart per demo";
  EXPECT_NE(page.find("[info] training line"), std::string::npos) << "the run's log is shown";
  EXPECT_NE(page.find("least squares"), std::string::npos);

  const std::set<std::string> linked = linked_paths(page);
  for (const std::string& path : linked) {
    EXPECT_EQ(path.find("://"), std::string::npos) << path;
    EXPECT_NE(path.front(), '/') << "relative links only: " << path;
    EXPECT_TRUE(fs::exists(fs::path(out) / path)) << "link does not resolve: " << path;
  }
  for (const char* name : {"line", "net"}) {
    EXPECT_TRUE(fs::exists(fs::path(out) / name / "log.txt")) << name;
    for (const std::string& entry : entries_of(out, name)) {
      EXPECT_EQ(linked.count(entry), 1U) << "not linked: " << entry;
    }
  }
}

TEST(IndexPage, AForeignIndexIsLeftAloneWithOneWarning) {
  TempDir dir;
  const std::string out = dir / "out";
  fs::create_directories(out);
  const std::string mine = "<html>my own page</html>\n";
  std::ofstream(out + "/index.html", std::ios::binary) << mine;
  for (int run = 0; run < 2; ++run) {
    const auto result = quick("line", out);
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(read_file(out + "/index.html"), mine);
    std::size_t warnings = 0;
    for (const std::string& line : lines_of(result.err)) {
      if (line.find("index.html") != std::string::npos) {
        EXPECT_EQ(line.rfind("[warning]", 0), 0U) << line;
        ++warnings;
      }
    }
    EXPECT_EQ(warnings, 1U) << result.err;
  }
}

TEST(IndexPage, LaterRunsRefreshTheirOwnPageWithEarlierResults) {
  TempDir dir;
  const std::string out = dir / "out";
  ASSERT_EQ(quick("line", out).exit_code, 0);
  const std::string first = read_file(out + "/index.html");
  EXPECT_NE(first.find("<section id=\"line\">"), std::string::npos);
  EXPECT_EQ(first.find("<section id=\"net\">"), std::string::npos);

  ASSERT_EQ(quick("net", out).exit_code, 0);
  const std::string second = read_file(out + "/index.html");
  EXPECT_NE(second.find("<section id=\"line\">"), std::string::npos) << "the earlier run stays";
  EXPECT_NE(second.find("<section id=\"net\">"), std::string::npos);

  // A folder fitreel does not own is no result of fitreel's.
  fs::create_directories(out + "/net");
  std::ofstream(out + "/net/notes.txt") << "mine";
  ASSERT_EQ(quick("line", out).exit_code, 0);
  EXPECT_EQ(read_file(out + "/index.html").find("<section id=\"net\">"), std::string::npos);
}

TEST(IndexPage, ShowsASweepAndEscapesOddBytes) {
  TempDir dir;
  const std::string out = dir / "out-caf\xE9";  // Latin-1: not UTF-8
  const auto result =
      run(kFitreel, {"sweep", "line", "--lrs", "0.01,1e30", "--epochs", "20", "--frames", "4",
                     "--size", "320x180", "--video", "gif", "--out", out});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string page = read_file(out + "/index.html");
  EXPECT_NE(page.find("<section id=\"sweep-line\">"), std::string::npos);
  EXPECT_NE(page.find("<img src=\"sweep-line/sweep-line.gif\""), std::string::npos);
  EXPECT_NE(page.find("sweep-line/sweep.png"), std::string::npos);
  EXPECT_NE(page.find("<td>1e+30</td>"), std::string::npos) << "a row per rate";
  const size_t best = page.find("<tr class=\"best\"><td>0.01</td>");
  ASSERT_NE(best, std::string::npos) << "the best run is marked";
  EXPECT_NE(page.find("(best)</td>", best), std::string::npos);
  EXPECT_LT(best, page.find("<td>1e+30</td>")) << "rates ascend";
  EXPECT_EQ(page.find("caf\xE9"), std::string::npos) << "raw bytes that are not UTF-8";
  EXPECT_NE(page.find("caf\xEF\xBF\xBD"), std::string::npos) << "shown as U+FFFD";
}

TEST(IndexPage, DivergedAndInterruptedRunsShowTheirResults) {
  TempDir dir;
  const std::string out = dir / "out";
  EXPECT_EQ(quick("line", out, {"--lr", "1e30", "--video", "none"}).exit_code, 3);
  EXPECT_NE(read_file(out + "/index.html").find("<section id=\"line\">"), std::string::npos);

  Process fitreel(kFitreel, {"net", "--epochs", "100000000", "--video", "none", "--out", out});
  ASSERT_TRUE(fitreel.wait_for_stderr("training started", 120s));
  fitreel.send(SIGINT);
  EXPECT_EQ(fitreel.wait(120s).exit_code, 130);
  const std::string page = read_file(out + "/index.html");
  EXPECT_NE(page.find("<section id=\"net\">"), std::string::npos);
  EXPECT_NE(page.find("interrupted after"), std::string::npos) << "the log says so";
}

}  // namespace
}  // namespace fitreel
