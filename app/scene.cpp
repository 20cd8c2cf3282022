#include "scene.hpp"

#include <fitreel/reel/demo_look.hpp>

namespace fitreel::app {

FilmOptions film_options_for(const DemoSetup& setup, const RunOptions& options,
                             const torch::nn::Sequential& model) {
  FilmOptions film = setup.line ? demos::line_look() : demos::net_look(model);
  if (options.truth || options.data) {  // the line given, or none for a file's points
    film.truth = setup.truth ? render::Curve(*setup.truth) : render::Curve();
    film.truth_label = setup.truth_label;
  }
  film.frames = options.frames;
  film.schedule = setup.schedule;
  film.width = options.width;
  film.height = options.height;
  film.fps = options.fps;
  film.preset = options.preset;
  film.show = options.show;
  if (!options.units) {
    film.hidden_units = 0;
  }
  return film;
}

}  // namespace fitreel::app
