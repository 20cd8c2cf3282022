#include "index_page.hpp"

#include "html_text.hpp"
#include "index_sections.hpp"
#include "ownership.hpp"

#include <fitreel/files/atomic_file.hpp>
#include <fitreel/version.hpp>

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <exception>
#include <fstream>
#include <string>
#include <vector>

namespace fitreel::app {

namespace fs = std::filesystem;

namespace {

constexpr const char* kManifestHeader =
    "# fitreel index manifest: fitreel wrote the files listed here and refreshes them after "
    "every run.\n";

// The result folders fitreel may have made in DIR, in the order the page shows them.
const std::vector<std::string>& result_names() {
  static const std::vector<std::string> names = {"line", "net", "sweep-line", "sweep-net"};
  return names;
}

bool listed_in_manifest(const fs::path& dir) {
  std::ifstream in(dir / kIndexManifestName);
  for (std::string line; std::getline(in, line);) {
    if (line == kIndexPageName) {
      return true;
    }
  }
  return false;
}

// True when fitreel may write DIR/index.html: none is there, or fitreel listed it.
bool index_is_ours(const fs::path& dir) {
  std::error_code error;
  const auto status = fs::symlink_status(dir / kIndexPageName, error);
  if (!fs::exists(status)) {
    return true;
  }
  const auto manifest = fs::symlink_status(dir / kIndexManifestName, error);
  return fs::is_regular_file(status) && fs::is_regular_file(manifest) && listed_in_manifest(dir);
}

// Two runs into one DIR (different folders) each refresh the page; one at a time, so the page
// written last has seen the other run's results.
class IndexLock {
 public:
  explicit IndexLock(const fs::path& dir)
      : fd_(::open((dir / ".index.lock").c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644)) {
    if (fd_ >= 0) {
      ::flock(fd_, LOCK_EX);
    }
  }
  ~IndexLock() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  IndexLock(const IndexLock&) = delete;
  IndexLock& operator=(const IndexLock&) = delete;

 private:
  int fd_;
};

// A run killed while writing the page leaves the atomic writer's hidden temporary file
// (".index.html.tmp-XXXXXX") in DIR; with the lock held, no other run is writing one.
void remove_killed_writes(const fs::path& dir) {
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    for (const std::string& file : {std::string(kIndexPageName), std::string(kIndexManifestName)}) {
      const std::string prefix = "." + file + ".tmp-";
      if (name.compare(0, prefix.size(), prefix) == 0 && entry.is_regular_file(error)) {
        fs::remove(entry.path(), error);
      }
    }
  }
}

constexpr const char* kStyle = R"(<style>
body { font-family: sans-serif; margin: 2em auto; max-width: 1320px; padding: 0 1em; color: #222; }
nav a { margin-right: 1em; }
section { border-top: 1px solid #ccc; margin-top: 2em; }
figure { display: inline-block; margin: 0.5em; vertical-align: top; }
video { max-width: 100%; width: 1280px; background: #000; }
figure.still img { width: 420px; border: 1px solid #ddd; }
figcaption { font-size: 0.85em; color: #555; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }
pre.log { background: #f6f6f6; padding: 0.5em; overflow-x: auto; font-size: 0.85em; }
</style>
)";

std::string page_html(const fs::path& dir, const std::vector<std::string>& shown) {
  std::string nav, sections;
  for (const std::string& name : shown) {
    nav += "<a href=\"#" + name + "\">" + name + "</a>";
    sections += result_section(dir / name, name);
  }
  return "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"generator\" content=\"fitreel " +
         std::string(kVersion) + "\">\n<title>fitreel results: " +
         escape_html(dir.filename().empty() ? dir.string() : dir.filename().string()) +
         "</title>\n" + kStyle + "</head>\n<body>\n<h1>fitreel results</h1>\n<p>" +
         escape_html(fs::absolute(dir).lexically_normal().string()) + "</p>\n<nav>" + nav +
         "</nav>\n" + (shown.empty() ? "<p>No fitreel results here.</p>\n" : sections) +
         "</body>\n</html>\n";
}

}  // namespace

void refresh_index_page(const fs::path& dir) {
  try {
    const IndexLock lock(dir);
    remove_killed_writes(dir);
    if (!index_is_ours(dir)) {
      spdlog::warn("left {} alone: fitreel did not write it (no index page written)",
                   (dir / kIndexPageName).string());
      return;
    }
    std::vector<std::string> shown;
    for (const std::string& name : result_names()) {
      if (owned_by_fitreel(dir / name, name)) {
        shown.push_back(name);
      }
    }
    // The manifest first: a kill between the two writes leaves a listed page that is absent,
    // never a page of fitreel's that is not listed (and so never refreshed again).
    files::write_file_atomically(dir / kIndexManifestName,
                                 std::string(kManifestHeader) + kIndexPageName + "\n");
    files::write_file_atomically(dir / kIndexPageName, page_html(dir, shown));
    spdlog::info("wrote {}", (dir / kIndexPageName).string());
  } catch (const std::exception& error) {
    spdlog::warn("could not write {}: {}", (dir / kIndexPageName).string(), error.what());
  }
}

}  // namespace fitreel::app
