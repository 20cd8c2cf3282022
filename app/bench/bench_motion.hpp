#pragma once

// fitreel-bench --motion: how much of each film shows nothing happening, per frame schedule.

#include <string>

namespace fitreel::bench {

/// Films the line demo, the net demo, the README's cubic program and a 32-seed x 2-rate net
/// sweep at 1280x720 with each schedule (into `folder`), and prints the share of frame steps
/// in which the model's curve moved less than a pixel (Film::still_steps).
void print_motion(const std::string& folder);

}  // namespace fitreel::bench
