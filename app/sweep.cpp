#include "sweep.hpp"

#include "sweep_runs.hpp"

#include "json_text.hpp"
#include "output.hpp"
#include "progress.hpp"
#include "scene.hpp"
#include "setup.hpp"
#include "signals.hpp"

#include <fitreel/checkpoint.hpp>
#include <fitreel/device.hpp>
#include <fitreel/error.hpp>
#include <fitreel/evaluate.hpp>
#include <fitreel/files/atomic_file.hpp>
#include <fitreel/render/loss_chart.hpp>
#include <fitreel/render/video.hpp>
#include <fitreel/version.hpp>

#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

namespace fitreel::app {

namespace {

constexpr size_t kMostPanels = 16;  // a 4x4 grid: 320x180 panels at 1280x720

// The snapshot a run shows at `epoch`: the last one at or before it (a run that diverged or
// stopped keeps showing where it ended).
const Snapshot* snapshot_at(const SweepRun& run, int64_t epoch) {
  const Snapshot* shown = nullptr;
  for (const Snapshot& s : run.snapshots) {
    if (s.epoch > epoch) {
      break;
    }
    shown = &s;
  }
  return shown;
}

// NaN for a run that diverged or never trained: such runs sort last.
double final_loss(const SweepRun& run) {
  return run.trained && run.result.epochs_run > 0 ? run.result.losses.last() : NAN;
}

// The runs the grid shows: all of them up to 16; else 16 spread evenly over the runs sorted by
// final loss (best first, diverged last), so the grid shows the whole range of outcomes.
std::vector<size_t> shown_runs(const std::vector<SweepRun>& runs) {
  std::vector<size_t> order(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    order[i] = i;
  }
  if (runs.size() <= kMostPanels) {
    return order;
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const double la = final_loss(runs[a]);
    const double lb = final_loss(runs[b]);
    return std::isfinite(la) && (!std::isfinite(lb) || la < lb);
  });
  std::vector<size_t> shown;
  for (size_t i = 0; i < kMostPanels; ++i) {
    shown.push_back(order[i * (order.size() - 1) / (kMostPanels - 1)]);
  }
  return shown;
}

// A run's final parameters for sweep.json: inline while small, else the name of a checkpoint
// (models/<index>.pt in the result folder) written now.
nlohmann::ordered_json params_or_file(const SweepTraining& training, size_t index,
                                      const DemoOutput& output) {
  const SweepRun& run = training.runs[index];
  int64_t count = 0;
  for (const auto& tensor : run.result.final_params) {
    count += static_cast<int64_t>(tensor.size());
  }
  if (count <= kMostInlineParameters) {
    return run.result.final_params;
  }
  if (!run.trained) {
    return nullptr;
  }
  if (output.staging().type_of("models") == files::EntryType::none) {
    output.staging().make_folder("models");
  }
  const std::string name = "models/" + std::to_string(index) + ".pt";
  save_checkpoint(training.models[index], run.setup.architecture, output.staging(), name);
  return output.final_path(name).string();
}

}  // namespace

