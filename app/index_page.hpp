#pragma once

// DIR/index.html: one self-contained page for every fitreel result in DIR.

#include <filesystem>

namespace fitreel::app {

/// The page's name in DIR, and the DIR-level manifest that says fitreel wrote it.
inline constexpr const char* kIndexPageName = "index.html";
inline constexpr const char* kIndexManifestName = ".fitreel-index";

/// Writes `dir`/index.html (atomically) covering every result folder fitreel owns in `dir`
/// (line, net, sweep-line, sweep-net: this run's and earlier runs'), when index.html is absent
/// or listed in `dir`/.fitreel-index. A foreign index.html is left alone with one warning.
/// Never throws: the page is a view of the results, so failing to write it only warns.
void refresh_index_page(const std::filesystem::path& dir);

}  // namespace fitreel::app
