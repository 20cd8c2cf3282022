#pragma once

// fitreel::render in one include: plots, the fit picture, loss charts, videos, frame sinks,
// the drawing pipeline and the live window. OpenCV and FFmpeg only (no LibTorch).

#include <fitreel/error.hpp>
#include <fitreel/files/atomic_file.hpp>
#include <fitreel/render/fit_plot.hpp>
#include <fitreel/render/frame_sink.hpp>
#include <fitreel/render/live_window.hpp>
#include <fitreel/render/loss_chart.hpp>
#include <fitreel/render/pipeline.hpp>
#include <fitreel/render/plot.hpp>
#include <fitreel/render/video.hpp>