DemoOutcome run_sweep(const RunOptions& options, const XyPoints* file, DemoOutput& output) {
  const std::string demo(demo_name(options.sweep_demo));
  SweepTraining training = plan_sweep(options.sweep_demo, options, file);
  // The frames' epochs and the curve's x are the same for every model (same sizes and x).
  const DemoSetup& planned = training.runs.front().setup;
  const torch::Tensor curve_x = curve_inputs(planned.data);
  const std::vector<int64_t> frame_at =
      frame_epochs(planned.epochs, options.frames, planned.schedule);
  train_sweep(training, options,
              options.video != VideoChoice::none ? frame_at : std::vector<int64_t>{}, curve_x);
  std::vector<SweepRun>& runs = training.runs;
  const DemoSetup& setup = runs.front().setup;

  // The grid video: one small fit panel per shown run, every panel at the same epoch.
  const std::vector<size_t> shown = shown_runs(runs);
  const cv::Size size(options.width, options.height);
  const render::GridLayout layout = render::grid_layout(shown.size(), size);
  const render::Layers panel_layers = render::Layers::all().without(render::Layer::side_panel);
  std::vector<render::FitPlot> panels;
  torch::nn::Sequential& names_model = training.models.front();  // for parameter names
  const FilmOptions look = film_options_for(setup, options, names_model);
  for (size_t i : shown) {
    render::FitScene scene =
        film_scene(names_model, runs[i].setup.data, curve_x, setup.epochs, look);
    scene.title = run_label(runs[i], options);
    panels.emplace_back(std::move(scene), layout.cell, panel_layers);
  }
  std::optional<std::string> video_name;
  int64_t frames = 0;
  if (auto sink = open_frame_sink(options, output, "sweep-" + demo, video_name)) {
    std::vector<cv::Mat> images(shown.size());
    cv::Mat frame;
    for (int64_t epoch : frame_at) {
      for (size_t p = 0; p < shown.size(); ++p) {
        const SweepRun& run = runs[shown[p]];
        render::FitFrame drawn;
        if (const Snapshot* s = snapshot_at(run, epoch)) {
          drawn = {s->epoch, s->loss, {}, s->curve};
        }
        const auto& diverged = run.result.diverged_at_epoch;
        if (diverged && epoch >= *diverged) {
          drawn.note = "diverged at epoch " + std::to_string(*diverged);
        } else if (!run.trained || run.result.epochs_run == 0) {
          drawn.note = run_outcome(run, training);
        }
        panels[p].draw(drawn, images[p], panel_layers);
      }
      render::tile(images, layout, size, frame);
      sink->write(frame);
    }
    sink->finish();
    frames = sink->frames();
  }

  // sweep.png: every model's loss curve on one log-scale chart (labelled while few).
  std::vector<render::LossSeries> series;
  const bool labelled = runs.size() <= kMostPanels;
  const int64_t points_per_curve = labelled ? 1000 : 200;  // bounded drawing for 256 curves
  for (size_t i = 0; i < runs.size(); ++i) {
    render::LossSeries curve{labelled ? run_label(runs[i], options) +
                                            (runs[i].result.diverged_at_epoch ? " (diverged)" : "")
                                      : std::string(),
                             render::series_color(i),
                             {}};
    curve.points = loss_points(runs[i].result.losses, setup.schedule, points_per_curve);
    series.push_back(std::move(curve));
  }
  cv::Mat chart(size, CV_8UC3, render::colors::kBackground);
  const double text_scale = size.height / 720.0;
  render::draw_text(chart,
                    "sweep " + demo + ": training loss of " + std::to_string(runs.size()) +
                        " models" + (training.batched ? ", trained in one batch" : ""),
                    {static_cast<int>(90 * text_scale), static_cast<int>(45 * text_scale)},
                    {1.5 * text_scale, render::colors::kInk, true});
  render::draw_loss_chart(
      chart,
      cv::Rect(static_cast<int>(110 * text_scale), static_cast<int>(80 * text_scale),
               size.width - static_cast<int>(150 * text_scale),
               size.height - static_cast<int>(175 * text_scale)),
      setup.epochs, setup.schedule == Schedule::log ? render::Scale::log1p : render::Scale::linear,
      series, text_scale);
  render::write_png(output.staging(), "sweep.png", chart);

  output.choose_destination();  // sweep.json names where its video will be
  nlohmann::ordered_json json_runs = nlohmann::ordered_json::array();
  bool interrupted = stop_signal() != 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    const TrainResult& r = runs[i].result;
    interrupted = interrupted || r.interrupted;
    const double loss = final_loss(runs[i]);
    json_runs.push_back(
        {{"seed", runs[i].seed},
         {"lr", runs[i].lr},
         {"trained", runs[i].trained && r.epochs_run > 0},
         {"outcome", run_outcome(runs[i], training)},
         {"final_loss",
          std::isfinite(loss) ? nlohmann::ordered_json(loss) : nlohmann::ordered_json(nullptr)},
         {"final_params", params_or_file(training, i, output)},
         {"diverged", r.diverged_at_epoch.has_value()},
         {"diverged_at_epoch", r.diverged_at_epoch ? nlohmann::ordered_json(*r.diverged_at_epoch)
                                                   : nlohmann::ordered_json(nullptr)},
         {"epochs_run", r.epochs_run},
         {"train_seconds", r.seconds},
         {"in_video", std::find(shown.begin(), shown.end(), i) != shown.end()}});
    if (labelled || !runs[i].trained) {
      spdlog::info("{:>18}: {}", run_label(runs[i], options), run_outcome(runs[i], training));
    }
  }
  const nlohmann::ordered_json sweep = {
      {"demo", demo},
      {"seed", options.seed},
      {"seeds", options.seeds.empty() ? std::vector<uint64_t>{options.seed} : options.seeds},
      {"lrs", options.lrs},
      {"epochs", setup.epochs},
      {"optimizer", std::string(optimizer_name(setup.optimizer))},
      {"model", setup.architecture},
      {"device", device_name(setup.device)},
      {"batched", training.batched},
      {"batch_size", training.batch_size},
      {"runs", json_runs},
      {"train_seconds", training.seconds},
      {"interrupted", interrupted},
      {"video", video_name ? nlohmann::ordered_json(output.final_path(*video_name).string())
                           : nlohmann::ordered_json(nullptr)},
      {"frames", frames},
      {"fitreel_version", kVersion},
      {"command", options.command_line}};
  files::write_file_atomically(output.staging(), "sweep.json", json_text(sweep));
  output.publish();
  spdlog::info("wrote {}/ ({} frames)", output.final_dir().string(), frames);
  if (training.out_of_memory) {
    throw Error("out of memory while training the sweep; the models trained before are in " +
                output.final_dir().string() +
                " (fewer or smaller models, or fewer points, need less)");
  }
  return interrupted ? DemoOutcome::interrupted : DemoOutcome::completed;
}

}  // namespace fitreel::app
