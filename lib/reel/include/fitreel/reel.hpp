#pragma once

// fitreel::reel in one include: filming a training run (Film, train(..., film)).

#include <fitreel/reel/film.hpp>
