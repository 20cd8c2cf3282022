#include "sweep.hpp"

#include "json_text.hpp"
#include "output.hpp"
#include "progress.hpp"
#include "scene.hpp"
#include "setup.hpp"
#include "signals.hpp"

#include <fitreel/device.hpp>
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

// One learning rate's run, and what the video needs of it.
struct SweepRun {
  double lr = 0.0;
  TrainResult result;
  std::vector<Snapshot> snapshots;  // at the shared frame epochs (and where it stopped)
};

std::string rate_label(double lr) { return fmt::format("lr {:g}", lr); }

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

}  // namespace

DemoOutcome run_sweep(const RunOptions& options, const XyPoints* file, DemoOutput& output) {
  const std::string demo = options.sweep_demo;
  std::vector<SweepRun> runs;
  std::optional<DemoSetup> first_setup;
  std::vector<int64_t> frame_at;
  torch::Tensor curve_x;

  for (double lr : options.lrs) {
    RunOptions single = options;
    single.lr = lr;
    DemoSetup setup = make_setup(demo, single, file);  // same seed, same data, every rate
    torch::nn::Sequential model = make_model(setup);
    if (!first_setup) {
      first_setup = setup;
      curve_x = curve_inputs(setup.data);
      frame_at = frame_epochs(setup.epochs, options.frames, setup.schedule);
      spdlog::info("sweep {}: {} rates, {} epochs each, {} on {}", demo, options.lrs.size(),
                   setup.epochs, describe_data(setup, options), device_name(setup.device));
    }
    TrainOptions train_options = train_options_for(setup, single);
    train_options.curve_x = curve_x;
    if (options.video != VideoChoice::none) {  // snapshots only feed the grid video
      train_options.snapshot_epochs = frame_at;
    }
    SweepRun run;
    run.lr = lr;
    ProgressLine progress(demo + " " + rate_label(lr), !options.quiet);
    TrainCallbacks callbacks;
    callbacks.on_snapshot = [&](const Snapshot& s) { run.snapshots.push_back(s); };
    callbacks.on_progress = [&](const Progress& p) { progress.update(p); };
    callbacks.should_stop = [] { return stop_signal() != 0; };
    run.result = train(model, setup.data, train_options, callbacks);
    progress.finish();
    if (run.result.diverged_at_epoch) {
      spdlog::warn("{}: diverged at epoch {}; the sweep goes on", rate_label(lr),
                   *run.result.diverged_at_epoch);
    }
    runs.push_back(std::move(run));
    if (stop_signal() != 0) {
      break;
    }
  }
  const DemoSetup& setup = *first_setup;

  // The grid video: one small fit panel per rate, every panel at the same epoch.
  const cv::Size size(options.width, options.height);
  const render::GridLayout layout = render::grid_layout(runs.size(), size);
  const render::Layers panel_layers = render::Layers::all().without(render::Layer::side_panel);
  std::vector<render::FitPlot> panels;
  torch::nn::Sequential names_model = make_model(setup);  // parameter names only
  const render::FitScene shared_scene = film_scene(names_model, setup.data, curve_x, setup.epochs,
                                                   film_options_for(setup, options, names_model));
  for (const SweepRun& run : runs) {
    render::FitScene scene = shared_scene;
    scene.title = rate_label(run.lr);
    panels.emplace_back(std::move(scene), layout.cell, panel_layers);
  }
  std::optional<std::string> video_path;
  int64_t frames = 0;
  if (auto sink = open_frame_sink(options, output, "sweep-" + demo, video_path)) {
    std::vector<cv::Mat> images(runs.size());
    cv::Mat frame;
    for (int64_t epoch : frame_at) {
      for (size_t i = 0; i < runs.size(); ++i) {
        render::FitFrame shown;
        if (const Snapshot* s = snapshot_at(runs[i], epoch)) {
          shown = {s->epoch, s->loss, s->params, s->curve};
        }
        const auto& diverged = runs[i].result.diverged_at_epoch;
        if (diverged && epoch >= *diverged) {
          shown.note = "diverged at epoch " + std::to_string(*diverged);
        }
        panels[i].draw(shown, images[i], panel_layers);
      }
      render::tile(images, layout, size, frame);
      sink->write(frame);
    }
    sink->finish();
    frames = sink->frames();
  }

  // sweep.png: every rate's loss curve on one log-scale chart.
  std::vector<render::LossSeries> series;
  for (size_t i = 0; i < runs.size(); ++i) {
    render::LossSeries curve{
        rate_label(runs[i].lr) + (runs[i].result.diverged_at_epoch ? " (diverged)" : ""),
        render::series_color(i),
        {}};
    curve.points = loss_points(runs[i].result.losses, setup.schedule);
    series.push_back(std::move(curve));
  }
  cv::Mat chart(size, CV_8UC3, render::colors::kBackground);
  const double text_scale = size.height / 720.0;
  render::draw_text(chart, "sweep " + demo + ": training loss per learning rate",
                    {static_cast<int>(90 * text_scale), static_cast<int>(45 * text_scale)},
                    {1.5 * text_scale, render::colors::kInk, true});
  render::draw_loss_chart(
      chart,
      cv::Rect(static_cast<int>(110 * text_scale), static_cast<int>(80 * text_scale),
               size.width - static_cast<int>(150 * text_scale),
               size.height - static_cast<int>(175 * text_scale)),
      setup.epochs, setup.schedule == Schedule::log ? render::Scale::log1p : render::Scale::linear,
      series, text_scale);
  render::write_png(output.staging() / "sweep.png", chart);

  nlohmann::ordered_json json_runs = nlohmann::ordered_json::array();
  double train_seconds = 0.0;
  bool interrupted = false;
  for (const SweepRun& run : runs) {
    const auto& r = run.result;
    train_seconds += r.seconds;
    interrupted = interrupted || r.interrupted;
    const double final_loss = r.losses.last();
    json_runs.push_back(
        {{"lr", run.lr},
         {"final_loss", std::isfinite(final_loss) ? nlohmann::ordered_json(final_loss)
                                                  : nlohmann::ordered_json(nullptr)},
         {"final_params", r.final_params},
         {"diverged", r.diverged_at_epoch.has_value()},
         {"diverged_at_epoch", r.diverged_at_epoch ? nlohmann::ordered_json(*r.diverged_at_epoch)
                                                   : nlohmann::ordered_json(nullptr)},
         {"epochs_run", r.epochs_run},
         {"train_seconds", r.seconds}});
    spdlog::info("{:>10}: final loss {:.6g}{}", rate_label(run.lr), final_loss,
                 r.diverged_at_epoch ? " (diverged)" : "");
  }
  const nlohmann::ordered_json sweep = {
      {"demo", demo},
      {"seed", options.seed},
      {"epochs", setup.epochs},
      {"optimizer", std::string(optimizer_name(setup.optimizer))},
      {"model", setup.architecture},
      {"device", device_name(setup.device)},
      {"runs", json_runs},
      {"train_seconds", train_seconds},
      {"interrupted", interrupted},
      {"video", video_path ? nlohmann::ordered_json(*video_path) : nlohmann::ordered_json(nullptr)},
      {"frames", frames},
      {"fitreel_version", kVersion},
      {"command", options.command_line}};
  files::write_file_atomically(output.staging() / "sweep.json", json_text(sweep));
  output.publish();
  spdlog::info("wrote {}/ ({} frames)", output.final_dir().string(), frames);
  return interrupted ? DemoOutcome::interrupted : DemoOutcome::completed;
}

}  // namespace fitreel::app
