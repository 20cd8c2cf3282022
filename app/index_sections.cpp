#include "index_sections.hpp"

#include "html_text.hpp"
#include "ownership.hpp"

#include <fitreel/files/result_folder.hpp>
#include <fitreel/reel/loss_csv.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <optional>
#include <sstream>
#include <tuple>
#include <vector>

namespace fitreel::app {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

// A summary or log of fitreel's, or "" (absent, a link, not a regular file, over 16 MiB).
std::string read_small_file(const files::Folder& folder, const std::string& name) {
  try {
    return folder.read_file(name, files::kSmallFileBytes);
  } catch (const files::FileError&) {
    return "";
  }
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// JSON values as short text: numbers to 6 significant digits (the JSON files keep them all),
// strings without quotes.
std::string value_text(const Json& value) {
  if (value.is_string()) {
    return value.get<std::string>();
  }
  if (value.is_number_float()) {
    return fmt::format("{:.6g}", value.get<double>());
  }
  if (value.is_array()) {
    std::string text = "[";
    for (const Json& item : value) {
      text += (text.size() > 1 ? ", " : "") + value_text(item);
    }
    return text + "]";
  }
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string table_row(const std::string& key, const std::string& value) {
  return "<tr><th>" + escape_html(key) + "</th><td>" + escape_html(value) + "</td></tr>\n";
}

// The videos and stills, each where a browser can show it (AVI and PNG frames only linked).
std::string media_html(const std::string& name, const std::vector<std::string>& entries) {
  std::string html;
  for (const std::string& entry : entries) {
    const std::string href = relative_href(name + "/" + entry);
    const std::string label = escape_html(name + "/" + entry);
    if (ends_with(entry, ".mp4") || ends_with(entry, ".webm")) {
      html += "<figure><video src=\"" + href +
              "\" muted loop controls autoplay playsinline preload=\"auto\"></video><figcaption>" +
              label + "</figcaption></figure>\n";
    } else if (ends_with(entry, ".gif")) {
      html += "<figure><img src=\"" + href + "\" alt=\"" + label + "\"><figcaption>" + label +
              "</figcaption></figure>\n";
    } else if (ends_with(entry, ".avi")) {
      html += "<p>Video (AVI, which browsers do not play): <a href=\"" + href + "\">" + label +
              "</a></p>\n";
    } else if (entry == "frames/") {
      html += "<p>Video as PNG frames: <a href=\"" + href + "\">" + label + "</a></p>\n";
    }
  }
  for (const char* still : {"data.png", "truth.png", "before.png", "after.png", "sweep.png"}) {
    if (std::find(entries.begin(), entries.end(), still) != entries.end()) {
      const std::string href = relative_href(name + "/" + still);
      html += "<figure class=\"still\"><a href=\"" + href + "\"><img src=\"" + href + "\" alt=\"" +
              still + "\"></a><figcaption>" + still + "</figcaption></figure>\n";
    }
  }
  return html;
}

// Training and (when held-out points were tested) test loss, from the folder's CSV files.
std::string chart_html(const files::Folder& folder) {
  std::vector<ChartSeries> series;
  for (const auto& [file, label, color] : {std::tuple{"loss.csv", "training loss", "#1f77b4"},
                                           std::tuple{"test_loss.csv", "test loss", "#d62728"}}) {
    auto points = read_loss_csv(folder, file);
    if (!points.empty()) {
      series.push_back({label, color, std::move(points)});
    }
  }
  const std::string svg = loss_chart_svg(series);
  return svg.empty() ? "" : "<h3>Loss</h3>\n" + svg + "\n";
}

// Parameters before and after, the least-squares optimum and test MSE, then the rest.
std::string summary_html(const Json& summary) {
  std::string html = "<h3>Summary</h3>\n<table class=\"summary\">\n";
  for (const auto& [key, label] :
       {std::pair{"initial_params", "parameters before"},
        std::pair{"final_params", "parameters after"},
        std::pair{"least_squares", "least squares [w, b]"}, std::pair{"test_mse", "test MSE"}}) {
    if (summary.contains(key) && !summary[key].is_null()) {
      html += table_row(label, value_text(summary[key]));
    }
  }
  for (const auto& [key, value] : summary.items()) {
    if (value.is_primitive() && key != "test_mse") {
      html += table_row(key, value_text(value));
    }
  }
  return html + "</table>\n";
}

// A run's final loss, or infinity when it diverged or never trained (such runs sort last).
double final_loss_of(const Json& run) {
  const auto loss = run.find("final_loss");
  return loss != run.end() && loss->is_number() ? loss->get<double>() : INFINITY;
}

// A sweep's runs, grouped by learning rate (ascending), best first within a rate; the best of
// all is marked, as the loss chart marks it.
std::string sweep_html(const Json& sweep) {
  std::string html = summary_html(sweep);
  if (!sweep.contains("runs") || !sweep["runs"].is_array()) {
    return html;
  }
  std::vector<const Json*> runs;
  for (const Json& run : sweep["runs"]) {
    if (run.is_object()) runs.push_back(&run);
  }
  const auto lr_of = [](const Json* run) {
    const auto lr = run->find("lr");
    return lr != run->end() && lr->is_number() ? lr->get<double>() : INFINITY;
  };
  std::stable_sort(runs.begin(), runs.end(), [&](const Json* a, const Json* b) {
    return std::make_tuple(lr_of(a), final_loss_of(*a)) <
           std::make_tuple(lr_of(b), final_loss_of(*b));
  });
  const Json* best = nullptr;
  for (const Json* run : runs) {
    if (std::isfinite(final_loss_of(*run)) &&
        (!best || final_loss_of(*run) < final_loss_of(*best))) {
      best = run;
    }
  }
  html +=
      "<h3>Runs</h3>\n<table class=\"runs\"><tr><th>lr</th><th>seed</th><th>outcome</th>"
      "<th>epochs run</th><th>parameters after</th></tr>\n";
  for (const Json* run : runs) {
    html += run == best ? "<tr class=\"best\">" : "<tr>";
    for (const char* key : {"lr", "seed", "outcome", "epochs_run", "final_params"}) {
      std::string cell = run->contains(key) ? value_text((*run)[key]) : "";
      if (run == best && std::string(key) == "outcome") cell += " (best)";
      html += "<td>" + escape_html(cell) + "</td>";
    }
    html += "</tr>\n";
  }
  return html + "</table>\n";
}

}  // namespace

std::string result_section(const files::Folder& dir, const std::string& name) {
  std::vector<std::string> entries;
  std::optional<files::Folder> folder;
  try {
    folder.emplace(dir.open_folder(name));
    entries = files::entries_below(*folder);
  } catch (const files::FileError&) {
    return "";
  }
  std::string html = "<section id=\"" + escape_html(name) + "\">\n<h2>" + escape_html(name) +
                     "</h2>\n" + media_html(name, entries) + chart_html(*folder);
  for (const char* file : {"summary.json", "sweep.json"}) {
    const Json json = Json::parse(read_small_file(*folder, file), nullptr, false);
    if (json.is_object()) {
      html += std::string(file) == "sweep.json" ? sweep_html(json) : summary_html(json);
    }
  }
  if (folder->type_of("log.txt") == files::EntryType::file) {
    const std::string log = read_small_file(*folder, "log.txt");
    html += "<h3>What the run told</h3>\n" +
            (log.empty() ? std::string("<p>Nothing (a quiet run tells only warnings).</p>\n")
                         : "<pre class=\"log\">" + escape_html(log) + "</pre>\n");
  }
  html += "<details><summary>Every file</summary>\n<ul class=\"files\">\n";
  for (const std::string& entry : entries) {
    html += "<li><a href=\"" + relative_href(name + "/" + entry) + "\">" +
            escape_html(name + "/" + entry) + "</a></li>\n";
  }
  return html + "</ul></details>\n</section>\n";
}

}  // namespace fitreel::app
