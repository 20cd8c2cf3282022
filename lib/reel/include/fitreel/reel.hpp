#pragma once

// fitreel::reel in one include: filming a training run (Film, train(..., film)) and reading its
// loss CSVs back.

#include <fitreel/reel/film.hpp>
#include <fitreel/reel/loss_csv.hpp>
