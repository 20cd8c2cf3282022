#include "ownership.hpp"

#include <nlohmann/json.hpp>

#include <regex>
#include <set>

namespace fitreel::app {

namespace {

// A name fitreel 0.1 wrote into DIR/<name>.
bool written_by_version_0_1(const std::string& entry, const std::string& name) {
  static const std::set<std::string> kFixed = {"summary.json", "loss.csv",   "data.png",
                                               "truth.png",    "before.png", "after.png",
                                               "sweep.json",   "sweep.png",  "frames/"};
  static const std::regex kFrame("frames/frame_[0-9]{5}\\.png");
  return kFixed.count(entry) != 0 || entry == name + ".mp4" || entry == name + ".webm" ||
         entry == name + ".avi" || entry == name + ".gif" || std::regex_match(entry, kFrame);
}

bool has_fitreel_summary(const files::Folder& folder) {
  for (const char* file : {"summary.json", "sweep.json"}) {
    try {
      const auto json = nlohmann::json::parse(folder.read_file(file, files::kSmallFileBytes),
                                              nullptr, /*allow_exceptions=*/false);
      if (json.is_object() && json.contains("fitreel_version")) {
        return true;
      }
    } catch (const files::FileError&) {  // absent, a link, not a regular file, too large
    }
  }
  return false;
}

}  // namespace

files::LegacyRule version_0_1_rule(const std::string& name) {
  return {[name](const std::string& entry) { return written_by_version_0_1(entry, name); },
          has_fitreel_summary};
}

}  // namespace fitreel::app
