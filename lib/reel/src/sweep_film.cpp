#include <fitreel/reel/sweep_film.hpp>

#include "film_place.hpp"
#include "motion_pass.hpp"

#include <fitreel/error.hpp>
#include <fitreel/render/fit_plot.hpp>
#include <fitreel/render/frame_sink.hpp>
#include <fitreel/render/loss_chart.hpp>
#include <fitreel/schedule.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <iterator>
#include <optional>

namespace fitreel {

namespace fs = std::filesystem;

namespace {

const Dataset& data_of(const std::vector<Dataset>& data, size_t k) {
  return data.size() == 1 ? data[0] : data[k];
}

bool trained(const TrainResult& run) { return run.epochs_run > 0; }

// NaN for a run that diverged or never trained: such runs rank last.
double final_loss(const TrainResult& run) {
  return trained(run) && !run.diverged_at_epoch ? run.losses.last() : NAN;
}

// `count` of `members` spread evenly over them ranked by final loss (best first, diverged and
// untrained last), so the panels show the whole range of outcomes; all of them, in their own
// order, when they are no more than `count`.
std::vector<size_t> spread_over_outcomes(std::vector<size_t> members,
                                         const std::vector<TrainResult>& runs, size_t count) {
  if (members.size() <= count) {
    return members;
  }
  std::stable_sort(members.begin(), members.end(), [&](size_t a, size_t b) {
    const double la = final_loss(runs[a]);
    const double lb = final_loss(runs[b]);
    return std::isfinite(la) && (!std::isfinite(lb) || la < lb);
  });
  std::vector<size_t> picked;
  for (size_t i = 0; i < count; ++i) {
    picked.push_back(members[count == 1 ? 0 : i * (members.size() - 1) / (count - 1)]);
  }
  return picked;
}

// The distinct rates of a batch, ascending, and which of them each model trains at.
struct Rates {
  std::vector<double> values;
  std::vector<size_t> of_model;
};
Rates rates_of(const std::vector<double>& lrs, size_t models) {
  Rates rates;
  rates.values = lrs;
  std::sort(rates.values.begin(), rates.values.end());
  rates.values.erase(std::unique(rates.values.begin(), rates.values.end()), rates.values.end());
  for (size_t k = 0; k < models; ++k) {
    const double lr = lrs[lrs.size() == 1 ? 0 : k];
    rates.of_model.push_back(static_cast<size_t>(
        std::lower_bound(rates.values.begin(), rates.values.end(), lr) - rates.values.begin()));
  }
  return rates;
}

constexpr size_t kMostRateColumns = 8;
constexpr size_t kNoPanel = static_cast<size_t>(-1);  // an empty cell of the grid

// The grid's cells, row by row. With 2 to 8 rates, each rate's models spread over their
// outcomes (best first), laid out in blocks of one column per rate, ascending, so rates read
// left to right in every row; as many blocks side by side as keep the panels nearest 16:9 in a
// frame of `size`. Otherwise the models spread over all outcomes. Empty cells hold kNoPanel.
struct Grid {
  size_t columns = 0;
  std::vector<size_t> cells;
};
Grid grid_of(const std::vector<TrainResult>& runs, const Rates& rates, size_t most, cv::Size size) {
  std::vector<size_t> all(runs.size());
  for (size_t k = 0; k < runs.size(); ++k) all[k] = k;
  const size_t count = rates.values.size();
  if (count < 2 || count > kMostRateColumns || count > most) {
    Grid grid;
    grid.cells = spread_over_outcomes(all, runs, most);
    grid.columns = static_cast<size_t>(render::grid_layout(grid.cells.size(), size).columns);
    return grid;
  }
  std::vector<std::vector<size_t>> by_rate(count);
  for (size_t k : all) by_rate[rates.of_model[k]].push_back(k);
  size_t per_rate = 0;
  for (auto& members : by_rate) {
    members = spread_over_outcomes(members, runs, most / count);
    per_rate = std::max(per_rate, members.size());
  }
  // Blocks side by side: the count whose panels' shape is nearest 16:9.
  size_t blocks = 1;
  double best_misfit = INFINITY;
  for (size_t b = 1; b <= per_rate; ++b) {
    const double rows = std::ceil(static_cast<double>(per_rate) / static_cast<double>(b));
    const double shape = (size.width / static_cast<double>(b * count)) / (size.height / rows);
    const double misfit = std::abs(std::log(shape / (16.0 / 9.0)));
    if (misfit < best_misfit) {
      best_misfit = misfit;
      blocks = b;
    }
  }
  const size_t rows = (per_rate + blocks - 1) / blocks;
  Grid grid{blocks * count, std::vector<size_t>(rows * blocks * count, kNoPanel)};
  for (size_t r = 0; r < count; ++r) {
    for (size_t j = 0; j < by_rate[r].size(); ++j) {
      grid.cells[(j / blocks) * grid.columns + (j % blocks) * count + r] = by_rate[r][j];
    }
  }
  return grid;
}

// The snapshot a run shows at `epoch`: the last one at or before it (a run that diverged or
// stopped keeps showing where it ended).
const Snapshot* snapshot_at(const std::vector<Snapshot>& snapshots, int64_t epoch) {
  const Snapshot* shown = nullptr;
  for (const Snapshot& s : snapshots) {
    if (s.epoch > epoch) {
      break;
    }
    shown = &s;
  }
  return shown;
}

// What a panel needs of a snapshot: the parameters are not drawn in a sweep's panels, and
// 256 models' worth of them would be most of the memory.
Snapshot panel_snapshot(const Snapshot& full) {
  Snapshot kept;
  kept.epoch = full.epoch;
  kept.loss = full.loss;
  kept.curve = full.curve;
  kept.final = full.final;
  return kept;
}

// "training loss of 64 models, trained in one batch".
std::string chart_title(const std::string& first_words, const BatchedResult& result) {
  const size_t count = result.runs.size();
  std::string title = "training loss of " + std::to_string(count) + " models";
  if (result.models_batched == static_cast<int64_t>(count) &&
      result.batch_size == static_cast<int64_t>(count)) {
    title += ", trained in one batch";
  } else if (result.models_batched > 0) {
    title += ", trained in batches of up to " + std::to_string(result.batch_size);
  }
  return first_words.empty() ? title : first_words + ": " + title;
}

// The loss of `run` at `epoch`: its latest kept loss at or before it; NaN past its last epoch.
double loss_at(const TrainResult& run, int64_t epoch, const std::vector<EpochLoss>& kept) {
  if (epoch >= run.epochs_run || kept.empty()) {
    return NAN;
  }
  const auto after =
      std::upper_bound(kept.begin(), kept.end(), epoch,
                       [](int64_t e, const EpochLoss& point) { return e < point.epoch; });
  return after == kept.begin() ? kept.front().loss : std::prev(after)->loss;
}

// The median of `members`' losses at each epoch of `at`, with the lowest and highest as a band
// (finite losses only; an epoch none of them has is left out).
render::LossSeries group_median(const std::vector<TrainResult>& runs,
                                const std::vector<size_t>& members,
                                const std::vector<int64_t>& at) {
  std::vector<std::vector<EpochLoss>> kept;
  for (size_t k : members) kept.push_back(runs[k].losses.points());
  render::LossSeries median;
  std::vector<double> values;
  for (int64_t epoch : at) {
    values.clear();
    for (size_t m = 0; m < members.size(); ++m) {
      const double loss = loss_at(runs[members[m]], epoch, kept[m]);
      if (std::isfinite(loss)) values.push_back(loss);
    }
    if (values.empty()) continue;
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    const double middle = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
    median.points.push_back({epoch, middle});
    median.low.push_back({epoch, values.front()});
    median.high.push_back({epoch, values.back()});
  }
  return median;
}

// Where a run's curve ends: its last finite loss.
std::optional<render::LossPoint> last_finite_loss(const TrainResult& run) {
  const std::vector<EpochLoss> kept = run.losses.points();
  for (auto point = kept.rbegin(); point != kept.rend(); ++point) {
    if (std::isfinite(point->loss)) return render::LossPoint{point->epoch, point->loss};
  }
  return std::nullopt;
}

// What every panel shows, in one row above the grid instead of a legend in each panel.
std::vector<render::LegendEntry> shared_legend(const render::FitScene& scene) {
  using Mark = render::LegendEntry::Mark;
  const bool held_out = !scene.test.x.empty();
  std::vector<render::LegendEntry> legend{
      {held_out ? "training data" : "data", render::colors::kData, Mark::square}};
  if (held_out) {
    legend.push_back({"held-out test data", render::colors::kTest, Mark::hollow_square});
  }
  if (scene.truth) {
    legend.push_back({scene.truth_label, render::colors::kTruth, Mark::line});
  }
  legend.push_back({"model", render::colors::kModel, Mark::line});
  return legend;
}

}  // namespace

SweepFilmFiles SweepFilmFiles::beside(const fs::path& video) {
  SweepFilmFiles files;
  files.video = detail::without_trailing_slash(video);
  files.loss_chart = (files.video.parent_path() / files.video.stem()).concat(".png");
  return files;
}

struct SweepFilm::State {
  detail::FilmPlace place;
  SweepFilmFiles files;
  SweepFilmOptions options;
  std::unique_ptr<render::FrameSink> sink;
  std::string warning;
  std::vector<size_t> shown;
  bool used = false;
  std::vector<int64_t> filmed_epochs;  // the epochs the video shows (write_video() picks them)
  detail::StillSteps still;

