#pragma once

// DIR/index.html: one self-contained page for every fitreel result in DIR.

#include <fitreel/files/folder.hpp>

#include <string>
#include <string_view>

namespace fitreel::app {

/// The page's name in DIR.
inline constexpr const char* kIndexPageName = "index.html";

/// Writes DIR/index.html (atomically) covering every result folder fitreel owns in `dir` (line,
/// net, sweep-line, sweep-net, and <name>-N beside them: this run's and earlier runs'), when
/// index.html is absent or is a page fitreel wrote and no one changed since: fitreel marks its
/// page inside the page itself (a generator tag with a digest of the page), so DIR holds no
/// marker file. Any other index.html is left alone with one warning. The caller holds DIR's
/// lock. Never throws: the page is a view of the results, so failing to write it only warns.
void refresh_index_page(const files::Folder& dir);

/// `page` with fitreel's mark filled in (its digest), and whether a page carries a mark that
/// matches its text: exposed for tests.
std::string mark_page(std::string page);
bool page_is_marked(std::string_view page);

}  // namespace fitreel::app
