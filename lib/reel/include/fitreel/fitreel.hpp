#pragma once

// All of fitreel in one include (link fitreel::reel, which brings core and render): training
// any module, drawing, and filming a run. A project without OpenCV includes <fitreel/core.hpp>.

#include <fitreel/core.hpp>
#include <fitreel/reel.hpp>
#include <fitreel/render.hpp>

#include <torch/torch.h>
