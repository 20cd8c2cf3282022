#pragma once

// fitreel::reel in one include: filming a training run (Film, train(..., film)) or a batch of
// runs (SweepFilm, train_batched(..., film)), the seed demos' look, and reading loss CSVs back.

#include <fitreel/reel/demo_look.hpp>
#include <fitreel/reel/film.hpp>
#include <fitreel/reel/loss_csv.hpp>
#include <fitreel/reel/sweep_film.hpp>
