#include "sweep.hpp"

#include "sweep_runs.hpp"

#include "json_text.hpp"
#include "output.hpp"
#include "scene.hpp"
#include "setup.hpp"
#include "signals.hpp"

#include <fitreel/checkpoint.hpp>
#include <fitreel/device.hpp>
#include <fitreel/error.hpp>
#include <fitreel/files/atomic_file.hpp>
#include <fitreel/reel/sweep_film.hpp>
#include <fitreel/version.hpp>

#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

namespace fitreel::app {

namespace {

// A run's final parameters for sweep.json: inline while small, else the name of a checkpoint
// (models/<index>.pt in the result folder) written now.
nlohmann::ordered_json params_or_file(const SweepPlan& plan, const BatchedResult& result,
                                      size_t index, const DemoOutput& output) {
  const TrainResult& run = result.runs[index];
  int64_t count = 0;
  for (const auto& tensor : run.final_params) {
    count += static_cast<int64_t>(tensor.size());
  }
  if (run.epochs_run == 0) {  // never trained: no parameters to report
    return count <= kMostInlineParameters ? nlohmann::ordered_json::array()
                                          : nlohmann::ordered_json(nullptr);
  }
  if (count <= kMostInlineParameters) {
    return run.final_params;
  }
  if (output.staging().type_of("models") == files::EntryType::none) {
    output.staging().make_folder("models");
  }
  const std::string name = "models/" + std::to_string(index) + ".pt";
  save_checkpoint(plan.models[index], plan.runs[index].setup.architecture, output.staging(), name);
  return output.final_path(name).string();
}

// NaN for a run that diverged or never trained.
nlohmann::ordered_json final_loss(const TrainResult& run) {
  const double loss = run.epochs_run > 0 ? run.losses.last() : NAN;
  return std::isfinite(loss) ? nlohmann::ordered_json(loss) : nlohmann::ordered_json(nullptr);
}

}  // namespace

DemoOutcome run_sweep(const RunOptions& options, const XyPoints* file, DemoOutput& output) {
  const std::string demo(demo_name(options.sweep_demo));
  SweepPlan plan = plan_sweep(options.sweep_demo, options, file);
  const std::vector<SweepRun>& runs = plan.runs;
  const DemoSetup& setup = runs.front().setup;  // epochs, optimizer, device: one for all

  SweepFilmOptions look;
  look.look = film_options_for(setup, options, plan.models.front());
  look.look.title = "sweep " + demo;
  look.look.show = false;
  for (const SweepRun& run : runs) {
    look.labels.push_back(run_label(run, options));
  }
  SweepFilmFiles files;
  files.video = video_name_for("sweep-" + demo, options);
  files.loss_chart = "sweep.png";
  SweepFilm film(output.staging(), files, look);
  if (!film.warning().empty()) {
    spdlog::warn("{}", film.warning());
  }

  const BatchedOptions batched = batched_options_for(plan, options);
  const bool together = supports_batched_training(plan.models.front()) &&
                        batched.path != TrainPath::exact &&
                        batched.gradients != Gradients::autograd;
  spdlog::info("sweep {}: {} models ({} seed(s) x {} rate(s)), {} epochs each, {} on {}", demo,
               runs.size(), runs.size() / options.lrs.size(), options.lrs.size(), setup.epochs,
               together ? "batched" : "one after another", device_name(setup.device));
  BatchedCallbacks callbacks;
  callbacks.should_stop = [] { return stop_signal() != 0; };
  const BatchedResult result =
      train_batched(plan.model_refs(), plan.datasets(), batched, film, callbacks);
  const auto trained = std::count_if(result.runs.begin(), result.runs.end(),
                                     [](const TrainResult& run) { return run.epochs_run > 0; });
  if (together) {
    spdlog::info("sweep: trained in batches of up to {} models", result.batch_size);
  }
  if (result.out_of_memory) {
    spdlog::error("sweep: out of memory after {} of {} models; the {} trained are kept", trained,
                  runs.size(), trained);
  }
  const std::vector<size_t>& shown = film.shown();
  const bool labelled = runs.size() <= look.most_panels;

  output.choose_destination();  // sweep.json names where its video will be
  nlohmann::ordered_json json_runs = nlohmann::ordered_json::array();
  const bool interrupted = stop_signal() != 0 || result.interrupted;
  for (size_t i = 0; i < runs.size(); ++i) {
    const TrainResult& r = result.runs[i];
    const std::string outcome = run_outcome(result, i);
    if (r.diverged_at_epoch) {
      spdlog::warn("{}: diverged at epoch {}; the sweep goes on", run_label(runs[i], options),
                   *r.diverged_at_epoch);
    }
    json_runs.push_back(
        {{"seed", runs[i].seed},
         {"lr", runs[i].lr},
         {"trained", r.epochs_run > 0},
         {"outcome", outcome},
         {"final_loss", final_loss(r)},
         {"final_params", params_or_file(plan, result, i, output)},
         {"diverged", r.diverged_at_epoch.has_value()},
         {"diverged_at_epoch", r.diverged_at_epoch ? nlohmann::ordered_json(*r.diverged_at_epoch)
                                                   : nlohmann::ordered_json(nullptr)},
         {"epochs_run", r.epochs_run},
         {"train_seconds", r.seconds},
         {"in_video", std::find(shown.begin(), shown.end(), i) != shown.end()}});
    if (labelled || r.epochs_run == 0) {
      spdlog::info("{:>18}: {}", run_label(runs[i], options), outcome);
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
      {"batched", together},
      {"batch_size", together ? result.batch_size : int64_t{1}},
      {"runs", json_runs},
      {"train_seconds", result.seconds},
      {"interrupted", interrupted},
      {"video",
       film.files().video.empty()
           ? nlohmann::ordered_json(nullptr)
           : nlohmann::ordered_json(output.final_path(film.files().video.string()).string())},
      {"frames", film.frames()},
      {"fitreel_version", kVersion},
      {"command", options.command_line}};
  files::write_file_atomically(output.staging(), "sweep.json", json_text(sweep));
  output.publish();
  spdlog::info("wrote {}/ ({} frames)", output.final_dir().string(), film.frames());
  if (result.out_of_memory) {
    throw Error("out of memory while training the sweep; the models trained before are in " +
                output.final_dir().string() +
                " (fewer or smaller models, or fewer points, need less)");
  }
  return interrupted ? DemoOutcome::interrupted : DemoOutcome::completed;
}

}  // namespace fitreel::app