  void open(SweepFilmFiles chosen, SweepFilmOptions chosen_options) {
    if (chosen_options.most_panels < 1) {
      throw InputError("SweepFilmOptions::most_panels is 0: show at least 1 panel");
    }
    chosen_options.look.show = false;  // a grid is drawn after training, not shown live
    detail::FilmVideo video = place.open(chosen.video, {&chosen.loss_chart}, chosen_options.look);
    sink = std::move(video.sink);
    warning = std::move(video.warning);
    if (chosen_options.look.title.empty() && !chosen.video.empty()) {
      chosen_options.look.title = chosen.video.stem().string();
    }
    files = std::move(chosen);
    options = std::move(chosen_options);
  }

  std::string label(size_t k) const {
    return options.labels.empty() ? "model " + std::to_string(k) : options.labels[k];
  }

  void write_video(const std::vector<ModelRef>& models, const std::vector<Dataset>& data,
                   const torch::Tensor& curve_x, int64_t epochs, const BatchedResult& result,
                   const std::vector<std::vector<Snapshot>>& snapshots,
                   const std::vector<int64_t>& frame_at, const Grid& grid);
  // How the loss chart spreads its epochs: the schedule's, or for an adaptive one, as the
  // frames the video took spread (linear when there is no video).
  Schedule loss_spread(int64_t epochs) const {
    const Schedule schedule = options.look.schedule;
    return schedule != Schedule::adaptive ? schedule : detail::spread_of(filmed_epochs, epochs);
  }
  void write_loss_chart(const BatchedResult& result, const Rates& rates, int64_t epochs) const;
};

void SweepFilm::State::write_video(const std::vector<ModelRef>& models,
                                   const std::vector<Dataset>& data, const torch::Tensor& curve_x,
                                   int64_t epochs, const BatchedResult& result,
                                   const std::vector<std::vector<Snapshot>>& snapshots,
                                   const std::vector<int64_t>& frame_at, const Grid& grid) {
  const FilmOptions& look = options.look;
  const cv::Size size(look.width, look.height);
  const double text_scale = size.height / 720.0;
  const int legend_height = std::max(2, static_cast<int>(std::lround(44 * text_scale))) / 2 * 2;
  const cv::Rect grid_area(0, legend_height, size.width, size.height - legend_height);
  const render::GridLayout layout =
      render::grid_layout(grid.cells.size(), grid_area.size(), static_cast<int>(grid.columns));
  const render::Layers panel_layers = render::Layers::all().without(render::Layer::side_panel);
  std::vector<std::optional<render::FitPlot>> panels(grid.cells.size());
  std::vector<render::LegendEntry> legend;
  for (size_t p = 0; p < grid.cells.size(); ++p) {
    const size_t k = grid.cells[p];
    if (k == kNoPanel) continue;
    render::FitScene scene = film_scene(models[k], data_of(data, k), curve_x, epochs, look);
    scene.title = label(k);
    scene.legend = false;  // one legend above all panels instead
    if (legend.empty()) legend = shared_legend(scene);
    panels[p].emplace(std::move(scene), layout.cell, panel_layers);
  }
  // What panel p shows at `epoch`.
  const auto panel_frame = [&](size_t p, int64_t epoch) {
    const size_t k = grid.cells[p];
    const TrainResult& run = result.runs[k];
    render::FitFrame drawn;
    const Snapshot* s = trained(run) ? snapshot_at(snapshots[k], epoch) : nullptr;
    if (s) {  // (an untrained run's snapshots, from a batch that ran out of memory, are not)
      drawn = {s->epoch, s->loss, {}, s->curve};
    }
    if (run.diverged_at_epoch && epoch >= *run.diverged_at_epoch) {
      drawn.note = "diverged at epoch " + std::to_string(*run.diverged_at_epoch);
    } else if (!trained(run)) {
      drawn.note = run_outcome(result, k);
    }
    return drawn;
  };
  // Where every panel's curve is drawn at `epoch`, one panel after another.
  const auto grid_rows = [&](int64_t epoch) {
    std::vector<double> rows;
    for (size_t p = 0; p < grid.cells.size(); ++p) {
      if (grid.cells[p] == kNoPanel) continue;
      const render::FitFrame drawn = panel_frame(p, epoch);
      const std::vector<double> panel =
          drawn.curve.empty() ? std::vector<double>(static_cast<size_t>(curve_x.size(0)), NAN)
                              : panels[p]->curve_rows(drawn.curve, /*side_panel=*/false);
      rows.insert(rows.end(), panel.begin(), panel.end());
    }
    return rows;
  };
  // Adaptive: frame_at are probes, and the frames go where the panels move; the probes' rows,
  // needed all at once to pick, are kept for counting still steps.
  const bool adaptive = look.schedule == Schedule::adaptive;
  std::vector<std::vector<double>> probe_rows;
  if (adaptive) {
    probe_rows.reserve(frame_at.size());
    for (int64_t epoch : frame_at) probe_rows.push_back(grid_rows(epoch));
  }
  filmed_epochs = adaptive ? frame_epochs_by_motion(frame_at, probe_rows, look.frames) : frame_at;
  std::vector<cv::Mat> images(grid.cells.size());
  cv::Mat frame(size, CV_8UC3);
  size_t probe = 0;  // filmed_epochs is a part of frame_at, in the same order
  for (int64_t epoch : filmed_epochs) {
    if (adaptive) {
      while (frame_at.at(probe) != epoch) ++probe;  // .at: never past the end
      still.add(std::move(probe_rows[probe++]));
    } else {
      still.add(grid_rows(epoch));
    }
    for (size_t p = 0; p < grid.cells.size(); ++p) {
      if (grid.cells[p] == kNoPanel) continue;
      panels[p]->draw(panel_frame(p, epoch), images[p], panel_layers);
    }
    frame.setTo(render::colors::kBackground);
    render::draw_legend_row(frame, {0, 0, size.width, legend_height}, legend, text_scale);
    cv::Mat below = frame(grid_area);
    render::tile(images, layout, grid_area.size(), below);
    sink->write(frame);
  }
  sink->finish();
}

// Every model's loss coloured by its rate. Where several models share a rate, the rate's median
// with a band from the lowest to the highest loss, labelled by the rate; a dot marks the best
// model's last loss and a cross each diverged model's last finite one.
void SweepFilm::State::write_loss_chart(const BatchedResult& result, const Rates& rates,
                                        int64_t epochs) const {
  const Schedule spread = loss_spread(epochs);
  const FilmOptions& look = options.look;
  const size_t count = result.runs.size();
  const int64_t points_per_curve = count <= options.most_panels ? 1000 : 200;
  std::vector<std::vector<size_t>> by_rate(rates.values.size());
  for (size_t k = 0; k < count; ++k) by_rate[rates.of_model[k]].push_back(k);
  const bool medians = std::any_of(by_rate.begin(), by_rate.end(),
                                   [](const auto& members) { return members.size() > 1; });
  std::vector<render::LossSeries> series;
  const auto color_of = [&](size_t k) { return render::series_color(rates.of_model[k]); };
  if (medians) {
    const std::vector<int64_t> at = frame_epochs(epochs, points_per_curve, spread);
    for (size_t r = 0; r < by_rate.size(); ++r) {
      render::LossSeries median = group_median(result.runs, by_rate[r], at);
      char rate[64];
      std::snprintf(rate, sizeof rate, "lr %g", rates.values[r]);
      median.label = by_rate[r].size() == 1 ? std::string(rate)
                                            : std::string(rate) + ": median and range of " +
                                                  std::to_string(by_rate[r].size());
      median.color = render::series_color(r);
      median.thickness = 3;
      series.push_back(std::move(median));
    }
  } else {
    for (size_t k = 0; k < count; ++k) {
      series.push_back({count <= options.most_panels ? label(k) : std::string(), color_of(k),
                        loss_points(result.runs[k].losses, spread, points_per_curve)});
    }
  }
  // The best model, and the diverged ones, marked where their curves end.
  size_t best = count;
  size_t diverged = 0;
  for (size_t k = 0; k < count; ++k) {
    const double loss = final_loss(result.runs[k]);
    if (std::isfinite(loss) && (best == count || loss < final_loss(result.runs[best]))) best = k;
    diverged += result.runs[k].diverged_at_epoch ? 1 : 0;
  }
  if (best < count) {
    const TrainResult& run = result.runs[best];
    render::LossSeries mark{
        "best: " + label(best), color_of(best), {{run.epochs_run - 1, run.losses.last()}}};
    mark.end_mark = render::LossSeries::EndMark::dot;
    series.push_back(std::move(mark));
  }
  for (size_t k = 0, marked = 0; k < count; ++k) {
    const std::optional<render::LossPoint> last = last_finite_loss(result.runs[k]);
    if (!result.runs[k].diverged_at_epoch || !last) continue;
    render::LossSeries mark{
        marked++ == 0 ? "diverged (" + std::to_string(diverged) + ")" : "", color_of(k), {*last}};
    mark.end_mark = render::LossSeries::EndMark::cross;
    series.push_back(std::move(mark));
  }
  place.write_png(
      files.loss_chart,
      render::draw_loss_figure(
          {look.width, look.height}, chart_title(look.title, result), epochs,
          spread == Schedule::log ? render::Scale::log1p : render::Scale::linear, series));
}

SweepFilm::SweepFilm(const fs::path& video, SweepFilmOptions options)
    : SweepFilm(SweepFilmFiles::beside(video), std::move(options)) {}

SweepFilm::SweepFilm(SweepFilmFiles files, SweepFilmOptions options)
    : state_(std::make_unique<State>()) {
  state_->open(std::move(files), std::move(options));
}

SweepFilm::SweepFilm(const files::Folder& into, SweepFilmFiles files, SweepFilmOptions options)
    : state_(std::make_unique<State>()) {
  state_->place = detail::FilmPlace(into);
  state_->open(std::move(files), std::move(options));
}

SweepFilm::~SweepFilm() {
  try {
    if (state_ && state_->sink) {
      state_->sink->finish();  // what was written plays
    }
  } catch (...) {  // a destructor must not throw; train_batched() reports encoding errors
  }
}

const SweepFilmFiles& SweepFilm::files() const { return state_->files; }
const SweepFilmOptions& SweepFilm::options() const { return state_->options; }
const std::string& SweepFilm::warning() const { return state_->warning; }
int64_t SweepFilm::frames() const { return state_->sink ? state_->sink->frames() : 0; }
const std::vector<size_t>& SweepFilm::shown() const { return state_->shown; }
const std::vector<int64_t>& SweepFilm::epochs() const { return state_->filmed_epochs; }
int64_t SweepFilm::still_steps() const { return state_->still.count(); }

BatchedResult train_batched(const std::vector<ModelRef>& models, const std::vector<Dataset>& data,
                            const BatchedOptions& options, SweepFilm& film,
                            const BatchedCallbacks& callbacks) {
  SweepFilm::State& state = *film.state_;
  const FilmOptions& look = state.options.look;
  if (state.used) {
    throw InputError("this SweepFilm has filmed a batch already: make a new one for each batch");
  }
  if (!state.options.labels.empty() && state.options.labels.size() != models.size()) {
    throw InputError("SweepFilmOptions::labels has " + std::to_string(state.options.labels.size()) +
                     " labels for " + std::to_string(models.size()) +
                     " models: give one per model, or none");
  }
  if (data.empty()) {
    throw InputError("train_batched got no datasets: pass one Dataset for all, or one per model");
  }
  BatchedOptions filmed = options;
  if (!filmed.curve_x.defined() || filmed.curve_x.numel() == 0) {
    filmed.curve_x = curve_inputs(data[0], look.curve_points);
  }
  if (state.sink && filmed.snapshot_epochs.empty()) {
    // Adaptive: snapshots at probes (a few per frame), the frames picked among them after.
    filmed.snapshot_epochs =
        look.schedule == Schedule::adaptive
            ? motion_probe_epochs(options.epochs, std::max<int64_t>(512, 2 * look.frames))
            : frame_epochs(options.epochs, look.frames, look.schedule);
  }
  std::vector<std::vector<Snapshot>> snapshots(models.size());
  BatchedCallbacks watched = callbacks;
  watched.on_snapshot = [&](int64_t k, const Snapshot& snapshot) {
    if (state.sink) {
      snapshots.at(static_cast<size_t>(k)).push_back(panel_snapshot(snapshot));
    }
    if (callbacks.on_snapshot) {
      callbacks.on_snapshot(k, snapshot);
    }
  };
  state.used = true;
  BatchedResult result;
  try {
    result = train_batched(models, data, filmed, watched);
  } catch (const InputError&) {
    state.used = false;  // refused before anything trained: the film is still unused
    throw;
  }
  const Rates rates = rates_of(options.lrs, models.size());
  const Grid grid =
      grid_of(result.runs, rates, state.options.most_panels, {look.width, look.height});
  state.shown.clear();
  std::copy_if(grid.cells.begin(), grid.cells.end(), std::back_inserter(state.shown),
               [](size_t k) { return k != kNoPanel; });

  detail::WritesEachOnItsOwn writes;
  if (state.sink) {
    writes.attempt([&] {
      state.write_video(models, data, filmed.curve_x, options.epochs, result, snapshots,
                        filmed.snapshot_epochs, grid);
    });
  }
  if (!state.files.loss_chart.empty()) {
    writes.attempt([&] { state.write_loss_chart(result, rates, options.epochs); });
  }
  writes.rethrow_first();
  return result;
}

std::string run_outcome(const BatchedResult& result, size_t k) {
  const TrainResult& run = result.runs.at(k);
  if (!trained(run)) {
    return result.out_of_memory ? "not trained (out of memory)" : "not trained (interrupted)";
  }
  if (run.diverged_at_epoch) {
    return "diverged at epoch " + std::to_string(*run.diverged_at_epoch);
  }
  char loss[64];
  std::snprintf(loss, sizeof loss, "final loss %.6g", static_cast<double>(run.losses.last()));
  return run.interrupted ? std::string(loss) + " (interrupted after " +
                               std::to_string(run.epochs_run) + " epochs)"
                         : loss;
}

}  // namespace fitreel
