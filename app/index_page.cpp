#include "index_page.hpp"

#include "html_text.hpp"
#include "index_sections.hpp"
#include "ownership.hpp"

#include <fitreel/files/atomic_file.hpp>
#include <fitreel/files/result_folder.hpp>
#include <fitreel/version.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <exception>
#include <regex>
#include <string>
#include <vector>

namespace fitreel::app {

namespace {

// The mark: <meta name="generator" content="fitreel VERSION" data-fitreel-digest="HEX">, where
// HEX is the FNV-1a 64 digest of the page with HEX itself written as 16 zeros. It tells a page
// fitreel wrote, unchanged since, from anything else (a page of the user's, or one they
// edited); it is no defence against someone who wants fitreel to overwrite their own page.
constexpr std::string_view kDigestAttribute = "data-fitreel-digest=\"";
constexpr std::string_view kZeroDigest = "0000000000000000";
constexpr std::uint64_t kMostPageBytes = std::uint64_t{1} << 26;

std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// The result folders fitreel may have made in DIR, in the order the page shows them: the four
// names, each followed by its numbered siblings (a run that found the folder changed publishes
// beside it as <name>-2, ...).
std::vector<std::string> result_names(const files::Folder& dir) {
  static const std::vector<std::string> kNames = {"line", "net", "sweep-line", "sweep-net"};
  std::vector<std::string> names;
  const std::vector<files::Entry> entries = dir.entries();
  for (const std::string& name : kNames) {
    names.push_back(name);
    const std::regex numbered(name + "-([2-9]|[1-9][0-9])");
    for (const files::Entry& entry : entries) {
      if (entry.type == files::EntryType::folder && std::regex_match(entry.name, numbered)) {
        names.push_back(entry.name);
      }
    }
  }
  return names;
}

// fitreel 0.2 listed its page in DIR/.fitreel-index instead of marking it.
constexpr const char* kVersion02Manifest = ".fitreel-index";
constexpr std::string_view kVersion02Header = "# fitreel index manifest: ";

bool written_by_version_0_2(const files::Folder& dir, const std::string& page) {
  try {
    const std::string manifest = dir.read_file(kVersion02Manifest, 1 << 16);
    return manifest.rfind(kVersion02Header, 0) == 0 &&
           manifest.find("\nindex.html\n") != std::string::npos &&
           page.find("<meta name=\"generator\" content=\"fitreel 0.2") != std::string::npos;
  } catch (const files::FileError&) {
    return false;
  }
}

// True when fitreel may write DIR/index.html: none is there, or the one there is fitreel's,
// unchanged (or fitreel 0.2's, listed in its manifest).
bool index_is_ours(const files::Folder& dir, bool& from_version_0_2) {
  from_version_0_2 = false;
  const files::EntryType type = dir.type_of(kIndexPageName);
  if (type == files::EntryType::none) {
    return true;
  }
  if (type != files::EntryType::file) {
    return false;
  }
  try {
    const std::string page = dir.read_file(kIndexPageName, kMostPageBytes);
    from_version_0_2 = !page_is_marked(page) && written_by_version_0_2(dir, page);
    return from_version_0_2 || page_is_marked(page);
  } catch (const files::FileError&) {
    return false;
  }
}

// A run killed while writing the page leaves the atomic writer's hidden temporary file
// (".index.html.tmp-XXXXXX") in DIR; with DIR's lock held, no other run is writing one. Only a
// regular file holding (the start of) a page of fitreel's is removed.
void remove_killed_writes(const files::Folder& dir) {
  static const std::regex kTemporary("\\.index\\.html\\.tmp-[a-z0-9]{6}");
  for (const files::Entry& entry : dir.entries()) {
    if (entry.type != files::EntryType::file || !std::regex_match(entry.name, kTemporary)) {
      continue;
    }
    try {
      const std::string start = dir.read_file(entry.name, kMostPageBytes);
      if (start.empty() ||
          start.find("<meta name=\"generator\" content=\"fitreel ") != std::string::npos) {
        dir.remove_file(entry.name);
      }
    } catch (const files::FileError&) {  // too large or gone: not ours to judge
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
tr.best td { font-weight: bold; }
pre.log { background: #f6f6f6; padding: 0.5em; overflow-x: auto; font-size: 0.85em; }
</style>
)";

std::string page_html(const files::Folder& dir, const std::vector<std::string>& shown) {
  const std::filesystem::path& path = dir.path();
  std::string nav, sections;
  for (const std::string& name : shown) {
    nav += "<a href=\"#" + escape_html(name) + "\">" + escape_html(name) + "</a>";
    sections += result_section(dir, name);
  }
  return "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"generator\" content=\"fitreel " +
         std::string(kVersion) + "\" " + std::string(kDigestAttribute) + std::string(kZeroDigest) +
         "\">\n<title>fitreel results: " +
         escape_html(path.filename().empty() ? path.string() : path.filename().string()) +
         "</title>\n" + kStyle + "</head>\n<body>\n<h1>fitreel results</h1>\n<p>" +
         escape_html(std::filesystem::absolute(path).lexically_normal().string()) + "</p>\n<nav>" +
         nav + "</nav>\n" + (shown.empty() ? "<p>No fitreel results here.</p>\n" : sections) +
         "</body>\n</html>\n";
}

}  // namespace

std::string mark_page(std::string page) {
  const std::size_t at = page.find(kDigestAttribute);
  if (at != std::string::npos) {
    page.replace(at + kDigestAttribute.size(), kZeroDigest.size(),
                 fmt::format("{:016x}", fnv1a(page)));
  }
  return page;
}

bool page_is_marked(std::string_view page) {
  const std::size_t at = page.find(kDigestAttribute);
  if (at == std::string_view::npos || page.size() < at + kDigestAttribute.size() + 16) {
    return false;
  }
  const std::size_t digest_at = at + kDigestAttribute.size();
  std::string zeroed(page);
  zeroed.replace(digest_at, kZeroDigest.size(), kZeroDigest);
  return page.substr(digest_at, 16) == fmt::format("{:016x}", fnv1a(zeroed));
}

void refresh_index_page(const files::Folder& dir) {
  try {
    remove_killed_writes(dir);
    bool from_version_0_2 = false;
    if (!index_is_ours(dir, from_version_0_2)) {
      spdlog::warn(
          "left {} alone: fitreel did not write it, or it was changed since (no index "
          "page written)",
          dir.path_of(kIndexPageName).string());
      return;
    }
    std::vector<std::string> shown;
    for (const std::string& name : result_names(dir)) {
      if (files::owned_by_fitreel(dir, name, version_0_1_rule(name))) {
        shown.push_back(name);
      }
    }
    files::write_file_atomically(dir, kIndexPageName, mark_page(page_html(dir, shown)));
    if (from_version_0_2) {
      dir.remove_file(kVersion02Manifest);  // the page is marked now: no marker file needed
    }
    spdlog::info("wrote {}", dir.path_of(kIndexPageName).string());
  } catch (const std::exception& error) {
    spdlog::warn("could not write {}: {}", dir.path_of(kIndexPageName).string(), error.what());
  }
}

}  // namespace fitreel::app
